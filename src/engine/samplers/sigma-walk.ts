// The loop every fixed-step σ-walking sampler shares (heun, ddim, dpmpp_2m, dpmpp_3m_sde), as
// k-diffusion's samplers share one walk from sigmas[i] to sigmas[i + 1]: resolve the common
// options, plan the levels (schedules.ts), start from the seeded x_T, then one step per level
// inside tf.tidy, with NFE counted, onStep reported and the signal checked between steps.
// The state between steps is x_t itself (so onStep reports x_t); a stepper works in the scaled
// x̃ = x/m(t) (denoiser.ts) and hands back x at the next level. With `denoise` the last level is
// σ = 0, where x is the denoised x̂₀.
import { tf } from '../tf'
import type { ScoreFn, Sde } from '../sde/types'
import { denoised } from './denoiser'
import type { NoiseSource } from './noise'
import { Progress } from './progress'
import { sigmaPlan, type SigmaPlan, type SigmaSchedule } from './schedules'
import { initialX, resolveCommon } from './setup'
import type { SampleResult, SamplerOptions } from './types'

export interface Walk {
  plan: SigmaPlan
  /** Levels asked for (the plan holds one more, σ = 0, with denoise). */
  n: number
  noise: NoiseSource
  /** x̂₀ of x (unscaled) at time t: one score evaluation, counted. */
  D(x: tf.Tensor, t: number): tf.Tensor
}

export interface Stepper {
  /** x at level i → x at level i + 1. Runs inside tf.tidy; tensors it keeps across steps need tf.keep. */
  step(x: tf.Tensor, i: number): tf.Tensor
  /** Frees what step kept (called once, after the last step or on error). */
  dispose?(): void
}

export async function walkSigmas(
  scoreFn: ScoreFn, sde: Sde, opts: SamplerOptions, spacing: { schedule: SigmaSchedule; rho?: number },
  makeStepper: (walk: Walk) => Stepper
): Promise<SampleResult> {
  const r = resolveCommon(sde, opts)
  const plan = sigmaPlan(sde, r.eps, r.n, spacing.schedule, r.denoise, spacing.rho)
  const progress = new Progress(opts, sde, sde.T, r.eps, plan.steps)
  const walk: Walk = {
    plan,
    n: r.n,
    noise: r.noise,
    D: (x, t) => {
      progress.nfe += 1
      return denoised(scoreFn, sde, x, t)
    }
  }
  const stepper = makeStepper(walk)
  let x = initialX(sde, opts, r)
  try {
    await progress.report(0, sde.T, x)
    for (let i = 0; i < plan.steps; i++) {
      const cur = x
      x = tf.tidy(() => stepper.step(cur, i))
      if (x !== cur) cur.dispose()
      await progress.report(i + 1, plan.times[i + 1], x)
    }
  } catch (err) {
    x.dispose()
    throw err
  } finally {
    stepper.dispose?.()
  }
  return progress.result(x, plan.steps)
}

/** x̃ = x/m, skipping the division where m = 1 (VE, and σ = 0). */
export function scaled(x: tf.Tensor, m: number): tf.Tensor {
  return m === 1 ? x : tf.div(x, m)
}

/** x = m·x̃. */
export function unscaled(xt: tf.Tensor, m: number): tf.Tensor {
  return m === 1 ? xt : tf.mul(xt, m)
}
