// The symmetric eigensolver and the Fréchet distance against known answers: A = VΛVᵀ with V
// orthogonal, FD = 0 for identical sets, the diagonal closed form Σ(σ₁ − σ₂)², the 2×2 closed form
// tr √(Σ₁^{½}Σ₂Σ₁^{½}) = √(tr Σ₁Σ₂ + 2√(det Σ₁ det Σ₂)), Σ₂ = cΣ₁ at d = 128, and the sample estimate
// converging to the population value.
import { describe, expect, it } from 'vitest'
import { Rng } from '../../src/engine/rng'
import { frechetDistance, frechetDistanceOf, frechetToReference, gaussianStats } from '../../src/engine/metrics'
import { matMul, psdSqrt, symmetricEigen } from '../../src/engine/metrics/linalg'

function randomSymmetric(n: number, rng: Rng): Float64Array {
  const a = new Float64Array(n * n)
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      const v = rng.normal()
      a[i * n + j] = v
      a[j * n + i] = v
    }
  }
  return a
}

/** A random SPD matrix B·Bᵀ/n + δI. */
function randomSpd(n: number, rng: Rng, delta = 0.1): Float64Array {
  const b = Float64Array.from({ length: n * n }, () => rng.normal())
  const a = new Float64Array(n * n)
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0
      for (let k = 0; k < n; k++) s += b[i * n + k] * b[j * n + k]
      a[i * n + j] = s / n + (i === j ? delta : 0)
    }
  }
  return a
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]))
  return m
}

/** n samples of N(mean, L Lᵀ) with L the PSD root of cov. */
function gaussianSamples(n: number, mean: number[], cov: Float64Array, rng: Rng): Float64Array {
  const d = mean.length
  const root = psdSqrt(cov, d)
  const out = new Float64Array(n * d)
  const z = new Float64Array(d)
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < d; j++) z[j] = rng.normal()
    for (let j = 0; j < d; j++) {
      let s = mean[j]
      for (let k = 0; k < d; k++) s += root[j * d + k] * z[k]
      out[i * d + j] = s
    }
  }
  return out
}

describe('symmetricEigen', () => {
  it.each([1, 2, 5, 40, 128])('reconstructs a random symmetric matrix of size %i with orthonormal vectors, values ascending', (n) => {
    const a = randomSymmetric(n, new Rng(n))
    const { values, vectors } = symmetricEigen(a, n)
    const vl = new Float64Array(n * n)
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) vl[i * n + j] = vectors[i * n + j] * values[j]
    const vt = new Float64Array(n * n)
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) vt[i * n + j] = vectors[j * n + i]
    expect(maxAbsDiff(matMul(vl, vt, n), a)).toBeLessThan(1e-11 * n)
    const identity = Float64Array.from({ length: n * n }, (_, k) => (k % (n + 1) === 0 ? 1 : 0))
    expect(maxAbsDiff(matMul(vt, vectors, n), identity)).toBeLessThan(1e-12 * n)
    for (let i = 1; i < n; i++) expect(values[i]).toBeGreaterThanOrEqual(values[i - 1])
  })

  it('handles repeated eigenvalues, zero rows and rank deficiency', () => {
    const n = 6
    // diag(2, 2, 2, 0, 0, 5) rotated by a random orthogonal matrix, plus an all-zero matrix.
    const q = symmetricEigen(randomSymmetric(n, new Rng(9)), n).vectors
    const lambda = [2, 2, 2, 0, 0, 5]
    const a = new Float64Array(n * n)
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) for (let k = 0; k < n; k++) a[i * n + j] += q[i * n + k] * lambda[k] * q[j * n + k]
    const { values } = symmetricEigen(a, n)
    expect(maxAbsDiff(values, [0, 0, 2, 2, 2, 5])).toBeLessThan(1e-12)
    expect(Array.from(symmetricEigen(new Float64Array(16), 4).values)).toEqual([0, 0, 0, 0])
  })

  it('rejects non-finite entries and wrong sizes', () => {
    expect(() => symmetricEigen([1, NaN, NaN, 1], 2)).toThrow(/entry \(1, 0\) is NaN/)
    expect(() => symmetricEigen([1, 2, 3], 2)).toThrow(/expected 2×2/)
  })

  it('psdSqrt squares back to an SPD matrix', () => {
    const n = 30
    const a = randomSpd(n, new Rng(3))
    const r = psdSqrt(a, n)
    expect(maxAbsDiff(matMul(r, r, n), a)).toBeLessThan(1e-12)
  })
})

describe('Fréchet distance', () => {
  it('is 0 for a set against itself and for two identical sets (d = 128)', () => {
    const rng = new Rng(1)
    const x = Float32Array.from({ length: 600 * 128 }, () => Math.max(rng.normal() * 3 + 1, 0)) // ReLU-like, some dead units
    expect(frechetDistanceOf(x, x, 128)).toBeLessThan(1e-9)
    expect(frechetDistanceOf(x, x.slice(), 128)).toBeLessThan(1e-9)
  })

  it('matches |Δμ|² + Σ(σ₁ − σ₂)² for diagonal covariances', () => {
    const d = 5
    const mean1 = Float64Array.from([0, 1, 2, 3, 4])
    const mean2 = Float64Array.from([1, 1, 0, 3, 4.5])
    const s1 = [1, 2, 0.5, 3, 0.1]
    const s2 = [2, 2, 1.5, 0.5, 0.1]
    const diag = (s: number[]) => Float64Array.from({ length: d * d }, (_, k) => (k % (d + 1) === 0 ? s[k / (d + 1)] ** 2 : 0))
    const expected = 1 + 0 + 4 + 0 + 0.25 + s1.reduce((a, v, i) => a + (v - s2[i]) ** 2, 0)
    expect(frechetDistance({ dim: d, mean: mean1, cov: diag(s1) }, { dim: d, mean: mean2, cov: diag(s2) })).toBeCloseTo(expected, 10)
  })

  it('matches the 2×2 closed form for non-diagonal covariances, both orders', () => {
    const c1 = Float64Array.from([2, 0.8, 0.8, 1])
    const c2 = Float64Array.from([1, -0.5, -0.5, 3])
    const m1 = Float64Array.from([0.5, -1])
    const m2 = Float64Array.from([2, 1])
    const det = (c: Float64Array) => c[0] * c[3] - c[1] * c[2]
    const trProd = c1[0] * c2[0] + c1[1] * c2[2] + c1[2] * c2[1] + c1[3] * c2[3]
    const trRoot = Math.sqrt(trProd + 2 * Math.sqrt(det(c1) * det(c2)))
    const expected = 1.5 ** 2 + 2 ** 2 + c1[0] + c1[3] + c2[0] + c2[3] - 2 * trRoot
    expect(frechetDistance({ dim: 2, mean: m1, cov: c1 }, { dim: 2, mean: m2, cov: c2 })).toBeCloseTo(expected, 12)
    expect(frechetDistance({ dim: 2, mean: m2, cov: c2 }, { dim: 2, mean: m1, cov: c1 })).toBeCloseTo(expected, 12)
  })

  it('gives (1 − √c)² tr Σ for Σ₂ = cΣ₁ with a dense 128×128 Σ₁', () => {
    const d = 128
    const c1 = randomSpd(d, new Rng(7), 0.01)
    const c = 2.5
    const c2 = c1.map((v) => c * v)
    const zero = new Float64Array(d)
    let tr = 0
    for (let i = 0; i < d; i++) tr += c1[i * d + i]
    const expected = (1 - Math.sqrt(c)) ** 2 * tr
    expect(Math.abs(frechetDistance({ dim: d, mean: zero, cov: c1 }, { dim: d, mean: zero, cov: c2 }) - expected)).toBeLessThan(1e-9 * expected)
  })

  it('estimated from samples, converges to the population value', () => {
    const rng = new Rng(11)
    const d = 3
    const cov1 = Float64Array.from([1, 0.5, 0, 0.5, 1, 0.3, 0, 0.3, 2])
    const cov2 = Float64Array.from([2, -0.4, 0.2, -0.4, 1, 0, 0.2, 0, 0.5])
    const m1 = [0, 0, 0]
    const m2 = [1, -1, 0.5]
    const truth = frechetDistance({ dim: d, mean: Float64Array.from(m1), cov: cov1 }, { dim: d, mean: Float64Array.from(m2), cov: cov2 })
    const x = gaussianSamples(40000, m1, cov1, rng)
    const y = gaussianSamples(40000, m2, cov2, rng)
    const est = frechetDistanceOf(x, y, d)
    expect(Math.abs(est - truth)).toBeLessThan(0.03 * truth)
    const s = gaussianStats(x, d)
    expect(s.n).toBe(40000)
    expect(maxAbsDiff(s.cov, cov1)).toBeLessThan(0.05)
  })

  it('uses the unbiased covariance and rejects ragged input', () => {
    const s = gaussianStats([0, 0, 2, 2], 2) // two points: var = 2 with n − 1
    expect(Array.from(s.mean)).toEqual([1, 1])
    expect(Array.from(s.cov)).toEqual([2, 2, 2, 2])
    expect(() => gaussianStats([1, 2, 3], 2)).toThrow(/whole number of 2-dimensional/)
    expect(() => gaussianStats([1, 2], 2)).toThrow(/at least 2/)
  })
})

describe('FD to a fixed reference', () => {
  it('equals frechetDistance with fewer vectors than dimensions (the n×n route) and with more (the usual one)', () => {
    const rng = new Rng(11)
    const d = 48
    // A correlated reference and sets that differ from it in mean and spread.
    const refX = Float64Array.from({ length: 400 * d }, (_, i) => rng.normal() * (1 + (i % d) / d) + ((i % d) % 3 === 0 ? 0.5 : 0))
    const ref = gaussianStats(refX, d)
    const fd = frechetToReference(ref)
    for (const n of [2, 7, 30, 48, 49, 120]) {
      const x = Float64Array.from({ length: n * d }, () => 1.3 * rng.normal() + 0.2)
      const want = frechetDistance(gaussianStats(x, d), ref)
      // Relative 1e-7: for n ≪ d the dim×dim route takes √ of ~d − n round-off eigenvalues near
      // 0 (each ~1e-7 after the root), which the n×n route never sees.
      expect(Math.abs(fd(x) - want), `n = ${n}: ${fd(x)} vs ${want}`).toBeLessThan(1e-7 * want)
    }
    // The set equal to the reference's own vectors: 0 either way.
    expect(fd(refX)).toBeCloseTo(0, 8)
  })

  it('reads 2,048-d Inception-sized features of 200 samples in seconds (the dim×dim route takes minutes in JS)', () => {
    const rng = new Rng(12)
    const d = 2048
    const ref = gaussianStats(Float64Array.from({ length: 64 * d }, () => rng.normal()), d)
    const fd = frechetToReference(ref)
    const x = Float64Array.from({ length: 200 * d }, () => rng.normal())
    const t = performance.now()
    const value = fd(x)
    const seconds = (performance.now() - t) / 1000
    console.log(`[frechetToReference] n 200, d 2048: ${seconds.toFixed(2)} s`)
    expect(Number.isFinite(value) && value > 0).toBe(true)
    expect(seconds).toBeLessThan(15)
  })
})
