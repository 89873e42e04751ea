// Learning-rate warm-up and global-norm gradient clipping, as score_sde's optimization_manager.
import { tf } from '../tf'

/**
 * score_sde: lr·min(step/warmup, 1) where `step` counts the updates already applied, so the very
 * first update uses lr 0 (its Adam moments still accumulate). warmup 0 disables it.
 */
export function warmupLr(lr: number, warmup: number, step: number): number {
  return warmup > 0 ? lr * Math.min(step / warmup, 1) : lr
}

/** Global L2 norm of all gradients, as a scalar tensor. */
export function globalNorm(grads: tf.Tensor[]): tf.Scalar {
  return tf.tidy(() => tf.sqrt(tf.addN(grads.map((g) => tf.sum(tf.square(g))))) as tf.Scalar)
}

/**
 * PyTorch's clip_grad_norm_: scale by maxNorm/(norm + 1e-6) when that is below 1.
 * maxNorm <= 0 disables clipping (score_sde skips it for grad_clip < 0).
 */
export function clipFactor(norm: number, maxNorm: number): number {
  if (!(maxNorm > 0)) return 1
  return Math.min(1, maxNorm / (norm + 1e-6))
}
