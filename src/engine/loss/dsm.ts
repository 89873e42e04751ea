// Continuous-time denoising score matching (score_sde losses.py, the tutorial's loss_fn):
// t ~ U(eps, T), z ~ N(0, I), x(t) = m(t)x0 + σ(t)z, per-sample loss (λ/σ²)·reduce((σs + z)²),
// loss = mean over the batch. No ½ (the tutorial's convention; score_sde's sum has a ½).
import { tf } from '../tf'
import { perSample, sampleSize } from '../sde/base'
import type { ScoreFn, Sde } from '../sde/types'
import { unknownName } from '../registry'
import type { Rng } from '../rng'
import { getWeighting } from './weighting'

export type Reduction = 'sum' | 'mean'

export interface DsmOptions {
  /** Smallest t (tutorial and score_sde: 1e-5). */
  eps?: number
  /** Name in WEIGHTINGS (default std2). */
  weighting?: string
  /** 'sum' over pixels (tutorial; ≈20 on FashionMNIST when trained) or 'mean' over all elements. */
  reduction?: Reduction
  /** Fixed times [B] instead of t ~ U(eps, T) (per-time evaluation and tests). */
  t?: tf.Tensor1D
}

export interface DsmResult {
  loss: tf.Scalar
  /** Per-sample losses [B] (for per-time-bucket accounting). */
  perSample: tf.Tensor1D
  /** The times used [B]. */
  t: tf.Tensor1D
}

export const DSM_DEFAULTS = { eps: 1e-5, weighting: 'std2', reduction: 'sum' as Reduction }

export function dsmLoss(scoreFn: ScoreFn, sde: Sde, x0: tf.Tensor, rng: Rng, opts: DsmOptions = {}): DsmResult {
  const eps = opts.eps ?? DSM_DEFAULTS.eps
  const reduction = opts.reduction ?? DSM_DEFAULTS.reduction
  const weighting = getWeighting(opts.weighting ?? DSM_DEFAULTS.weighting)
  weighting.check?.(sde)
  if (reduction !== 'sum' && reduction !== 'mean') throw unknownName('reduction', String(reduction), ['sum', 'mean'])
  const B = x0.shape[0]
  // Always draw both seeds so the RNG stream does not depend on opts.t.
  const tSeed = rng.nextSeed()
  const zSeed = rng.nextSeed()
  return tf.tidy(() => {
    const t = opts.t ? tf.clone(opts.t) : (tf.add(tf.mul(tf.randomUniform([B], 0, 1, 'float32', tSeed), sde.T - eps), eps) as tf.Tensor1D)
    const z = tf.randomNormal(x0.shape, 0, 1, 'float32', zSeed)
    const { meanCoeff, std } = sde.marginalCoeffs(t)
    const stdB = perSample(std, x0)
    const xt = tf.add(tf.mul(x0, perSample(meanCoeff, x0)), tf.mul(z, stdB))
    const score = scoreFn(xt, t)
    const r = tf.square(tf.add(tf.mul(score, stdB), z))
    const flat = tf.reshape(r, [B, sampleSize(x0)])
    let per = (reduction === 'sum' ? tf.sum(flat, 1) : tf.mean(flat, 1)) as tf.Tensor1D
    const scale = weighting.scale(sde, t, std, meanCoeff)
    if (scale) per = tf.mul(per, scale) as tf.Tensor1D
    return { loss: tf.mean(per) as tf.Scalar, perSample: per, t }
  })
}
