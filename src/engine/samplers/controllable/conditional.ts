// Class-conditional sampling with a noise-conditional classifier (score_sde's JAX
// get_pc_conditional_sampler): the score of p_t(x | y) is
//   ∇ₓ log p_t(x | y) = ∇ₓ log p_t(x) + ∇ₓ log p_t(y | x),
// the second term taken by tf.grad through the classifier's log-softmax. The sum replaces the
// score in both the predictor and the corrector. score_sde has no classifier scale; `scale`
// (default 1, exact Bayes) multiplies the classifier term for guidance experiments.
import { tf } from '../../tf'
import type { ScoreFn, Sde } from '../../sde/types'
import { samplePc, type PcSettings } from '../pc'
import type { SampleResult, SamplerOptions } from '../types'

/**
 * A noise-conditional classifier: logits (or log-probabilities; log-softmax is applied either
 * way) [B, K] for x [B, ...] at times t [B]. It must be built from tf ops so tf.grad can
 * differentiate it; it may read σ_t from sde.marginalCoeffs(t) as score_sde's classifier does.
 */
export type ClassifierFn = (x: tf.Tensor, t: tf.Tensor1D) => tf.Tensor

/** One class for the whole batch, or one per sample. */
export type ClassLabels = number | ArrayLike<number>

function labelArray(y: ClassLabels, B: number): number[] {
  const labels = typeof y === 'number' ? new Array<number>(B).fill(y) : Array.from(y)
  if (labels.length !== B) throw new Error(`got ${labels.length} class labels for a batch of ${B}`)
  for (const l of labels) if (!Number.isInteger(l) || l < 0) throw new Error(`class labels must be non-negative integers, got ${l}`)
  return labels
}

/** s(x, t) + scale·∇ₓ log p_t(y | x), for labels y (number or one per sample). */
export function conditionalScore(scoreFn: ScoreFn, classifier: ClassifierFn, y: ClassLabels, scale = 1): ScoreFn {
  if (!Number.isFinite(scale)) throw new Error(`classifier scale must be finite, got ${scale}`)
  return (x, t) =>
    tf.tidy(() => {
      const labels = labelArray(y, x.shape[0])
      const logLikelihood = (xv: tf.Tensor): tf.Scalar => {
        const logits = classifier(xv, t)
        const K = logits.shape[logits.rank - 1]
        if (logits.rank !== 2 || logits.shape[0] !== x.shape[0]) throw new Error(`classifier must return [B, K] = [${x.shape[0]}, K], got [${logits.shape}]`)
        const top = Math.max(...labels)
        if (top >= K) throw new Error(`class label ${top} is out of range for a classifier with ${K} classes`)
        // Σ_b log p(y_b | x_b): samples are independent, so its gradient is each sample's own.
        // A constant one-hot mask, not tf.gather (its gradient is a slow segment sum on the cpu backend) nor
        // tf.oneHot (which refuses K = 1).
        const oneHot = new Float32Array(labels.length * K)
        labels.forEach((l, b) => { oneHot[b * K + l] = 1 })
        return tf.sum(tf.mul(tf.logSoftmax(logits), tf.tensor2d(oneHot, [labels.length, K]))) as tf.Scalar
      }
      const grad = tf.grad(logLikelihood)(x)
      return tf.add(scoreFn(x, t), scale === 1 ? grad : tf.mul(grad, scale))
    })
}

export interface ConditionalInputs {
  classifier: ClassifierFn
  /** Class to sample: one for the batch or one per sample. */
  label: ClassLabels
  /** Multiplies ∇ log p_t(y | x) (default 1; score_sde has none). */
  classifierScale?: number
}

export type ConditionalOptions = SamplerOptions & Partial<PcSettings> & ConditionalInputs

/** PC sampling of p(x | y). NFE counts score evaluations, as samplePc (each also costs one classifier gradient). */
export async function sampleConditional(scoreFn: ScoreFn, sde: Sde, opts: ConditionalOptions): Promise<SampleResult> {
  const { classifier, label, classifierScale, ...pc } = opts
  labelArray(label, opts.batchSize)
  return samplePc(conditionalScore(scoreFn, classifier, label, classifierScale ?? 1), sde, pc)
}
