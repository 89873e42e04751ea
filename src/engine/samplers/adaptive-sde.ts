// Adaptive-step reverse-SDE solver: Jolicoeur-Martineau, Li, Piché-Taillefer, Kachman,
// Mitliagkas 2021, "Gotta Go Fast When Generating Data with Score-Based Models"
// (arXiv 2105.14080), Algorithm 1, as in AlexiaJM/score_sde_fast_sampling.
//
// One attempt from t with step h, f̃ the reverse drift f − g²s and one z shared by both stages:
//   x' = x − h·f̃(x, t) + g(t)√h·z                               (Euler–Maruyama)
//   x'' = x + ½[(x' − x) + (−h·f̃(x', t − h) + g(t − h)√h·z)]     (stochastic improved Euler)
// The difference E = x'' − x' is the local error estimate. It is scaled per element by
// δ = max(atol, rtol·max(|x'|, |x_prev|)) (x_prev: the last accepted x'), and the step is
// accepted when the mixed norm ‖E/δ‖ = √(mean((E/δ)²)) is at most 1: then x ← x'' (the
// extrapolated, higher-order value), t ← t − h. Accepted or not, the next step is
//   h ← min(t − eps, safety·h·‖E/δ‖^(−exponent)).
// norm 'sample' is the paper's: each sample has its own t, h and norm over its own elements.
// On low-dimensional data that is biased: a 2-D sample's accept test depends on its own noise
// draw, so the accepted noise is not Gaussian (2-D toy data came out with 1.3–2.4× the variance).
// norm 'batch' (the default) takes the norm over the whole batch and one t and h for all; it
// recovers the toy data, and on images (hundreds of elements per sample) both agree.
// It starts at h = hInit from T and runs until every sample is within 1e-6 of eps. With
// `denoise`, Tweedie's x̂₀ at eps follows (one evaluation). Every attempt evaluates the whole
// batch twice: NFE = 2·attempts (+1 with denoise), reported as steps = attempts.
// The paper's runs: atol 0.0078 for data in [−1, 1] (VP) and 0.0039 for [0, 1] (VE), i.e. one
// 8-bit level; rtol swept over 0.01–0.1 (its code defaults to 0.01). Deterministic per seed.
import { tf } from '../tf'
import { perSample, sampleSize } from '../sde/base'
import type { ScoreFn, Sde } from '../sde/types'
import { denoised } from './denoiser'
import { definedOnly } from './pc'
import { Progress, disposeExcept } from './progress'
import { initialX, resolveCommon } from './setup'
import type { SampleResult, SamplerOptions } from './types'

export interface AdaptiveSdeSettings {
  atol: number
  rtol: number
  /** Safety factor θ on the proposed step. */
  safety: number
  /** Exponent r of the error in the step update (GGF: 0.9). */
  exponent: number
  /** First step size at t = T. */
  hInit: number
  /** Error norm and step per sample (GGF) or one for the whole batch. */
  norm: 'sample' | 'batch'
}

export const ADAPTIVE_SDE_DEFAULTS: AdaptiveSdeSettings = { atol: 0.0078, rtol: 0.05, safety: 0.9, exponent: 0.9, hInit: 0.01, norm: 'batch' }

const DONE = 1e-6

export async function sampleAdaptiveSde(scoreFn: ScoreFn, sde: Sde, opts: SamplerOptions & Partial<AdaptiveSdeSettings>): Promise<SampleResult> {
  const s = { ...ADAPTIVE_SDE_DEFAULTS, ...definedOnly(opts) }
  if (s.norm !== 'sample' && s.norm !== 'batch') throw new Error(`adaptive_sde: norm must be 'sample' or 'batch', got ${String(s.norm)}`)
  for (const key of ['atol', 'rtol', 'safety', 'exponent', 'hInit'] as const) {
    if (!(s[key] > 0)) throw new Error(`adaptive_sde needs ${key} > 0, got ${s[key]}`)
  }
  const r = resolveCommon(sde, opts)
  const B = r.fullShape[0]
  const size = sampleSize(r.fullShape)
  const rsde = sde.reverse(scoreFn, false)
  const t = new Float64Array(B).fill(sde.T)
  const h = new Float64Array(B).fill(Math.min(s.hInit, sde.T - r.eps))
  const progress = new Progress(opts, sde, sde.T, r.eps, null)

  let x = initialX(sde, opts, r)
  let xPrev = x
  let attempts = 0
  try {
    await progress.report(0, sde.T, x)
    while (t.some((tb) => tb - r.eps > DONE)) {
      const cur = x
      const prev = xPrev
      const tNext = t.map((tb, b) => tb - h[b])
      const { xNew, xEuler, err } = tf.tidy(() => {
        const hB = perSample(tf.tensor1d(Float32Array.from(h)), cur)
        const sqrtH = perSample(tf.tensor1d(Float32Array.from(h, Math.sqrt)), cur)
        const z = r.noise.normal(cur.shape)
        const stage = (y: tf.Tensor, ts: Float64Array) => {
          const { drift, diffusion } = rsde.sde(y, tf.tensor1d(Float32Array.from(ts)))
          return tf.add(tf.mul(tf.neg(drift), hB), tf.mul(z, tf.mul(perSample(diffusion, y), sqrtH)))
        }
        const k1 = stage(cur, t)
        const euler = tf.add(cur, k1)
        const k2 = stage(euler, tNext)
        const delta = tf.maximum(tf.mul(tf.maximum(tf.abs(prev), tf.abs(euler)), s.rtol), s.atol)
        const scaledErr = tf.reshape(tf.div(tf.mul(tf.sub(k2, k1), 0.5), delta), [B, size])
        return { xNew: tf.add(cur, tf.mul(tf.add(k1, k2), 0.5)), xEuler: euler, err: tf.mean(tf.square(scaledErr), 1) }
      })
      const errs = Float64Array.from(await err.data(), Math.sqrt)
      err.dispose()
      // One norm over the whole batch: every sample then shares t and h.
      if (s.norm === 'batch') errs.fill(Math.sqrt(errs.reduce((a, e) => a + e * e, 0) / B))
      const accept = new Float32Array(B)
      for (let b = 0; b < B; b++) {
        const e = errs[b]
        if (!Number.isFinite(e)) {
          disposeExcept([xNew, xEuler])
          throw new Error(`adaptive_sde: non-finite error estimate at t = ${t[b]} (does the score return NaN or Inf?)`)
        }
        if (e <= 1) {
          accept[b] = 1
          t[b] = tNext[b] - r.eps > DONE ? tNext[b] : r.eps
        }
        const room = Math.max(t[b] - r.eps, 0)
        h[b] = h[b] === 0 ? 0 : e === 0 ? room : Math.min(room, s.safety * h[b] * Math.pow(e, -s.exponent))
      }
      const picked = tf.tidy(() => {
        const mask = perSample(tf.cast(tf.tensor1d(accept), 'bool') as tf.Tensor1D, cur)
        return { x: tf.where(mask, xNew, cur), xPrev: tf.where(mask, xEuler, prev) }
      })
      disposeExcept([xNew, xEuler, cur, prev])
      x = picked.x
      xPrev = picked.xPrev
      attempts += 1
      progress.nfe += 2
      await progress.report(attempts, Math.max(...t), x)
    }
    if (r.denoise) {
      const cur = x
      x = denoised(scoreFn, sde, cur, r.eps)
      disposeExcept([cur, xPrev])
      xPrev = x
      progress.nfe += 1
    }
  } catch (err) {
    disposeExcept([x, xPrev])
    throw err
  }
  disposeExcept([xPrev], [x])
  return progress.result(x, attempts)
}
