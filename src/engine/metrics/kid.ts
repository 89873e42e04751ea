// Kernel Inception Distance (Bińkowski et al. 2018, science.md §8) over any features: the
// unbiased estimate of MMD² with the cubic polynomial kernel k(x, y) = (xᵀy/d + 1)³,
//   MMD²_u = Σ_{i≠j} k(xᵢ,xⱼ)/(m(m−1)) + Σ_{i≠j} k(yᵢ,yⱼ)/(m(m−1)) − 2 Σ_{i,j} k(xᵢ,yⱼ)/m²,
// averaged over random subsets of m vectors from each set (drawn without replacement within a
// subset), with the standard deviation over subsets (population std, as torch-fidelity reports).
// Its expectation is 0 for equal distributions at any m, so unlike FD it can come out negative.
// Inner products run in float32 on the tfjs backend (gram.ts); the kernel and the sums in float64.
import { Rng } from '../rng'
import { rowsOf } from './frechet'
import { gramBlocks } from './gram'

export interface KidOptions {
  /** Vectors per subset; default min(1000, ⌊min(n_x, n_y)/2⌋) (see below). */
  subsetSize?: number
  /** Number of subsets (default 100). */
  subsets?: number
  seed?: number
}

export interface KidResult {
  /** Mean of MMD²_u over the subsets. */
  mean: number
  /** Standard deviation over the subsets. */
  std: number
  subsetSize: number
  subsets: number
}

export const KID_DEFAULTS = { maxSubsetSize: 1000, subsets: 100 } as const

/**
 * The default subset size. The usual choice is 1000; it is capped at half the smaller set because
 * with m = n every subset is the whole set (the std would read 0 and say nothing). The mean is
 * unbiased at any m, so a smaller m only widens the spread.
 */
export function defaultKidSubsetSize(nX: number, nY: number): number {
  return Math.max(2, Math.min(KID_DEFAULTS.maxSubsetSize, Math.floor(Math.min(nX, nY) / 2)))
}

/** KID between feature sets x and y (each n×dim, row-major). */
export async function kernelInceptionDistance(x: Float32Array, y: Float32Array, dim: number, opts: KidOptions = {}): Promise<KidResult> {
  const nX = rowsOf(x, dim, 'kernelInceptionDistance')
  const nY = rowsOf(y, dim, 'kernelInceptionDistance')
  const m = opts.subsetSize ?? defaultKidSubsetSize(nX, nY)
  const subsets = opts.subsets ?? KID_DEFAULTS.subsets
  if (!(Number.isInteger(m) && m >= 2)) throw new Error(`KID subset size must be an integer ≥ 2, got ${m}`)
  if (m > nX || m > nY) throw new Error(`KID subset size ${m} is larger than a feature set (${nX} and ${nY} vectors)`)
  if (!(Number.isInteger(subsets) && subsets >= 1)) throw new Error(`KID needs at least one subset, got ${subsets}`)
  const rng = new Rng(opts.seed ?? 0)
  const values: number[] = []
  for (let s = 0; s < subsets; s++) {
    const xs = gatherRows(x, dim, sampleWithoutReplacement(nX, m, rng))
    const ys = gatherRows(y, dim, sampleWithoutReplacement(nY, m, rng))
    const kxx = await kernelSum(xs, xs, dim, true)
    const kyy = await kernelSum(ys, ys, dim, true)
    const kxy = await kernelSum(xs, ys, dim, false)
    values.push((kxx + kyy) / (m * (m - 1)) - (2 * kxy) / (m * m))
  }
  const mean = values.reduce((a, v) => a + v, 0) / subsets
  const std = Math.sqrt(values.reduce((a, v) => a + (v - mean) ** 2, 0) / subsets)
  return { mean, std, subsetSize: m, subsets }
}

/** Σ k(aᵢ, bⱼ) over all pairs, or over i ≠ j when a and b are the same set. */
async function kernelSum(a: Float32Array, b: Float32Array, dim: number, offDiagonal: boolean): Promise<number> {
  let total = 0
  const nB = b.length / dim
  await gramBlocks(a, b, dim, (start, rows, g) => {
    for (let r = 0; r < rows; r++) {
      const i = start + r
      let s = 0
      for (let j = 0; j < nB; j++) {
        if (offDiagonal && j === i) continue
        const t = g[r * nB + j] / dim + 1
        s += t * t * t
      }
      total += s
    }
  })
  return total
}

/** m distinct indices out of n, in random order (a partial Fisher–Yates shuffle). */
export function sampleWithoutReplacement(n: number, m: number, rng: Rng): Int32Array {
  const pool = new Int32Array(n)
  for (let i = 0; i < n; i++) pool[i] = i
  for (let i = 0; i < m; i++) {
    const j = i + rng.int(n - i)
    const t = pool[i]
    pool[i] = pool[j]
    pool[j] = t
  }
  return pool.slice(0, m)
}

/** The rows of x (n×dim) at the given indices, as a new m×dim array. */
export function gatherRows(x: Float32Array, dim: number, indices: ArrayLike<number>): Float32Array {
  const out = new Float32Array(indices.length * dim)
  for (let r = 0; r < indices.length; r++) out.set(x.subarray(indices[r] * dim, (indices[r] + 1) * dim), r * dim)
  return out
}
