// Fréchet distance between Gaussians fitted to two feature sets (science.md §8; Heusel et al.
// 2017 with Inception features, "FID"; here any feature network, so numbers compare only to
// themselves and only at equal N):
//   FD = |μ₁ − μ₂|² + tr(Σ₁ + Σ₂ − 2(Σ₁^{½} Σ₂ Σ₁^{½})^{½})
// The matrix square roots go through the symmetric eigendecomposition (linalg.ts) in float64:
// Σ₁^{½} from Σ₁'s eigenpairs, then tr((Σ₁^{½}Σ₂Σ₁^{½})^{½}) = Σ √λᵢ over the eigenvalues of that
// symmetric PSD product. Round-off can leave eigenvalues a hair below 0; they are clamped to 0
// (as scipy.linalg.sqrtm's real part does in pytorch-fid, without its complex detour).
import { matMul, psdSqrt, symmetricEigen, symmetrize, trace } from './linalg'

/** Mean and covariance of a set of feature vectors (float64). */
export interface GaussianStats {
  /** Number of vectors the statistics came from (0 for a Gaussian given directly). */
  n: number
  dim: number
  mean: Float64Array
  /** dim×dim, row-major; unbiased (divides by n − 1, as numpy.cov and pytorch-fid do). */
  cov: Float64Array
}

/** Mean and unbiased covariance of n vectors of `dim` values (x is n×dim, row-major). */
export function gaussianStats(x: ArrayLike<number>, dim: number): GaussianStats {
  const n = rowsOf(x, dim, 'gaussianStats')
  if (n < 2) throw new Error(`gaussianStats: a covariance needs at least 2 vectors, got ${n}`)
  const mean = new Float64Array(dim)
  for (let i = 0; i < n; i++) for (let j = 0; j < dim; j++) mean[j] += x[i * dim + j]
  for (let j = 0; j < dim; j++) mean[j] /= n
  // Upper triangle of Σ (x − μ)(x − μ)ᵀ, one centred row at a time.
  const cov = new Float64Array(dim * dim)
  const row = new Float64Array(dim)
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < dim; j++) row[j] = x[i * dim + j] - mean[j]
    for (let a = 0; a < dim; a++) {
      const ra = row[a]
      if (ra === 0) continue
      const off = a * dim
      for (let b = a; b < dim; b++) cov[off + b] += ra * row[b]
    }
  }
  for (let a = 0; a < dim; a++) {
    for (let b = a; b < dim; b++) {
      const c = cov[a * dim + b] / (n - 1)
      cov[a * dim + b] = c
      cov[b * dim + a] = c
    }
  }
  return { n, dim, mean, cov }
}

/** FD between two Gaussians (from gaussianStats, or given directly as mean and covariance). */
export function frechetDistance(a: Pick<GaussianStats, 'dim' | 'mean' | 'cov'>, b: Pick<GaussianStats, 'dim' | 'mean' | 'cov'>): number {
  const d = a.dim
  if (b.dim !== d) throw new Error(`frechetDistance: dimensions differ (${a.dim} vs ${b.dim})`)
  for (const [s, label] of [[a, 'first'], [b, 'second']] as const) {
    if (s.mean.length !== d || s.cov.length !== d * d) throw new Error(`frechetDistance: the ${label} Gaussian's mean or covariance does not have dimension ${d}`)
  }
  let meanTerm = 0
  for (let j = 0; j < d; j++) meanTerm += (a.mean[j] - b.mean[j]) ** 2
  const rootA = psdSqrt(a.cov, d)
  const middle = symmetrize(matMul(matMul(rootA, b.cov, d), rootA, d), d)
  let traceRoot = 0
  for (const l of symmetricEigen(middle, d).values) traceRoot += Math.sqrt(Math.max(l, 0))
  const fd = meanTerm + trace(a.cov, d) + trace(b.cov, d) - 2 * traceRoot
  // Equal inputs give ±1e-12-scale round-off; the distance itself is never negative.
  return Math.max(fd, 0)
}

/**
 * FD of feature sets to one fixed reference Gaussian, for measuring many sets against the same
 * test images: the same number as frechetDistance(gaussianStats(x), ref), computed cheaply.
 * With n ≤ dim vectors (1,000 samples of 2,048-d Inception features) the set's covariance
 * B = XᵀX/(n − 1) (X centred, n×dim) has rank < n, and A^{½}BA^{½} has the nonzero eigenvalues of
 * the n×n matrix X·A·Xᵀ/(n − 1): no dim×dim square root or eigenproblem at all, O(n·dim²). With
 * more vectors than dimensions it is the usual formula, with A^{½} computed once.
 */
export function frechetToReference(ref: Pick<GaussianStats, 'dim' | 'mean' | 'cov'>): (x: ArrayLike<number>) => number {
  const d = ref.dim
  const traceRef = trace(ref.cov, d)
  let rootRef: Float64Array | null = null
  return (x) => {
    const n = rowsOf(x, d, 'frechetToReference')
    if (n < 2) throw new Error(`frechetToReference: a covariance needs at least 2 vectors, got ${n}`)
    if (n > d) {
      rootRef ??= psdSqrt(ref.cov, d)
      const b = gaussianStats(x, d)
      let meanTerm = 0
      for (let j = 0; j < d; j++) meanTerm += (b.mean[j] - ref.mean[j]) ** 2
      const middle = symmetrize(matMul(matMul(rootRef, b.cov, d), rootRef, d), d)
      let traceRoot = 0
      for (const l of symmetricEigen(middle, d).values) traceRoot += Math.sqrt(Math.max(l, 0))
      return Math.max(meanTerm + traceRef + trace(b.cov, d) - 2 * traceRoot, 0)
    }
    const mean = new Float64Array(d)
    for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) mean[j] += x[i * d + j]
    for (let j = 0; j < d; j++) mean[j] /= n
    const centred = new Float64Array(n * d)
    let traceB = 0
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < d; j++) {
        const v = x[i * d + j] - mean[j]
        centred[i * d + j] = v
        traceB += v * v
      }
    }
    traceB /= n - 1
    let meanTerm = 0
    for (let j = 0; j < d; j++) meanTerm += (mean[j] - ref.mean[j]) ** 2
    // Y = X·A (n×dim), then M = Y·Xᵀ/(n − 1) (n×n, symmetric PSD).
    const y = new Float64Array(n * d)
    for (let i = 0; i < n; i++) {
      const yRow = i * d
      for (let k = 0; k < d; k++) {
        const xik = centred[i * d + k]
        if (xik === 0) continue
        const aRow = k * d
        for (let j = 0; j < d; j++) y[yRow + j] += xik * ref.cov[aRow + j]
      }
    }
    const m = new Float64Array(n * n)
    for (let i = 0; i < n; i++) {
      for (let j = 0; j <= i; j++) {
        let s = 0
        for (let k = 0; k < d; k++) s += y[i * d + k] * centred[j * d + k]
        m[i * n + j] = s / (n - 1)
      }
    }
    let traceRoot = 0
    // symmetricEigen reads only the lower triangle, which is all M holds.
    for (const l of symmetricEigen(m, n).values) traceRoot += Math.sqrt(Math.max(l, 0))
    return Math.max(meanTerm + traceRef + traceB - 2 * traceRoot, 0)
  }
}

/** FD between the Gaussians fitted to two feature sets x and y (each n×dim, row-major). */
export function frechetDistanceOf(x: ArrayLike<number>, y: ArrayLike<number>, dim: number): number {
  return frechetDistance(gaussianStats(x, dim), gaussianStats(y, dim))
}

/** Number of rows of a row-major n×dim array, with a named error when it does not divide. */
export function rowsOf(x: ArrayLike<number>, dim: number, where: string): number {
  if (!(Number.isInteger(dim) && dim >= 1)) throw new Error(`${where}: dim must be a positive integer, got ${dim}`)
  if (x.length % dim !== 0) throw new Error(`${where}: ${x.length} values are not a whole number of ${dim}-dimensional vectors`)
  return x.length / dim
}
