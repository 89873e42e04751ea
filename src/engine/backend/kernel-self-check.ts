// The parity check a backend's own kernels must pass before select.ts uses them: one small
// training step through the same ops the nets call (conv stride 2, fused GroupNorm+swish,
// concat, transposed conv; value and every gradient; an Adam and an EMA update), once with the
// backend's stock kernels and once with ours. Shared by the native kernels (on wasm) and the WebGPU
// kernels (on webgpu), so a miscompiled addon or a shader a driver gets wrong falls back instead
// of training on wrong numbers.
import { tf } from '../tf'
import { groupNormSwish } from '../ops/group-norm'
import { adamUpdate, emaUpdate } from '../ops/optimizer-update'
import { useNativeKernels } from './native-kernels'

/** A small conv/GroupNorm/concat forward and backward, and an optimiser step, on the active backend. */
async function probe(): Promise<Float32Array[]> {
  const outs = tf.tidy(() => {
    const seeded = (shape: number[], seed: number) => tf.randomNormal(shape, 0, 1, 'float32', seed)
    const x = seeded([3, 9, 9, 4], 1)
    const w1 = seeded([3, 3, 4, 8], 2)
    const wt = seeded([3, 3, 4, 16], 3)
    const bias = seeded([3, 8], 4)
    const gamma = tf.add(tf.mul(seeded([8], 5), 0.2), 1)
    const beta = seeded([8], 6)
    const f = (xi: tf.Tensor, a: tf.Tensor, b: tf.Tensor, g: tf.Tensor, be: tf.Tensor, t: tf.Tensor) => {
      const h = groupNormSwish(tf.conv2d(xi as tf.Tensor4D, a as tf.Tensor4D, 2, 'valid'), b, 2, g, be) // [3,4,4,8]
      const u = tf.conv2dTranspose(tf.concat([h, h], 3) as tf.Tensor4D, t as tf.Tensor4D, [3, 9, 9, 4], 2, 'valid')
      return tf.sum(tf.mul(u, xi))
    }
    const { value, grads } = tf.valueAndGrads(f as never)([x, w1, bias, gamma, beta, wt])
    // The optimiser's step on w1 (fused Adam and EMA kernels where the backend has them).
    const [p1, m1, v1] = adamUpdate(w1, seeded(w1.shape, 7), tf.square(seeded(w1.shape, 8)), grads[1]!, { beta1: 0.9, beta2: 0.999, eps: 1e-8, stepSize: 0.01, bc2Sqrt: 0.1 })
    return [value, ...grads, p1, m1, v1, emaUpdate(seeded(w1.shape, 9), p1, { oneMinusDecay: 0.1 })]
  })
  // data(), not dataSync(): a synchronous read is not possible on WebGPU in Node.
  try {
    return (await Promise.all(outs.map((t) => t.data()))) as Float32Array[]
  } finally {
    tf.dispose(outs)
  }
}

export interface SelfCheck {
  ok: boolean
  /** Worst relative L2 error over the value and the gradients. */
  worst: number
}

/** The bound both kernel sets are held to (float32 sums in a different order stay far below it). */
export const SELF_CHECK_BOUND = 1e-4

/**
 * Compares our kernels (toggle(true)) with the backend's stock ones (toggle(false)) on the
 * probe step. `toggle` returns false when our kernels cannot be switched on. Leaves them on.
 */
export async function kernelSelfCheck(toggle: (on: boolean) => boolean): Promise<SelfCheck> {
  toggle(false)
  const ref = await probe()
  if (!toggle(true)) return { ok: false, worst: Infinity }
  const got = await probe()
  let worst = 0
  ref.forEach((r, i) => {
    let num = 0
    let den = 0
    for (let k = 0; k < r.length; k++) {
      num += (got[i]![k]! - r[k]!) ** 2
      den += r[k]! ** 2
    }
    const e = Math.sqrt(num / Math.max(den, 1e-30))
    worst = Number.isNaN(e) ? Infinity : Math.max(worst, e)
  })
  return { ok: worst <= SELF_CHECK_BOUND, worst }
}

/** The native kernels against wasm's own. */
export const nativeSelfCheck = (): Promise<SelfCheck> => kernelSelfCheck(useNativeKernels)
