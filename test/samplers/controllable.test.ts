// Inpainting and colorisation (score_sde's get_pc_inpainter / get_pc_colorizer) against known
// answers, with the exact score of a correlated Gaussian N(μ, Σ): under a kernel N(m x0, σ²I)
// the perturbed marginal is N(mμ, m²Σ + σ²I), whose score is −(m²Σ + σ²I)⁻¹(x − mμ).
//
// Two known answers, because score_sde's replacement step is an approximation:
//  1. Reverse diffusion alone (no corrector) is a linear-Gaussian recursion, so the exact mean and
//     covariance of its output follow step by step from the engine's own discretisation
//     coefficients. MC moments of 4000 samples must match within 4.5 Monte-Carlo standard errors
//     (z-score). This pins the implementation (start, replacement after every update, denoise).
//     The same recursion shows the method's own bias: its answer is NOT the conditional.
//  2. With the Langevin corrector (snr 0.16, 5 steps per level, n 100) the output must match the
//     analytic conditional N(μ_U + Σ_UK Σ_KK⁻¹(y − μ_K), Σ_UU − Σ_UK Σ_KK⁻¹ Σ_KU): mean within
//     0.06 and covariance entries within 0.08 (absolute; at 4000 samples the MC standard error is
//     ≈0.016 for the means and ≈0.02 for the covariance entries, the rest is the method's bias).
// Both on VE and VP.
import { beforeAll, describe, expect, it } from 'vitest'
import { tf } from '../../src/engine/tf'
import { createSde } from '../../src/engine/sde'
import type { ScoreFn, Sde } from '../../src/engine/sde/types'
import { timeGrid, withSteps } from '../../src/engine/samplers/setup'
import {
  COLOR_MATRIX, couple, decouple, runColorize, runConditional, runInpaint, sampleColorize, sampleInpaint, gmmClassifier, toGrey
} from '../../src/engine/samplers/controllable'
import type { SampleResult } from '../../src/engine/samplers/types'
import { gaussianToy } from './helpers'

beforeAll(async () => {
  await tf.setBackend('cpu')
})

type Mat = number[][]
const eye = (d: number): Mat => Array.from({ length: d }, (_, i) => Array.from({ length: d }, (_, j) => (i === j ? 1 : 0)))
const matMul = (a: Mat, b: Mat): Mat => a.map((r) => b[0].map((_, j) => r.reduce((s, v, k) => s + v * b[k][j], 0)))
const transpose = (a: Mat): Mat => a[0].map((_, j) => a.map((r) => r[j]))
const add = (a: Mat, b: Mat, k = 1): Mat => a.map((r, i) => r.map((v, j) => v + k * b[i][j]))
const scale = (a: Mat, k: number): Mat => a.map((r) => r.map((v) => v * k))
const sub = (a: Mat, rows: number[], cols: number[]): Mat => rows.map((i) => cols.map((j) => a[i][j]))
const col = (v: number[]): Mat => v.map((x) => [x])
function inv(a: Mat): Mat {
  const n = a.length
  const m = a.map((r, i) => [...r, ...eye(n)[i]])
  for (let c = 0; c < n; c++) {
    let p = c
    for (let r = c + 1; r < n; r++) if (Math.abs(m[r][c]) > Math.abs(m[p][c])) p = r
    ;[m[c], m[p]] = [m[p], m[c]]
    const d = m[c][c]
    for (let j = 0; j < 2 * n; j++) m[c][j] /= d
    for (let r = 0; r < n; r++) if (r !== c) { const f = m[r][c]; for (let j = 0; j < 2 * n; j++) m[r][j] -= f * m[c][j] }
  }
  return m.map((r) => r.slice(n))
}

/** Exact score of N(μ, Σ) perturbed by the SDE's kernel; x is [B, ...] with d = |μ| entries per sample. */
function gaussianScore(mu: number[], sigma: Mat, sde: Sde): ScoreFn {
  const d = mu.length
  return (x, t) => {
    const tv = t.dataSync()[0]
    const m = sde.marginalMeanCoeffAt(tv)
    const s = sde.marginalStdAt(tv)
    const P = inv(add(scale(sigma, m * m), scale(eye(d), s * s)))
    return tf.tidy(() => {
      const centred = tf.sub(tf.reshape(x, [x.shape[0], d]), tf.tensor2d([mu.map((v) => v * m)]))
      return tf.reshape(tf.neg(tf.matMul(centred, tf.tensor2d(P))), x.shape)
    })
  }
}

/** Conditional N(mean, cov) of dims U given dims K = y. */
function conditional(mu: number[], sigma: Mat, K: number[], y: number[]): { U: number[]; mean: number[]; cov: Mat } {
  const U = mu.map((_, i) => i).filter((i) => !K.includes(i))
  const gain = matMul(sub(sigma, U, K), inv(sub(sigma, K, K)))
  const mean = add(col(U.map((i) => mu[i])), matMul(gain, col(K.map((k, j) => y[j] - mu[k])))).map((r) => r[0])
  const cov = add(sub(sigma, U, U), matMul(gain, sub(sigma, K, U)), -1)
  return { U, mean, cov }
}

/** Sample mean and covariance of the listed dims of [n, d] rows. */
function moments(x: Float32Array, d: number, dims: number[]): { mean: number[]; cov: Mat } {
  const n = x.length / d
  const mean = dims.map((j) => { let s = 0; for (let i = 0; i < n; i++) s += x[i * d + j]; return s / n })
  const cov = dims.map((a, p) => dims.map((b, q) => {
    let s = 0
    for (let i = 0; i < n; i++) s += (x[i * d + a] - mean[p]) * (x[i * d + b] - mean[q])
    return s / (n - 1)
  }))
  return { mean, cov }
}

function errors(got: { mean: number[]; cov: Mat }, want: { mean: number[]; cov: Mat }, n: number): { mean: number; cov: number; z: number } {
  let mean = 0; let cov = 0; let z = 0
  got.mean.forEach((v, i) => {
    mean = Math.max(mean, Math.abs(v - want.mean[i]))
    z = Math.max(z, Math.abs(v - want.mean[i]) / Math.sqrt(want.cov[i][i] / n))
  })
  got.cov.forEach((r, i) => r.forEach((v, j) => {
    cov = Math.max(cov, Math.abs(v - want.cov[i][j]))
    z = Math.max(z, Math.abs(v - want.cov[i][j]) / Math.sqrt((want.cov[i][i] * want.cov[j][j] + want.cov[i][j] ** 2) / n))
  }))
  return { mean, cov, z }
}

/**
 * Exact output moments of the unknown dims for reverse diffusion alone (corrector none), as the
 * sampler runs it: at step i the predictor sees x_K ~ N(m_i y, σ_i² I) (just replaced at t_i, fresh
 * and independent of x_U) and x_U; x_mean = x − f_i + G_i² s(x) = A x + G_i² P_i m μ with
 * A = a_i I − G_i² P_i (a_i = 1 on VE, 2 − √(1 − β_i) on VP), plus G_i z except after the last step (denoise). Coefficients come from the engine's own SDE at N = n.
 */
function replacementRecursion(sde: Sde, n: number, mu: number[], sigma: Mat, K: number[], y: number[]): { mean: number[]; cov: Mat } {
  const d = mu.length
  const U = mu.map((_, i) => i).filter((i) => !K.includes(i))
  const stepSde = withSteps(sde, n)
  const prior = sde.name === 'vesde' ? sde.toConfig().sigmaMax as number : 1
  let M: Mat = col(U.map(() => 0))
  let V: Mat = scale(eye(U.length), prior * prior)
  const ts = timeGrid(sde.T, sde.defaultEps, n)
  ts.forEach((tv, i) => {
    const [a, G2, tf32] = tf.tidy(() => {
      const t = tf.tensor1d([tv])
      const { f, G } = stepSde.discretize(tf.ones([1, 1]), t)
      return [1 - f.dataSync()[0], G.dataSync()[0] ** 2, t.dataSync()[0]]
    })
    const m = sde.marginalMeanCoeffAt(tf32)
    const s = sde.marginalStdAt(tf32)
    const P = inv(add(scale(sigma, m * m), scale(eye(d), s * s)))
    const A = add(scale(eye(d), a), scale(P, -G2))
    const c = matMul(scale(P, G2), col(mu.map((v) => v * m)))
    const AUU = sub(A, U, U)
    const AUK = sub(A, U, K)
    M = add(add(matMul(AUU, M), matMul(AUK, col(y.map((v) => v * m)))), sub(c, U, [0]))
    V = add(matMul(matMul(AUU, V), transpose(AUU)), scale(matMul(AUK, transpose(AUK)), s * s))
    if (i < n - 1) V = add(V, scale(eye(U.length), G2))
  })
  return { mean: M.map((r) => r[0]), cov: V }
}

async function take(res: SampleResult): Promise<Float32Array> {
  const x = new Float32Array(await res.samples.data())
  res.samples.dispose()
  return x
}

// A correlated 4-D Gaussian; dims 0 and 1 known.
const MU4 = [0.5, -1, 0.3, 1]
const SIGMA4: Mat = [[1, 0.6, 0.3, 0.2], [0.6, 1.5, 0.4, 0.5], [0.3, 0.4, 0.8, 0.3], [0.2, 0.5, 0.3, 1.2]]
const K4 = [0, 1]
const Y4 = [1.2, 0.4]
const MASK4 = new Float32Array([1, 1, 0, 0])
const REF4 = new Float32Array([1.2, 0.4, 0, 0])
const B = 4000

describe.each(['vesde', 'vpsde'])('inpainting, %s', (sdeName) => {
  const sde = createSde({ name: sdeName })
  const score = gaussianScore(MU4, SIGMA4, sde)
  const truth = conditional(MU4, SIGMA4, K4, Y4)
  const mEps = sde.marginalMeanCoeffAt(sde.defaultEps)

  it('reverse diffusion alone: unknown dims match the exact moments of the replacement recursion (and show its bias)', async () => {
    const before = tf.memory().numTensors
    const n = 30
    const x = await take(await sampleInpaint(score, sde, { shape: [4], batchSize: B, seed: 3, n, predictor: 'reverse_diffusion', corrector: 'none', reference: REF4, mask: MASK4 }))
    expect(tf.memory().numTensors).toBe(before)
    const exact = replacementRecursion(sde, n, MU4, SIGMA4, K4, Y4)
    const err = errors(moments(x, 4, truth.U), exact, B)
    const bias = errors(exact, truth, B)
    console.log(`[inpaint ${sdeName}] P-only n ${n}: vs recursion mean ${err.mean.toFixed(4)} cov ${err.cov.toFixed(4)} (max z ${err.z.toFixed(2)}); recursion vs conditional: mean ${bias.mean.toFixed(3)} cov ${bias.cov.toFixed(3)}`)
    expect(err.z).toBeLessThan(4.5)
    // Known dims: μ_ε(y) exactly (denoise keeps the mean of the replacement).
    for (let i = 0; i < B; i++) for (const k of K4) expect(Math.abs(x[i * 4 + k] - mEps * Y4[k])).toBeLessThan(1e-5)
  })

  it('PC with Langevin (snr 0.16, 5 steps, n 100): unknown dims follow the analytic conditional Gaussian', async () => {
    const reference = tf.tensor1d(REF4) // one reference for the batch, as a tensor the caller keeps
    const before = tf.memory().numTensors
    const res = await runInpaint(score, sde, { batchSize: B, seed: 4, n: 100, nSteps: 5 }, { shape: [4], reference, mask: MASK4 })
    expect(res.nfe).toBe(600)
    const x = await take(res)
    expect(tf.memory().numTensors).toBe(before)
    expect(reference.isDisposed).toBe(false)
    reference.dispose()
    const err = errors(moments(x, 4, truth.U), truth, B)
    console.log(`[inpaint ${sdeName}] PC n 100 × 5 Langevin: mean err ${err.mean.toFixed(4)}, cov err ${err.cov.toFixed(4)} (max z ${err.z.toFixed(2)}), ${res.seconds.toFixed(1)} s`)
    expect(x.every(Number.isFinite)).toBe(true)
    expect(err.mean).toBeLessThan(0.06)
    expect(err.cov).toBeLessThan(0.08)
    for (let i = 0; i < B; i++) for (const k of K4) expect(Math.abs(x[i * 4 + k] - mEps * Y4[k])).toBeLessThan(1e-5)
  })
})

describe('inpainting inputs', () => {
  const sde = createSde({ name: 'vesde' })
  const score = gaussianScore(MU4, SIGMA4, sde)

  it('takes per-sample references and masks, or one for the whole batch, and checks them', async () => {
    const ref = new Float32Array([1, 2, 3, 4, -1, -2, -3, -4])
    const mask = new Float32Array([1, 0, 1, 0, 0, 1, 0, 1])
    const x = await take(await sampleInpaint(score, sde, { shape: [4], batchSize: 2, n: 10, reference: ref, mask }))
    expect([x[0], x[2], x[5], x[7]].map((v) => Math.round(v * 1e4) / 1e4)).toEqual([1, 3, -2, -4])
    const shared = await take(await sampleInpaint(score, sde, { shape: [4], batchSize: 3, n: 10, reference: tf.tensor2d([[7, 0, 0, 0]]), mask: tf.tensor1d([1, 0, 0, 0]) }))
    expect([shared[0], shared[4], shared[8]].map((v) => Math.round(v * 1e4) / 1e4)).toEqual([7, 7, 7])
    await expect(sampleInpaint(score, sde, { shape: [4], batchSize: 2, n: 10, reference: new Float32Array(3), mask })).rejects.toThrow(/reference has 3 values/)
    await expect(sampleInpaint(score, sde, { shape: [4], batchSize: 2, n: 10, reference: ref, mask: new Float32Array(4).fill(0.5) })).rejects.toThrow(/only 0/)
    await expect(runInpaint(score, sde, { batchSize: 2, strength: 1 }, { shape: [4], reference: ref, mask })).rejects.toThrow(/strength/)
  })
})

// A tiny RGB model: 1×2 pixels × 3 channels, N(μ, Σ_pixels ⊗ Σ_channels) (eigenvalues 0.12 to 1.65).
const MU6 = [0.4, -0.2, 0.1, -0.3, 0.5, 0.2]
const SIGMA_PIXELS: Mat = [[1, 0.5], [0.5, 1]]
const SIGMA_CHANNELS: Mat = [[0.6, 0.3, 0.2], [0.3, 0.5, 0.25], [0.2, 0.25, 0.7]]
const SIGMA6: Mat = [0, 1, 2, 3, 4, 5].map((i) => [0, 1, 2, 3, 4, 5].map((j) => SIGMA_PIXELS[Math.floor(i / 3)][Math.floor(j / 3)] * SIGMA_CHANNELS[i % 3][j % 3]))
const GREY = [0.2, -0.3]

describe('colorisation', () => {
  it('uses an orthonormal M whose channel 0 is the grey level, and couple(decouple(x)) = x', () => {
    const M = COLOR_MATRIX.map((r) => [...r])
    const I = matMul(M, transpose(M))
    for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) expect(Math.abs(I[i][j] - (i === j ? 1 : 0))).toBeLessThan(1e-15)
    // score_sde's float32 M, to its printed digits.
    expect(M[0][0]).toBeCloseTo(0.57735014, 6)
    expect(M[0][1]).toBeCloseTo(-0.81649649, 6)
    expect(M[1][2]).toBeCloseTo(0.70710671, 6)
    tf.tidy(() => {
      const x = tf.randomNormal([2, 3, 4, 3], 0, 1, 'float32', 5)
      const back = couple(decouple(x))
      expect(tf.max(tf.abs(tf.sub(back, x))).dataSync()[0]).toBeLessThan(1e-6)
      // Norms are preserved (orthogonal), and a grey image decouples to (√3 g, 0, 0).
      expect(Math.abs(tf.norm(decouple(x)).dataSync()[0] - tf.norm(x).dataSync()[0])).toBeLessThan(1e-4)
      const g = tf.tile(toGrey(x), [1, 1, 1, 3])
      const w = decouple(g).dataSync()
      const gv = toGrey(x).dataSync()
      for (let p = 0; p < gv.length; p++) {
        expect(Math.abs(w[3 * p] - Math.sqrt(3) * gv[p])).toBeLessThan(1e-5)
        expect(Math.abs(w[3 * p + 1])).toBeLessThan(1e-6)
        expect(Math.abs(w[3 * p + 2])).toBeLessThan(1e-6)
      }
    })
  })

  /**
   * x | (mean of each pixel's RGB = g). In decoupled coordinates w = Qᵀx (Q = diag(M, M)) the known
   * dims are w_0 and w_3 = √3 g; x = Q w. `unknown` gives the moments of w_1, w_2, w_4, w_5 (the
   * analytic conditional, or the replacement recursion's answer); known w are m(ε)·√3 g at the end.
   */
  function rgbMoments(unknownOf: (muW: number[], sigmaW: Mat, K: number[], y: number[]) => { mean: number[]; cov: Mat }, knownScale: number) {
    const M = COLOR_MATRIX.map((r) => [...r])
    const Q = [0, 1, 2, 3, 4, 5].map((i) => [0, 1, 2, 3, 4, 5].map((j) => (Math.floor(i / 3) === Math.floor(j / 3) ? M[i % 3][j % 3] : 0)))
    const muW = matMul(transpose(Q), col(MU6)).map((r) => r[0])
    const sigmaW = matMul(matMul(transpose(Q), SIGMA6), Q)
    const U = [1, 2, 4, 5]
    const c = unknownOf(muW, sigmaW, [0, 3], GREY.map((g) => Math.sqrt(3) * g))
    const wMean = [0, 1, 2, 3, 4, 5].map((i) => (i === 0 || i === 3 ? knownScale * Math.sqrt(3) * GREY[i / 3] : c.mean[U.indexOf(i)]))
    const wCov = [0, 1, 2, 3, 4, 5].map((i) => [0, 1, 2, 3, 4, 5].map((j) => (U.includes(i) && U.includes(j) ? c.cov[U.indexOf(i)][U.indexOf(j)] : 0)))
    return { mean: matMul(Q, col(wMean)).map((r) => r[0]), cov: matMul(matMul(Q, wCov), transpose(Q)) }
  }

  /** Largest |mean(RGB) − m(ε)·g| over samples and pixels. */
  function greyError(x: Float32Array, mEps: number): number {
    let e = 0
    for (let i = 0; i < x.length / 6; i++) for (let p = 0; p < 2; p++) {
      e = Math.max(e, Math.abs((x[i * 6 + 3 * p] + x[i * 6 + 3 * p + 1] + x[i * 6 + 3 * p + 2]) / 3 - mEps * GREY[p]))
    }
    return e
  }

  describe.each(['vesde', 'vpsde'])('%s', (sdeName) => {
    const sde = createSde({ name: sdeName })
    const score = gaussianScore(MU6, SIGMA6, sde)
    const mEps = sde.marginalMeanCoeffAt(sde.defaultEps)

    it('reverse diffusion alone: RGB output matches the exact moments of the replacement recursion in the decoupled space', async () => {
      const n = 30
      const before = tf.memory().numTensors
      const x = await take(await sampleColorize(score, sde, { shape: [1, 2, 3], batchSize: B, seed: 8, n, predictor: 'reverse_diffusion', corrector: 'none', grey: new Float32Array(GREY) }))
      expect(tf.memory().numTensors).toBe(before)
      const exact = rgbMoments((mu, sigma, K, y) => replacementRecursion(sde, n, mu, sigma, K, y), mEps)
      const err = errors(moments(x, 6, [0, 1, 2, 3, 4, 5]), exact, B)
      const greyErr = greyError(x, mEps)
      console.log(`[colorize ${sdeName}] P-only n ${n} vs recursion: mean ${err.mean.toFixed(4)} cov ${err.cov.toFixed(4)} (max z ${err.z.toFixed(2)}); grey err ${greyErr.toExponential(2)}`)
      expect(err.z).toBeLessThan(4.5)
      expect(greyErr).toBeLessThan(1e-5)
    })

    it('PC with Langevin (snr 0.16, 4 steps, n 50): grey channel is the given grey, colour follows the analytic conditional', async () => {
      const before = tf.memory().numTensors
      const res = await runColorize(score, sde, { batchSize: B, seed: 7, n: 50, nSteps: 4 }, { shape: [1, 2, 3], grey: new Float32Array(GREY) })
      const x = await take(res)
      expect(tf.memory().numTensors).toBe(before)
      const truth = rgbMoments((mu, sigma, K, y) => conditional(mu, sigma, K, y), mEps)
      const greyErr = greyError(x, mEps)
      const err = errors(moments(x, 6, [0, 1, 2, 3, 4, 5]), truth, B)
      console.log(`[colorize ${sdeName}] PC: grey err ${greyErr.toExponential(2)} (vs m(ε)·g; 1 − m(ε) = ${(1 - mEps).toExponential(2)}), mean err ${err.mean.toFixed(4)}, cov err ${err.cov.toFixed(4)} (max z ${err.z.toFixed(2)}), ${res.seconds.toFixed(1)} s`)
      expect(greyErr).toBeLessThan(1e-5)
      expect(err.mean).toBeLessThan(0.06)
      expect(err.cov).toBeLessThan(0.08)
    })
  })

  it('accepts score_sde-style grey input (mean repeated over RGB) and refuses non-RGB shapes', async () => {
    const sde = createSde({ name: 'vesde' })
    const score = gaussianScore(MU6, SIGMA6, sde)
    const grey3 = tf.tensor4d([[[[0.2, 0.2, 0.2], [-0.3, -0.3, -0.3]]]])
    const x = await take(await sampleColorize(score, sde, { shape: [1, 2, 3], batchSize: 2, n: 10, grey: grey3 }))
    grey3.dispose()
    expect(Math.abs((x[0] + x[1] + x[2]) / 3 - 0.2)).toBeLessThan(1e-5)
    expect(Math.abs((x[9] + x[10] + x[11]) / 3 + 0.3)).toBeLessThan(1e-5)
    await expect(sampleColorize(score, sde, { shape: [2, 3], batchSize: 2, n: 10, grey: new Float32Array(2) })).rejects.toThrow(/\[H, W, 3\]/)
  })
})

describe('cancellation', () => {
  const sde = createSde({ name: 'vpsde' })
  const toy = gaussianToy()
  const runs: Record<string, (signal: AbortSignal, onStep?: () => void) => Promise<SampleResult>> = {
    inpaint: (signal, onStep) => sampleInpaint(gaussianScore(MU4, SIGMA4, sde), sde, { shape: [4], batchSize: 32, n: 30, reference: REF4, mask: MASK4, signal, onStep }),
    colorize: (signal, onStep) => sampleColorize(gaussianScore(MU6, SIGMA6, sde), sde, { shape: [1, 2, 3], batchSize: 32, n: 30, grey: new Float32Array(GREY), signal, onStep }),
    conditional: (signal, onStep) => runConditional(toy.scoreFn(sde), sde, { batchSize: 32, n: 30, label: 0 }, { shape: [2], classifier: gmmClassifier(toy, sde), signal, onStep })
  }

  it.each(Object.keys(runs))('%s: cancelling between steps frees every tensor', async (name) => {
    const before = tf.memory().numTensors
    const ctrl = new AbortController()
    let seen = 0
    await expect(runs[name](ctrl.signal, () => { if (++seen === 3) ctrl.abort() })).rejects.toThrow(/abort/i)
    expect(seen).toBe(3)
    expect(tf.memory().numTensors).toBe(before)
    await expect(runs[name](AbortSignal.abort())).rejects.toThrow()
    expect(tf.memory().numTensors).toBe(before)
  })
})
