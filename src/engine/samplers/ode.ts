// Probability-flow ODE sampler (score_sde's get_ode_sampler, the tutorial's ode_sampler):
// dx/dt = f − ½g²s integrated from T to eps. Like scipy.solve_ivp in the reference, the state
// lives on the JS side in float64 while the model runs in float32; the error norm is taken
// over the whole batch as one vector, as the reference does, so NFE is per batch.
// method 'rk45' is adaptive Dormand–Prince 5(4) with rtol/atol (reference: 1e-5 both);
// 'rk4' and 'euler' take n fixed steps (NFE 4n and n). With `denoise`, one reverse-diffusion
// step at eps follows, keeping its mean (score_sde), for one more evaluation.
import { tf } from '../tf'
import type { ScoreFn, Sde } from '../sde/types'
import { definedOnly } from './pc'
import { ReverseDiffusionPredictor } from './predictors/reverse-diffusion'
import { Progress } from './progress'
import { initialX, resolveCommon } from './setup'
import { dopri5 } from './solvers/dopri5'
import { solveFixedStep, type FixedStepMethod } from './solvers/fixed-step'
import type { SampleResult, SamplerOptions } from './types'

export type OdeMethod = 'rk45' | FixedStepMethod

export interface OdeSettings {
  method: OdeMethod
  rtol: number
  atol: number
  /** x(T) = temperature · (a prior sample): the flow is deterministic, so this scales the prior it maps. */
  temperature: number
}

export const ODE_DEFAULTS: OdeSettings = { method: 'rk45', rtol: 1e-5, atol: 1e-5, temperature: 1 }

/** The probability-flow drift as a Float64Array → Float64Array function for the solvers. */
export function flowRhs(scoreFn: ScoreFn, sde: Sde, fullShape: number[], count: () => void) {
  const rsde = sde.reverse(scoreFn, true)
  return async (t: number, y: Float64Array): Promise<Float64Array> => {
    const drift = tf.tidy(() => rsde.sde(tf.tensor(Float32Array.from(y), fullShape), tf.fill([fullShape[0]], t) as tf.Tensor1D).drift)
    try {
      count()
      return Float64Array.from(await drift.data())
    } finally {
      drift.dispose()
    }
  }
}

export async function sampleOde(scoreFn: ScoreFn, sde: Sde, opts: SamplerOptions & Partial<OdeSettings>): Promise<SampleResult> {
  const s = { ...ODE_DEFAULTS, ...definedOnly(opts) }
  const r = resolveCommon(sde, opts)
  const adaptive = s.method === 'rk45'
  const progress = new Progress(opts, sde, sde.T, r.eps, adaptive ? null : r.n)
  const x0 = initialX(sde, opts, r)
  let y0: Float64Array
  try {
    await progress.report(0, sde.T, x0)
    y0 = Float64Array.from(await x0.data())
    if (s.temperature !== 1 && !opts.x) for (let i = 0; i < y0.length; i++) y0[i]! *= s.temperature
  } finally {
    x0.dispose()
  }
  const rhs = flowRhs(scoreFn, sde, r.fullShape, () => { progress.nfe++ })
  const solverOpts = { signal: opts.signal, onStep: (info: { t: number; step: number; y: Float64Array }) => progress.report(info.step, info.t, info.y) }
  const sol = adaptive
    ? await dopri5(rhs, [sde.T, r.eps], y0, { rtol: s.rtol, atol: s.atol, ...solverOpts })
    : await solveFixedStep(rhs, [sde.T, r.eps], y0, r.n, s.method as FixedStepMethod, solverOpts)
  let samples = tf.tensor(Float32Array.from(sol.y), r.fullShape)
  if (r.denoise) {
    const xT = samples
    samples = tf.tidy(() => {
      const last = new ReverseDiffusionPredictor({ sde, scoreFn, probabilityFlow: false, noise: r.noise })
      return last.update(xT, tf.fill([r.fullShape[0]], r.eps) as tf.Tensor1D).xMean
    })
    xT.dispose()
    progress.nfe += 1
  }
  return progress.result(samples, sol.nAccepted)
}
