// The parity check the `native` backend must pass before select.ts uses it: the C++ kernels
// against wasm's own on one small training step, through the same ops the nets call.
import { tf } from '../tf'
import { groupNormSwish } from '../ops/group-norm'
import { useNativeKernels } from './native-kernels'

/** A small conv/GroupNorm/concat forward and backward on the active (wasm) backend. */
function probe(): Float32Array[] {
  return tf.tidy(() => {
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
    return [value, ...grads].map((t) => t.dataSync() as Float32Array)
  })
}

/**
 * Checks the native kernels against wasm's own on a small conv/GroupNorm/concat step (value and
 * all gradients). Run once when the `native` backend is chosen, so a miscompiled or mismatched
 * addon falls back to wasm instead of training on wrong numbers. Leaves the native kernels on.
 */
export function nativeSelfCheck(): { ok: boolean; worst: number } {
  useNativeKernels(false)
  const ref = probe()
  if (!useNativeKernels(true)) return { ok: false, worst: Infinity }
  const got = probe()
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
  return { ok: worst <= 1e-4, worst }
}
