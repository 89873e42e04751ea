// NCSNv2 Technique 1 (and score_sde's README): for VE SDEs pick σ_max as the largest
// pairwise Euclidean distance between training samples.

/**
 * Max pairwise L2 distance among n samples of `dim` values each (row-major in `images`).
 * Exact O(n²·dim); pass a subset for large data sets (the maximum changes little).
 */
export function suggestSigmaMax(images: Float32Array, n: number, dim: number): number {
  if (images.length < n * dim) throw new Error(`suggestSigmaMax: ${images.length} values cannot hold ${n} samples of ${dim}`)
  if (n < 2) throw new Error('suggestSigmaMax needs at least 2 samples')
  // ‖a−b‖² = ‖a‖² + ‖b‖² − 2a·b would be faster but loses precision for near-duplicates;
  // the direct difference is exact enough and n is a subset anyway.
  let best = 0
  for (let i = 0; i < n; i++) {
    const oi = i * dim
    for (let j = i + 1; j < n; j++) {
      const oj = j * dim
      let s = 0
      for (let k = 0; k < dim; k++) {
        const d = images[oi + k] - images[oj + k]
        s += d * d
      }
      if (s > best) best = s
    }
  }
  return Math.sqrt(best)
}
