// One table of (sampler, settings) for the distribution-recovery tests, so the Gaussian and
// mixture files check exactly the same samplers with the same budgets.
import type { ScoreFn, Sde } from '../../src/engine/sde/types'
import { getSampler } from '../../src/engine/samplers'
import type { SampleResult } from '../../src/engine/samplers/types'

export const N_SAMPLES = 5000

export const CASES: { name: string; sampler: string; settings: Record<string, unknown> }[] = [
  { name: 'euler_maruyama (n 100)', sampler: 'euler_maruyama', settings: { n: 100 } },
  { name: 'reverse_diffusion (n 100)', sampler: 'reverse_diffusion', settings: { n: 100 } },
  { name: 'ancestral_sampling (n 100)', sampler: 'ancestral_sampling', settings: { n: 100 } },
  { name: 'pc: reverse diffusion + langevin snr 0.16 (n 100)', sampler: 'pc', settings: { n: 100, snr: 0.16 } },
  { name: 'pc: euler_maruyama + ald snr 0.16 (n 100)', sampler: 'pc', settings: { n: 100, predictor: 'euler_maruyama', corrector: 'ald', snr: 0.16 } },
  { name: 'ald (L 10 × T 20, ε 1e-4)', sampler: 'ald', settings: { n: 10, stepsPerLevel: 20, stepLr: 1e-4 } },
  { name: 'ode (rk45, tol 1e-5)', sampler: 'ode', settings: {} }
]

export async function runCase(c: (typeof CASES)[number], score: ScoreFn, sde: Sde): Promise<{ x: Float32Array; res: SampleResult }> {
  const res = await getSampler(c.sampler).run(score, sde, { shape: [2], batchSize: N_SAMPLES, seed: 1, ...c.settings })
  const x = new Float32Array(await res.samples.data())
  res.samples.dispose()
  return { x, res }
}
