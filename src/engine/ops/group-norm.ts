// GroupNorm, and scorenet's fused swish(GroupNorm(x + bias)) with its kernel dispatch. Nets call
// these; backend/native-kernels.ts registers the fused kernel on wasm. Both import this module,
// so neither imports the other.
import { tf } from '../tf'

/** The fused kernel: inputs x [B,H,W,C], bias [B,C] (optional), gamma [C], beta [C] → [y, mean [B,G], rstd [B,G]]. */
export const GROUP_NORM_KERNEL = 'ScoreLabGroupNorm'
/** Its gradient: inputs dy, x, bias?, gamma, beta, mean, rstd → [dx, dgamma, dbeta, dbias?]. */
export const GROUP_NORM_GRAD_KERNEL = 'ScoreLabGroupNormGrad'

export interface GroupNormAttrs {
  groups: number
  eps: number
  swish: boolean
}

/**
 * GroupNorm over NHWC with PyTorch's semantics (biased variance, eps 1e-5 by default):
 * normalise each (sample, group) over H, W and the group's channels, then scale and shift per channel.
 */
export function groupNorm(x: tf.Tensor, groups: number, gamma: tf.Tensor, beta: tf.Tensor, eps = 1e-5): tf.Tensor {
  const [b, h, w, c] = x.shape as [number, number, number, number]
  if (c % groups !== 0) throw new Error(`GroupNorm: ${c} channels are not divisible into ${groups} groups`)
  return tf.tidy(() => {
    const xr = tf.reshape(x, [b, h, w, groups, c / groups])
    const { mean, variance } = tf.moments(xr, [1, 2, 4], true)
    const xn = tf.mul(tf.sub(xr, mean), tf.rsqrt(tf.add(variance, eps)))
    return tf.add(tf.mul(tf.reshape(xn, [b, h, w, c]), gamma), beta)
  })
}

/**
 * swish(GroupNorm(x + bias[b, c])) — scorenet's block after each conv — with bias [B, C].
 * Where the active backend has the fused kernel (the native kernels on wasm) it is one kernel
 * each way (the composite costs ~15 wasm ops and as many passes over the activations);
 * otherwise it is built from tfjs ops.
 */
export function groupNormSwish(x: tf.Tensor, bias: tf.Tensor, groups: number, gamma: tf.Tensor, beta: tf.Tensor, eps = 1e-5): tf.Tensor {
  if (x.rank !== 4) throw new Error(`groupNormSwish: x must be NHWC [B, H, W, C], got [${x.shape.join(', ')}]`)
  const [b, , , c] = x.shape as [number, number, number, number]
  if (bias.rank !== 2 || bias.shape[0] !== b || bias.shape[1] !== c) {
    throw new Error(`groupNormSwish: bias must be [${b}, ${c}], got [${bias.shape.join(', ')}]`)
  }
  if (c % groups !== 0) throw new Error(`GroupNorm: ${c} channels are not divisible into ${groups} groups`)
  if (!tf.getKernel(GROUP_NORM_KERNEL, tf.getBackend()) || x.dtype !== 'float32') {
    return tf.tidy(() => {
      const y = groupNorm(tf.add(x, tf.reshape(bias, [b, 1, 1, c])), groups, gamma, beta, eps)
      return tf.mul(y, tf.sigmoid(y)) // swish (nets/layers.ts), written out so ops never import nets
    })
  }
  // The kernel also returns the statistics its gradient (below) needs; the tape keeps those.
  const attrs: GroupNormAttrs = { groups, eps, swish: true }
  return tf.tidy(() => (tf.engine().runKernel(GROUP_NORM_KERNEL, { x, bias, gamma, beta }, attrs as never) as tf.Tensor[])[0]!)
}

// The fused kernel's gradient, registered once (gradients are global, keyed by kernel name; the
// kernel only exists where a backend registers it). It saves the inputs and the statistics by
// reference (customGrad would copy them through Identity) and runs the gradient kernel once for
// all four inputs, in the backward pass's own scope.
tf.registerGradient({
  kernelName: GROUP_NORM_KERNEL,
  inputsToSave: ['x', 'bias', 'gamma', 'beta'],
  outputsToSave: [false, true, true],
  gradFunc: (dy, saved, attrs) => {
    const [x, bias, gamma, beta, mean, rstd] = saved
    const dyY = Array.isArray(dy) ? dy[0]! : dy
    const [dx, dgamma, dbeta, dbias] = tf.engine().runKernel(
      GROUP_NORM_GRAD_KERNEL, { dy: dyY, x: x!, bias: bias!, gamma: gamma!, beta: beta!, mean: mean!, rstd: rstd! }, attrs as never) as tf.Tensor[]
    return { x: () => dx!, bias: () => dbias!, gamma: () => dgamma!, beta: () => dbeta! }
  }
})
