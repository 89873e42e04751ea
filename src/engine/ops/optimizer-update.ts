// The per-tensor optimiser updates (train/adam.ts, train/ema.ts) with a kernel dispatch, like
// ops/group-norm.ts: where the active backend registers the fused kernel (webgpu, see
// backend/webgpu/optimizer.ts) one kernel call replaces the ~13 (Adam) and 3 (EMA) elementwise ops
// and the scalar tensors they upload every step; everywhere else the composite ops below run,
// which are exactly the ops the optimisers ran before the kernels existed (bit-identical resumes
// on cpu, wasm and native depend on that).
import { tf } from '../tf'

/** Inputs p, m, v, g → [p', m', v'] (all the same shape). */
export const ADAM_UPDATE_KERNEL = 'ScoreLabAdamUpdate'
/** Inputs s (shadow), p → s'. */
export const EMA_UPDATE_KERNEL = 'ScoreLabEmaUpdate'

export interface AdamUpdateAttrs {
  beta1: number
  beta2: number
  eps: number
  /** lr / (1 − β1^k): changes every step. */
  stepSize: number
  /** √(1 − β2^k): changes every step. */
  bc2Sqrt: number
}

export interface EmaUpdateAttrs {
  /** 1 − d for this update's decay d. */
  oneMinusDecay: number
}

/** Whether the active backend has `kernel` for these float32 tensors. */
function fused(kernel: string, ts: tf.Tensor[]): boolean {
  return Boolean(tf.getKernel(kernel, tf.getBackend())) && ts.every((t) => t.dtype === 'float32')
}

/**
 * One Adam step for one parameter (PyTorch's update; adam.ts has the formula):
 * returns new [p, m, v]. The caller assigns them and disposes nothing else.
 */
export function adamUpdate(p: tf.Tensor, m: tf.Tensor, v: tf.Tensor, g: tf.Tensor, attrs: AdamUpdateAttrs): [tf.Tensor, tf.Tensor, tf.Tensor] {
  const { beta1, beta2, eps, stepSize, bc2Sqrt } = attrs
  if (fused(ADAM_UPDATE_KERNEL, [p, m, v, g])) {
    const shape = p.shape.join()
    if (m.shape.join() !== shape || v.shape.join() !== shape || g.shape.join() !== shape) {
      throw new Error(`adamUpdate: p [${p.shape}], m [${m.shape}], v [${v.shape}] and g [${g.shape}] must have one shape`)
    }
    const [p1, m1, v1] = tf.engine().runKernel(ADAM_UPDATE_KERNEL, { p, m, v, g }, { ...attrs } as never) as tf.Tensor[]
    return [p1!, m1!, v1!]
  }
  return tf.tidy(() => {
    const m1 = tf.add(tf.mul(m, beta1), tf.mul(g, 1 - beta1))
    const v1 = tf.add(tf.mul(v, beta2), tf.mul(tf.square(g), 1 - beta2))
    const denom = tf.add(tf.div(tf.sqrt(v1), bc2Sqrt), eps)
    const p1 = tf.sub(p, tf.mul(tf.div(m1, denom), stepSize))
    return [p1, m1, v1] as [tf.Tensor, tf.Tensor, tf.Tensor]
  })
}

/** One EMA step: s − (1 − d)(s − p). */
export function emaUpdate(s: tf.Tensor, p: tf.Tensor, attrs: EmaUpdateAttrs): tf.Tensor {
  if (fused(EMA_UPDATE_KERNEL, [s, p])) {
    if (s.shape.join() !== p.shape.join()) throw new Error(`emaUpdate: shadow [${s.shape}] and parameter [${p.shape}] must have one shape`)
    return tf.engine().runKernel(EMA_UPDATE_KERNEL, { s, p }, { ...attrs } as never) as tf.Tensor
  }
  return tf.tidy(() => tf.sub(s, tf.mul(tf.sub(s, p), attrs.oneMinusDecay)))
}
