// Dense float64 linear algebra for the feature metrics: the symmetric eigendecomposition behind
// the Fréchet distance's matrix square roots, and the few products around it. Matrices are
// row-major Float64Arrays of n×n.
//
// The eigensolver is the EISPACK pair tred2 + tql2 as published in JAMA (public domain):
// Householder reduction to tridiagonal form, then the implicit QL method with Wilkinson-type
// shifts. Both are backward stable, so for a symmetric A the result satisfies A = V·diag(λ)·Vᵀ
// with V orthogonal to ~1e-15 relative; at n = 128 it takes a few milliseconds.

export interface SymmetricEigen {
  /** Eigenvalues in ascending order. */
  values: Float64Array
  /** Eigenvectors as columns: vectors[i * n + j] is component i of eigenvector j. */
  vectors: Float64Array
}

/** Eigenvalues and eigenvectors of a symmetric n×n matrix (only the lower triangle is read). */
export function symmetricEigen(a: ArrayLike<number>, n: number): SymmetricEigen {
  if (!(Number.isInteger(n) && n >= 1)) throw new Error(`symmetricEigen: n must be a positive integer, got ${n}`)
  if (a.length !== n * n) throw new Error(`symmetricEigen: expected ${n}×${n} = ${n * n} values, got ${a.length}`)
  const v = new Float64Array(n * n)
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      const x = a[i * n + j]
      if (!Number.isFinite(x)) throw new Error(`symmetricEigen: entry (${i}, ${j}) is ${x}`)
      v[i * n + j] = x
      v[j * n + i] = x
    }
  }
  const d = new Float64Array(n)
  const e = new Float64Array(n)
  tred2(v, d, e, n)
  tql2(v, d, e, n)
  return { values: d, vectors: v }
}

/** Householder reduction of V (symmetric, in place) to tridiagonal form: diagonal d, sub-diagonal e. */
function tred2(V: Float64Array, d: Float64Array, e: Float64Array, n: number): void {
  for (let j = 0; j < n; j++) d[j] = V[(n - 1) * n + j]
  for (let i = n - 1; i > 0; i--) {
    let scale = 0
    let h = 0
    for (let k = 0; k < i; k++) scale += Math.abs(d[k])
    if (scale === 0) {
      e[i] = d[i - 1]
      for (let j = 0; j < i; j++) {
        d[j] = V[(i - 1) * n + j]
        V[i * n + j] = 0
        V[j * n + i] = 0
      }
    } else {
      for (let k = 0; k < i; k++) {
        d[k] /= scale
        h += d[k] * d[k]
      }
      let f = d[i - 1]
      let g = Math.sqrt(h)
      if (f > 0) g = -g
      e[i] = scale * g
      h -= f * g
      d[i - 1] = f - g
      for (let j = 0; j < i; j++) e[j] = 0
      for (let j = 0; j < i; j++) {
        f = d[j]
        V[j * n + i] = f
        g = e[j] + V[j * n + j] * f
        for (let k = j + 1; k <= i - 1; k++) {
          g += V[k * n + j] * d[k]
          e[k] += V[k * n + j] * f
        }
        e[j] = g
      }
      f = 0
      for (let j = 0; j < i; j++) {
        e[j] /= h
        f += e[j] * d[j]
      }
      const hh = f / (h + h)
      for (let j = 0; j < i; j++) e[j] -= hh * d[j]
      for (let j = 0; j < i; j++) {
        f = d[j]
        g = e[j]
        for (let k = j; k <= i - 1; k++) V[k * n + j] -= f * e[k] + g * d[k]
        d[j] = V[(i - 1) * n + j]
        V[i * n + j] = 0
      }
    }
    d[i] = h
  }
  // Accumulate the transformations.
  for (let i = 0; i < n - 1; i++) {
    V[(n - 1) * n + i] = V[i * n + i]
    V[i * n + i] = 1
    const h = d[i + 1]
    if (h !== 0) {
      for (let k = 0; k <= i; k++) d[k] = V[k * n + i + 1] / h
      for (let j = 0; j <= i; j++) {
        let g = 0
        for (let k = 0; k <= i; k++) g += V[k * n + i + 1] * V[k * n + j]
        for (let k = 0; k <= i; k++) V[k * n + j] -= g * d[k]
      }
    }
    for (let k = 0; k <= i; k++) V[k * n + i + 1] = 0
  }
  for (let j = 0; j < n; j++) {
    d[j] = V[(n - 1) * n + j]
    V[(n - 1) * n + j] = 0
  }
  V[(n - 1) * n + n - 1] = 1
  e[0] = 0
}

/** Implicit QL on the tridiagonal (d, e), accumulating rotations into V; sorts ascending. */
function tql2(V: Float64Array, d: Float64Array, e: Float64Array, n: number): void {
  for (let i = 1; i < n; i++) e[i - 1] = e[i]
  e[n - 1] = 0
  let f = 0
  let tst1 = 0
  const eps = 2 ** -52
  const maxIter = 60
  for (let l = 0; l < n; l++) {
    tst1 = Math.max(tst1, Math.abs(d[l]) + Math.abs(e[l]))
    let m = l
    while (m < n - 1 && Math.abs(e[m]) > eps * tst1) m++
    if (m > l) {
      let iter = 0
      do {
        if (++iter > maxIter) throw new Error(`symmetricEigen: QL did not converge for eigenvalue ${l} in ${maxIter} iterations`)
        let g = d[l]
        let p = (d[l + 1] - g) / (2 * e[l])
        let r = Math.hypot(p, 1)
        if (p < 0) r = -r
        d[l] = e[l] / (p + r)
        d[l + 1] = e[l] * (p + r)
        const dl1 = d[l + 1]
        let h = g - d[l]
        for (let i = l + 2; i < n; i++) d[i] -= h
        f += h
        p = d[m]
        let c = 1
        let c2 = c
        let c3 = c
        const el1 = e[l + 1]
        let s = 0
        let s2 = 0
        for (let i = m - 1; i >= l; i--) {
          c3 = c2
          c2 = c
          s2 = s
          g = c * e[i]
          h = c * p
          r = Math.hypot(p, e[i])
          e[i + 1] = s * r
          s = e[i] / r
          c = p / r
          p = c * d[i] - s * g
          d[i + 1] = h + s * (c * g + s * d[i])
          for (let k = 0; k < n; k++) {
            const row = k * n
            h = V[row + i + 1]
            V[row + i + 1] = s * V[row + i] + c * h
            V[row + i] = c * V[row + i] - s * h
          }
        }
        p = (-s * s2 * c3 * el1 * e[l]) / dl1
        e[l] = s * p
        d[l] = c * p
      } while (Math.abs(e[l]) > eps * tst1)
    }
    d[l] += f
    e[l] = 0
  }
  // Selection sort (n swaps at most), moving eigenvector columns along.
  for (let i = 0; i < n - 1; i++) {
    let k = i
    let p = d[i]
    for (let j = i + 1; j < n; j++) {
      if (d[j] < p) {
        k = j
        p = d[j]
      }
    }
    if (k !== i) {
      d[k] = d[i]
      d[i] = p
      for (let j = 0; j < n; j++) {
        const t = V[j * n + i]
        V[j * n + i] = V[j * n + k]
        V[j * n + k] = t
      }
    }
  }
}

/**
 * f(A) = V·diag(f(λ))·Vᵀ for a symmetric A with eigendecomposition (values, vectors); used with
 * f = √max(λ, 0) for the PSD square root (tiny negative eigenvalues from round-off become 0).
 */
export function symmetricFunction(eig: SymmetricEigen, n: number, f: (lambda: number) => number): Float64Array {
  const { values, vectors } = eig
  const fl = Float64Array.from(values, f)
  const out = new Float64Array(n * n)
  for (let i = 0; i < n; i++) {
    for (let j = i; j < n; j++) {
      let s = 0
      for (let k = 0; k < n; k++) s += vectors[i * n + k] * fl[k] * vectors[j * n + k]
      out[i * n + j] = s
      out[j * n + i] = s
    }
  }
  return out
}

/** The PSD square root of a symmetric matrix, eigenvalues below 0 clamped to 0. */
export function psdSqrt(a: ArrayLike<number>, n: number): Float64Array {
  return symmetricFunction(symmetricEigen(a, n), n, (l) => Math.sqrt(Math.max(l, 0)))
}

/** C = A·B for n×n row-major matrices. */
export function matMul(a: ArrayLike<number>, b: ArrayLike<number>, n: number): Float64Array {
  const c = new Float64Array(n * n)
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < n; k++) {
      const aik = a[i * n + k]
      if (aik === 0) continue
      const bRow = k * n
      const cRow = i * n
      for (let j = 0; j < n; j++) c[cRow + j] += aik * b[bRow + j]
    }
  }
  return c
}

/** (A + Aᵀ)/2: removes the asymmetry round-off leaves in products that are symmetric in exact arithmetic. */
export function symmetrize(a: Float64Array, n: number): Float64Array {
  const out = new Float64Array(n * n)
  for (let i = 0; i < n; i++) {
    for (let j = i; j < n; j++) {
      const s = 0.5 * (a[i * n + j] + a[j * n + i])
      out[i * n + j] = s
      out[j * n + i] = s
    }
  }
  return out
}

export function trace(a: ArrayLike<number>, n: number): number {
  let t = 0
  for (let i = 0; i < n; i++) t += a[i * n + i]
  return t
}
