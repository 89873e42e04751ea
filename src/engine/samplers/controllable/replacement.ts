// The PC loop of score_sde's controllable_generation.py (get_pc_inpainter, get_pc_colorizer):
// ordinary predictor–corrector sampling, except that after EVERY corrector and predictor update
// the known part of x is replaced by a fresh draw of the forward marginal of the reference,
//   x      ← x⊙(1−m) + (μ_t(y) + σ_t z)⊙m
//   x_mean ← x_mean⊙(1−m) + μ_t(y)⊙m
// with (μ_t, σ_t) = sde.marginalProb(y, t) at the step's own t, as score_sde. Inpainting works on x
// itself; colorisation first maps x through a fixed orthogonal matrix (a "working space") in which
// the known values occupy their own channel, replaces there, and maps back.
//
// One deviation: score_sde's x_mean takes its unknown part from the freshly noised x, so `denoise`
// leaves the last step's noise on the unknown entries; here it keeps the update's own mean there,
// so denoise removes it as pc_sampler does. The known part follows score_sde: μ_ε(y) at the end
// (exactly y on VE, where m = 1; m(ε)·y on VP, 1 − m(ε) = 5e-5 at ε = 1e-3).
//
// What the step does and does not guarantee (measured in test/samplers/controllable.test.ts): the
// score used is the JOINT score at (x_unknown, fresh x_known(t)), not ∇ log p_t(x_unknown | y), so
// predictor-only sampling is biased even for Gaussian data (score_sde paper, App. I.2, calls it an
// approximation). Langevin corrector steps repair it: at small t their fixed point is the exact
// conditional. Use a corrector (the default langevin, snr 0.16) and enough steps.
import { tf } from '../../tf'
import type { ScoreFn, Sde } from '../../sde/types'
import { runPc, type PcSettings } from '../pc'
import type { SampleResult, SamplerOptions } from '../types'

export interface Replacement {
  /** Known values in the working space, [B, ...shape]. Owned by the caller of sampleWithReplacement. */
  known: tf.Tensor
  /** 1 on known entries, 0 elsewhere, in the working space; [B, ...shape]. Owned by the caller. */
  mask: tf.Tensor
  /** Data space → working space (identity when omitted). Must be orthogonal, so the isotropic kernel and prior are unchanged. */
  toWork?: (x: tf.Tensor) => tf.Tensor
  /** Working space → data space, the inverse of toWork. */
  fromWork?: (x: tf.Tensor) => tf.Tensor
}

const identity = (x: tf.Tensor): tf.Tensor => x

/** PC sampling with the known part replaced after every update (see the file header). NFE as samplePc. */
export function sampleWithReplacement(
  scoreFn: ScoreFn, sde: Sde, opts: SamplerOptions & Partial<PcSettings>, rep: Replacement
): Promise<SampleResult> {
  const toWork = rep.toWork ?? identity
  const fromWork = rep.fromWork ?? identity
  return runPc(
    scoreFn,
    sde,
    opts,
    (r) => {
      for (const [name, v] of [['known', rep.known], ['mask', rep.mask]] as const) {
        if (v.shape.join() !== r.fullShape.join()) throw new Error(`${name} has shape [${v.shape}], expected [${r.fullShape}]`)
      }
      const B = r.fullShape[0]
      return {
        // Start: the known values themselves, prior noise (or the caller's x_T) elsewhere (score_sde).
        start: (xT) => fromWork(tf.add(tf.mul(rep.known, rep.mask), tf.mul(toWork(xT), tf.sub(1, rep.mask)))),
        // After every update: the known part becomes a fresh draw of the reference's forward marginal.
        project: (u, t) => {
          const { mean, std } = sde.marginalProb(rep.known, t)
          const z = r.noise.normal(r.fullShape)
          const keep = tf.sub(1, rep.mask)
          const knownX = tf.add(mean, tf.mul(z, tf.reshape(std, [B, ...new Array<number>(r.fullShape.length - 1).fill(1)])))
          const x = fromWork(tf.add(tf.mul(toWork(u.x), keep), tf.mul(knownX, rep.mask)))
          const xMean = fromWork(tf.add(tf.mul(toWork(u.xMean), keep), tf.mul(mean, rep.mask)))
          return { x, xMean }
        }
      }
    },
    'controllable PC'
  )
}

/**
 * A caller's array or tensor as a float32 tensor of the full batch shape [B, ...shape]. Accepts
 * [B, ...shape], or [...shape] / [1, ...shape] which is broadcast over the batch. Never keeps or
 * disposes the caller's tensor; the result is the caller's to dispose.
 */
export function toBatchTensor(v: tf.Tensor | Float32Array, fullShape: number[], name: string): tf.Tensor {
  const one = [1, ...fullShape.slice(1)]
  const size = one.reduce((a, b) => a * b, 1)
  return tf.tidy(() => {
    let t: tf.Tensor
    if (v instanceof Float32Array) {
      if (v.length === size * fullShape[0]) t = tf.tensor(v, fullShape)
      else if (v.length === size) t = tf.tensor(v, one)
      else throw new Error(`${name} has ${v.length} values; expected ${size * fullShape[0]} ([${fullShape}]) or ${size} ([${fullShape.slice(1)}])`)
    } else {
      if (v.shape.join() === fullShape.join()) t = v
      else if (v.shape.join() === fullShape.slice(1).join() || v.shape.join() === one.join()) t = tf.reshape(v, one)
      else throw new Error(`${name} has shape [${v.shape}]; expected [${fullShape}] or [${fullShape.slice(1)}]`)
    }
    return tf.add(tf.broadcastTo(tf.cast(t, 'float32'), fullShape), 0)
  })
}

/** Rejects unless every entry of the mask is 0 or 1 (read asynchronously: no synchronous read on WebGPU in Node). */
export async function checkBinaryMask(mask: tf.Tensor): Promise<void> {
  const values = await mask.data()
  for (let i = 0; i < values.length; i++) {
    if (values[i] !== 0 && values[i] !== 1) throw new Error(`mask must hold only 0 (unknown) and 1 (known); found ${values[i]}`)
  }
}
