// Inner products between two sets of feature vectors, in row blocks, on the TensorFlow.js
// backend (a 10k×10k×128 product is ~13 GFLOP: seconds there, minutes in plain JS). Only the
// float32 matrix product runs in tfjs; callers read each block back and do their own float64
// reductions on it. Every tensor is disposed before the returned promise settles.
import { tf } from '../tf'

/**
 * Calls `onBlock(start, rows, g)` for consecutive row blocks of A·Bᵀ, where A is nA×dim and B
 * is nB×dim (row-major) and g is rows×nB, row-major: g[r * nB + j] = a[start + r] · b[j].
 */
export async function gramBlocks(a: Float32Array, b: Float32Array, dim: number, onBlock: (start: number, rows: number, g: Float32Array) => void, blockRows = 512): Promise<void> {
  const nA = a.length / dim
  const nB = b.length / dim
  if (!Number.isInteger(nA) || !Number.isInteger(nB)) throw new Error(`gramBlocks: inputs are not whole ${dim}-dimensional vectors`)
  if (nA === 0 || nB === 0) return
  // Bᵀ once, as [dim, nB]: a plain matMul is much faster on wasm than the transposeB flag (nets/layers.ts).
  const bT = tf.tidy(() => tf.transpose(tf.tensor2d(b, [nB, dim])))
  try {
    for (let start = 0; start < nA; start += blockRows) {
      const rows = Math.min(blockRows, nA - start)
      const g = tf.tidy(() => tf.matMul(tf.tensor2d(a.subarray(start * dim, (start + rows) * dim), [rows, dim]), bT as tf.Tensor2D))
      try {
        // An asynchronous read: a synchronous one is impossible on WebGPU in Node.
        onBlock(start, rows, (await g.data()) as Float32Array)
      } finally {
        g.dispose()
      }
    }
  } finally {
    bT.dispose()
  }
}

/** Squared norms of the rows of x (n×dim), in float64. */
export function rowSquaredNorms(x: Float32Array, dim: number): Float64Array {
  const n = x.length / dim
  const out = new Float64Array(n)
  for (let i = 0; i < n; i++) {
    let s = 0
    for (let j = 0; j < dim; j++) s += x[i * dim + j] ** 2
    out[i] = s
  }
  return out
}
