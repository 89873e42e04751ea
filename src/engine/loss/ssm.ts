// Continuous-time sliced score matching (Song, Garg, Shi & Ermon 2019, "Sliced Score Matching"),
// on data perturbed exactly as dsm.ts perturbs it: t ~ U(eps, T), x̃ = m(t)x0 + σ(t)z. Per sample,
// with projections v (E[vvᵀ] = I) and s = s_θ(x̃, t):
//   SSM     vᵀ∇ₓ(vᵀs) + ½(vᵀs)²
//   SSM-VR  vᵀ∇ₓ(vᵀs) + ½‖s‖²          (the default)
// both unbiased for tr∇ₓs + ½‖s‖² = ½E‖s − ∇log p_t‖² − ½E‖∇log p_t‖² (Hyvärinen), whose minimiser
// is the score of the perturbed marginal p_t itself, not of the kernel p_0t as in DSM.
// VR is the default because ½‖s‖² is the exact expectation of ½(vᵀs)² (for either projection
// kind), so it removes that term's projection noise at no cost; the paper found it never worse.
//
// Weighting: λ(t) from the same registry as DSM (weighting.ts gives λ/σ², times σ² here), so
//   λ·SSM = ½·λ·E‖s − ∇log p_t‖² + c(t),  λ·DSM = λ·E‖s − ∇log p_0t‖² = λ·E‖s − ∇log p_t‖² + c'(t):
// the same relative weight across t, half DSM's scale, and constants that differ (at the true
// score SSM's per-t value is −½λE‖∇log p_t‖², e.g. −d/(2σ_t²)·λ for N(mμ, σ_t²I) data).
// reduction 'mean' divides the per-sample value by the number of elements, as DSM's mean does.
//
// The Jacobian term needs ∇ₓ inside the training gradient (double backprop): nets/second-order.ts
// lists the networks whose gradients tfjs can differentiate again; the trainer refuses the rest.
import { tf } from '../tf'
import { perSample, sampleSize } from '../sde/base'
import type { ScoreFn, Sde } from '../sde/types'
import { unknownName } from '../registry'
import type { Rng } from '../rng'
import { getWeighting } from './weighting'
import type { DsmOptions, DsmResult } from './dsm'
import { PROJECTIONS, SSM_DEFAULTS, type Projection } from './projections'

export { PROJECTIONS, SSM_DEFAULTS, type Projection }

export interface SsmOptions extends DsmOptions {
  /**
   * 'rademacher' (default: ±1 entries give vᵀJv the smallest variance of any such v, only the
   * off-diagonal of J contributes) or 'gaussian' (the paper's N(0, I)).
   */
  projections?: Projection
  /** Projections per sample, averaged (default 1; each one more forward and backward pass). */
  projectionCount?: number
  /** The variance-reduced form ½‖s‖² (default true) or the plain ½(vᵀs)². */
  varianceReduced?: boolean
}

/** Draws [count, ...shape] projections with one seed. */
function drawProjections(kind: Projection, shape: number[], seed: number): tf.Tensor {
  if (kind === 'gaussian') return tf.randomNormal(shape, 0, 1, 'float32', seed)
  return tf.tidy(() => tf.sub(tf.mul(tf.cast(tf.greater(tf.randomUniform(shape, 0, 1, 'float32', seed), 0.5), 'float32'), 2), 1))
}

export function ssmLoss(scoreFn: ScoreFn, sde: Sde, x0: tf.Tensor, rng: Rng, opts: SsmOptions = {}): DsmResult {
  const eps = opts.eps ?? 1e-5
  const reduction = opts.reduction ?? 'sum'
  const kind = opts.projections ?? SSM_DEFAULTS.projections
  const count = opts.projectionCount ?? SSM_DEFAULTS.projectionCount
  const vr = opts.varianceReduced ?? SSM_DEFAULTS.varianceReduced
  const weighting = getWeighting(opts.weighting ?? 'std2')
  weighting.check?.(sde)
  if (reduction !== 'sum' && reduction !== 'mean') throw unknownName('reduction', String(reduction), ['sum', 'mean'])
  if (!(PROJECTIONS as readonly string[]).includes(kind)) throw unknownName('projection', String(kind), PROJECTIONS)
  if (!Number.isInteger(count) || count < 1) throw new Error(`projectionCount must be a whole number ≥ 1, got ${count}`)
  const B = x0.shape[0]
  const D = sampleSize(x0)
  // The same two seeds, in the same order, as dsmLoss (same t and z for the same Rng state), then v's.
  const tSeed = rng.nextSeed()
  const zSeed = rng.nextSeed()
  const vSeed = rng.nextSeed()
  // s from the first projection's forward pass, kept out of tf.grad's tidy (as likelihood.ts does);
  // tfjs saves copies for the backward pass, so disposing it below is safe under an outer tape.
  const kept: { score?: tf.Tensor } = {}
  try {
    return tf.tidy(() => {
      const t = opts.t ? tf.clone(opts.t) : (tf.add(tf.mul(tf.randomUniform([B], 0, 1, 'float32', tSeed), sde.T - eps), eps) as tf.Tensor1D)
      const z = tf.randomNormal(x0.shape, 0, 1, 'float32', zSeed)
      const { meanCoeff, std } = sde.marginalCoeffs(t)
      const xt = tf.add(tf.mul(x0, perSample(meanCoeff, x0)), tf.mul(z, perSample(std, x0)))
      const vs = tf.unstack(drawProjections(kind, [count, ...x0.shape], vSeed))
      const rowSum = (a: tf.Tensor) => tf.sum(tf.reshape(a, [B, D]), 1) as tf.Tensor1D
      let acc: tf.Tensor1D = tf.zeros([B])
      for (const v of vs) {
        const proj: { vs?: tf.Tensor1D } = {} // vᵀs per sample, for the plain form
        // Samples are independent through the network, so ∇ₓ of the batch sum is each sample's ∇ₓ(vᵀs).
        const g = tf.grad((x: tf.Tensor) => {
          const s = scoreFn(x, t)
          kept.score ??= tf.keep(s)
          if (!vr) proj.vs = tf.keep(rowSum(tf.mul(v, s)))
          return tf.sum(tf.mul(v, s))
        })(xt)
        acc = tf.add(acc, rowSum(tf.mul(v, g))) as tf.Tensor1D
        if (!vr) {
          acc = tf.add(acc, tf.mul(tf.square(proj.vs!), 0.5)) as tf.Tensor1D
          tf.dispose(proj.vs)
        }
      }
      let per = tf.div(acc, count) as tf.Tensor1D
      if (vr) per = tf.add(per, tf.mul(rowSum(tf.square(kept.score!)), 0.5)) as tf.Tensor1D
      if (reduction === 'mean') per = tf.div(per, D) as tf.Tensor1D
      // λ = (λ/σ²)·σ², the registry's factor being null for λ = σ².
      const scale = weighting.scale(sde, t, std, meanCoeff)
      per = tf.mul(per, scale ? tf.mul(scale, tf.square(std)) : tf.square(std)) as tf.Tensor1D
      return { loss: tf.mean(per) as tf.Scalar, perSample: per, t }
    })
  } finally {
    tf.dispose(kept.score)
  }
}
