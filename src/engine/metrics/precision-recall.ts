// Improved precision and recall (Kynkäänniemi et al. 2019, science.md §8). Each feature set
// spans a "manifold": the union of balls around its vectors, each ball's radius the distance to
// that vector's k-th nearest neighbour in its own set (k = 3, the paper's choice).
//   precision = share of generated vectors inside the real manifold   (blur lowers it)
//   recall    = share of real vectors inside the generated manifold   (dropped modes lower it)
// Exact k-NN by brute force: squared distances |a|² + |b|² − 2aᵀb from float32 inner products in
// row blocks (gram.ts), the rest in JS. A vector's own zero distance is skipped, so with
// duplicates the radius is the k-th nearest other vector (what the reference code's
// (k+1)-th smallest including self gives).
import { rowsOf } from './frechet'
import { gramBlocks, rowSquaredNorms } from './gram'

export interface PrecisionRecallOptions {
  /** Neighbour whose distance sets each ball's radius (default 3). */
  k?: number
  /** Rows per block of the distance matrix (memory: blockRows × n floats). */
  blockRows?: number
}

export interface PrecisionRecall {
  precision: number
  recall: number
  k: number
}

export const PRECISION_RECALL_DEFAULTS = { k: 3, blockRows: 512 } as const

/** Precision and recall of generated features against real ones (each n×dim, row-major). */
export async function precisionRecall(real: Float32Array, generated: Float32Array, dim: number, opts: PrecisionRecallOptions = {}): Promise<PrecisionRecall> {
  const k = opts.k ?? PRECISION_RECALL_DEFAULTS.k
  const blockRows = opts.blockRows ?? PRECISION_RECALL_DEFAULTS.blockRows
  const nReal = rowsOf(real, dim, 'precisionRecall')
  const nGen = rowsOf(generated, dim, 'precisionRecall')
  if (!(Number.isInteger(k) && k >= 1)) throw new Error(`precisionRecall: k must be a positive integer, got ${k}`)
  if (nReal <= k || nGen <= k) throw new Error(`precisionRecall: each set needs more than k = ${k} vectors (got ${nReal} real, ${nGen} generated)`)
  const realRadii = await knnRadii(real, dim, k, blockRows)
  const genRadii = await knnRadii(generated, dim, k, blockRows)
  return {
    precision: await shareInside(generated, real, realRadii, dim, blockRows),
    recall: await shareInside(real, generated, genRadii, dim, blockRows),
    k
  }
}

/** Squared distance from each vector of x to its k-th nearest other vector in x. */
export async function knnRadii(x: Float32Array, dim: number, k: number, blockRows: number = PRECISION_RECALL_DEFAULTS.blockRows): Promise<Float64Array> {
  const n = x.length / dim
  const norms = rowSquaredNorms(x, dim)
  const radii = new Float64Array(n)
  const best = new Float64Array(k) // the k smallest so far, ascending
  await gramBlocks(
    x,
    x,
    dim,
    (start, rows, g) => {
      for (let r = 0; r < rows; r++) {
        const i = start + r
        best.fill(Infinity)
        const ni = norms[i]
        for (let j = 0; j < n; j++) {
          if (j === i) continue
          const d2 = Math.max(ni + norms[j] - 2 * g[r * n + j], 0)
          if (d2 >= best[k - 1]) continue
          let p = k - 1
          while (p > 0 && best[p - 1] > d2) {
            best[p] = best[p - 1]
            p--
          }
          best[p] = d2
        }
        radii[i] = best[k - 1]
      }
    },
    blockRows
  )
  return radii
}

/** Share of the vectors of `query` within radius (squared) of at least one vector of `manifold`. */
export async function shareInside(query: Float32Array, manifold: Float32Array, radii: Float64Array, dim: number, blockRows: number = PRECISION_RECALL_DEFAULTS.blockRows): Promise<number> {
  const nQ = query.length / dim
  const nM = manifold.length / dim
  const qNorms = rowSquaredNorms(query, dim)
  const mNorms = rowSquaredNorms(manifold, dim)
  let inside = 0
  await gramBlocks(
    query,
    manifold,
    dim,
    (start, rows, g) => {
      for (let r = 0; r < rows; r++) {
        const qi = qNorms[start + r]
        for (let j = 0; j < nM; j++) {
          if (qi + mNorms[j] - 2 * g[r * nM + j] <= radii[j]) {
            inside++
            break
          }
        }
      }
    },
    blockRows
  )
  return inside / nQ
}
