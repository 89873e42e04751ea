// Learning-rate warm-up and global-norm gradient clipping, as score_sde's optimization_manager.
import { tf } from '../tf'

/**
 * score_sde: lr·min(step/warmup, 1) where `step` counts the updates already applied, so the very
 * first update uses lr 0 (its Adam moments still accumulate). warmup 0 disables it.
 */
export function warmupLr(lr: number, warmup: number, step: number): number {
  return warmup > 0 ? lr * Math.min(step / warmup, 1) : lr
}

/**
 * Inputs per addN: tfjs-webgpu binds every input of AddN as a storage buffer, and WebGPU's default
 * limit is 8 per shader stage (output included); past it the pipeline is invalid and the sum
 * silently garbage (measured on Dawn: 0 or a stale buffer's value).
 */
const ADDN_MAX_INPUTS = 7

/** Global L2 norm of all gradients, as a scalar tensor. */
export function globalNorm(grads: tf.Tensor[]): tf.Scalar {
  return tf.tidy(() => {
    const squares = grads.map((g) => tf.sum(tf.square(g)))
    // A running sum carried through addNs of at most ADDN_MAX_INPUTS: the same float32 additions
    // in the same order as one addN, so cpu/wasm results are unchanged.
    let acc = tf.addN(squares.slice(0, ADDN_MAX_INPUTS))
    for (let i = ADDN_MAX_INPUTS; i < squares.length; i += ADDN_MAX_INPUTS - 1) acc = tf.addN([acc, ...squares.slice(i, i + ADDN_MAX_INPUTS - 1)])
    return tf.sqrt(acc) as tf.Scalar
  })
}

/**
 * PyTorch's clip_grad_norm_: scale by maxNorm/(norm + 1e-6) when that is below 1.
 * maxNorm <= 0 disables clipping (score_sde skips it for grad_clip < 0).
 */
export function clipFactor(norm: number, maxNorm: number): number {
  if (!(maxNorm > 0)) return 1
  return Math.min(1, maxNorm / (norm + 1e-6))
}

/**
 * clipFactor on the device: min(1, maxNorm/(norm + 1e-6)) as a scalar tensor, so clipping needs
 * no read of the norm (null when clipping is off). float32 throughout, where clipFactor is double.
 */
export function clipFactorTensor(norm: tf.Scalar, maxNorm: number): tf.Scalar | null {
  if (!(maxNorm > 0)) return null
  return tf.tidy(() => tf.minimum(1, tf.div(maxNorm, tf.add(norm, 1e-6))) as tf.Scalar)
}
