// score_sde's Corrector: n_steps of score-based MCMC at a fixed time t, (x, t) → (x, x_mean).
import { tf } from '../../tf'
import { perSample } from '../../sde/base'
import type { PredictorContext, Update } from '../predictors/base'

export interface CorrectorContext extends Omit<PredictorContext, 'probabilityFlow'> {
  /** Signal-to-noise ratio that sets the Langevin step size. */
  snr: number
  /** MCMC steps per noise level. */
  nSteps: number
}

export abstract class Corrector {
  constructor(protected readonly ctx: CorrectorContext) {}

  /** Score evaluations per update. */
  get nfe(): number {
    return this.ctx.nSteps
  }

  /** Runs inside tf.tidy. */
  abstract update(x: tf.Tensor, t: tf.Tensor1D): Update
}

export type CorrectorClass = new (ctx: CorrectorContext) => Corrector

/**
 * nSteps Langevin moves x ← x + ε·∇log p + √(2ε)·z, with the per-sample step ε returned by
 * stepSize(grad, z) ([B]). Each move is tidied so long chains do not pile up tensors.
 */
export function langevinSteps(
  ctx: CorrectorContext, x: tf.Tensor, t: tf.Tensor1D,
  stepSize: (grad: tf.Tensor, z: tf.Tensor) => tf.Tensor1D
): Update {
  let cur: Update = { x, xMean: x }
  for (let k = 0; k < ctx.nSteps; k++) {
    const prev = cur
    cur = tf.tidy(() => {
      const grad = ctx.scoreFn(prev.x, t)
      const z = ctx.noise.normal(x.shape)
      const eps = stepSize(grad, z)
      const xMean = tf.add(prev.x, tf.mul(grad, perSample(eps, x)))
      return { x: tf.add(xMean, tf.mul(z, perSample(tf.sqrt(tf.mul(eps, 2)) as tf.Tensor1D, x))), xMean }
    })
    if (k > 0) for (const old of new Set([prev.x, prev.xMean])) old.dispose()
  }
  return cur
}

/** Batch mean of the per-sample L2 norms (score_sde's `torch.norm(v.reshape(B, -1), dim=-1).mean()`). */
export function meanNorm(v: tf.Tensor): tf.Scalar {
  return tf.tidy(() => tf.mean(tf.norm(tf.reshape(v, [v.shape[0], -1]), 'euclidean', 1)) as tf.Scalar)
}
