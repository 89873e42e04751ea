// Shared by the sampler tests: analytic data sets and moment checks.
import { tf } from '../../src/engine/tf'
import type { ScoreFn, Sde } from '../../src/engine/sde/types'
import { GmmToy } from '../../src/engine/toy'

/** N(μ, s²I) in 2-D as a one-component mixture: its perturbed score is exact for every SDE. */
export const MU: [number, number] = [1, -0.5]
export const S = 0.5
export function gaussianToy(): GmmToy {
  return new GmmToy({ means: [MU], stds: [S], weights: [1] })
}

/** Two unequal, unequally weighted components: a multimodal target with known moments. */
export function mixtureToy(): GmmToy {
  return new GmmToy({ means: [[-1, 0.5], [1, -0.5]], stds: [0.3, 0.5], weights: [0.3, 0.7] })
}

/** Mean and covariance of a 2-D mixture with weights w_k, means μ_k, isotropic stds s_k. */
export function mixtureMoments(means: [number, number][], stds: number[], weights: number[]): { mean: number[]; cov: number[][] } {
  const mean = [0, 0]
  means.forEach((m, k) => { mean[0] += weights[k] * m[0]; mean[1] += weights[k] * m[1] })
  const cov = [[0, 0], [0, 0]]
  means.forEach((m, k) => {
    for (let a = 0; a < 2; a++) for (let b = 0; b < 2; b++) {
      cov[a][b] += weights[k] * ((a === b ? stds[k] ** 2 : 0) + (m[a] - mean[a]) * (m[b] - mean[b]))
    }
  })
  return { mean, cov }
}

export function moments(x: Float32Array | Float64Array): { mean: number[]; cov: number[][] } {
  const n = x.length / 2
  const mean = [0, 0]
  for (let i = 0; i < n; i++) { mean[0] += x[2 * i] / n; mean[1] += x[2 * i + 1] / n }
  const cov = [[0, 0], [0, 0]]
  for (let i = 0; i < n; i++) {
    const d = [x[2 * i] - mean[0], x[2 * i + 1] - mean[1]]
    for (let a = 0; a < 2; a++) for (let b = 0; b < 2; b++) cov[a][b] += (d[a] * d[b]) / (n - 1)
  }
  return { mean, cov }
}

/** Largest absolute error of the mean and of the covariance entries. */
export function momentErrors(x: Float32Array | Float64Array, truth: { mean: number[]; cov: number[][] }): { mean: number; cov: number } {
  const m = moments(x)
  const mean = Math.max(...m.mean.map((v, i) => Math.abs(v - truth.mean[i])))
  const cov = Math.max(...m.cov.flatMap((row, a) => row.map((v, b) => Math.abs(v - truth.cov[a][b]))))
  return { mean, cov }
}

/**
 * The toy's exact score evaluated in plain JS (same numbers as toy.scoreFn, which builds
 * ~30 broadcasting tfjs ops per call and dominates the test time on the cpu backend).
 * Most samplers pass one t for the whole batch; adaptive_sde's per-sample times go row by row.
 */
export function fastScore(toy: GmmToy, sde: Sde): ScoreFn {
  return (x, t) => {
    const ts = t.dataSync()
    const xs = x.dataSync() as Float32Array
    if (ts.every((v) => v === ts[0])) return tf.tensor(toy.score(xs, sde, ts[0]), x.shape)
    const d = xs.length / ts.length
    const out = new Float32Array(xs.length)
    for (let b = 0; b < ts.length; b++) out.set(toy.score(xs.subarray(b * d, (b + 1) * d), sde, ts[b]), b * d)
    return tf.tensor(out, x.shape)
  }
}
