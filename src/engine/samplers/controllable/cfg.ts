// Classifier-free guidance (Ho & Salimans 2022): with one network trained on labels y and on
// the null label ∅ (label dropout), sample with the guided score
//   s̃(x, t, y) = (1 + w)·s(x, t, y) − w·s(x, t, ∅)  =  s(x, t, y) + w·∇ₓ log p_t(y | x)  (implicit classifier).
// w = 0 is the plain conditional score; larger w trades diversity for class fidelity. The result
// is a plain ScoreFn, so every sampler in the registry takes it unchanged.
import { tf } from '../../tf'
import type { ScoreFn } from '../../sde/types'
import type { ScoreModel } from '../../nets/types'
import type { ClassLabels } from './conditional'

function checkWeight(w: number): void {
  if (!Number.isFinite(w) || w < 0) throw new Error(`guidance weight w must be finite and ≥ 0, got ${w}`)
}

/** (1 + w)·cond − w·uncond; with w = 0 the unconditional score is not evaluated. */
export function cfgCombine(cond: ScoreFn, uncond: ScoreFn, w: number): ScoreFn {
  checkWeight(w)
  if (w === 0) return cond
  return (x, t) => tf.tidy(() => tf.sub(tf.mul(cond(x, t), 1 + w), tf.mul(uncond(x, t), w)))
}

/** One label for the batch or one per sample, checked against K classes (K itself is ∅). */
function labelArray(label: ClassLabels, classes: number, batch: number): Int32Array {
  const ids = typeof label === 'number' ? new Array<number>(batch).fill(label) : Array.from(label)
  if (ids.length !== batch) throw new Error(`cfg: got ${ids.length} class labels for a batch of ${batch}`)
  for (const y of ids) {
    if (!Number.isInteger(y) || y < 0 || y > classes) throw new Error(`cfg: class label ${y} is out of range: class ids are 0..${classes - 1}, ${classes} is the null label`)
  }
  return Int32Array.from(ids)
}

/**
 * The guided score of a class-conditional model for `label` (a class id, or one per sample)
 * at guidance weight w ≥ 0. Conditional and null rows go through the network as one batch of
 * 2B, which costs one forward pass of twice the size rather than two calls.
 */
export function cfgScore(model: ScoreModel, label: ClassLabels, w: number): ScoreFn {
  const K = model.classes
  if (K < 2) throw new Error(`cfg: model "${model.name}" is not class-conditional (classes ${K}); build it with the classes option`)
  checkWeight(w)
  labelArray(label, K, typeof label === 'number' ? 1 : label.length) // fail now, not at the first step
  return (x, t) =>
    tf.tidy(() => {
      const B = x.shape[0]!
      const y = labelArray(label, K, B)
      if (w === 0) return model.score(x, t, tf.tensor1d(y, 'int32'))
      const both = model.score(tf.concat([x, x], 0), tf.concat([t, t], 0) as tf.Tensor1D, tf.tensor1d(Int32Array.from([...y, ...new Array<number>(B).fill(K)]), 'int32'))
      const [cond, uncond] = tf.split(both, 2, 0) as [tf.Tensor, tf.Tensor]
      return tf.sub(tf.mul(cond, 1 + w), tf.mul(uncond, w))
    })
}
