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
  { name: 'ode (rk45, tol 1e-5)', sampler: 'ode', settings: {} },
  { name: 'ddim η 0 (n 100)', sampler: 'ddim', settings: { n: 100 } },
  // η = 1 drops 4× more of Var(x₀ | x_t) per step than η = 0 (first order either way): at n 100
  // the VP covariance is 0.04 short, at n 200 the mixture's on VE 0.065.
  { name: 'ddim η 1 (n 300)', sampler: 'ddim', settings: { n: 300, eta: 1 } },
  { name: 'heun (n 25, NFE 49)', sampler: 'heun', settings: { n: 25 } },
  { name: 'dpmpp_2m (n 20)', sampler: 'dpmpp_2m', settings: { n: 20 } },
  { name: 'dpmpp_3m_sde η 1 (n 30)', sampler: 'dpmpp_3m_sde', settings: { n: 30 } },
  { name: 'adaptive_sde (atol 0.0078, rtol 0.05)', sampler: 'adaptive_sde', settings: {} }
]

export async function runCase(c: (typeof CASES)[number], score: ScoreFn, sde: Sde): Promise<{ x: Float32Array; res: SampleResult }> {
  const res = await getSampler(c.sampler).run(score, sde, { shape: [2], batchSize: N_SAMPLES, seed: 1, ...c.settings })
  const x = new Float32Array(await res.samples.data())
  res.samples.dispose()
  return { x, res }
}
