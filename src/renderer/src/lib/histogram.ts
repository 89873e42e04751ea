// Equal-width bins of a list of numbers (the likelihood's per-image values): √n bins, 8 to 40.
// Pure; the Studies panel's histogram draws it.

export interface Histogram {
  /** bins + 1 edges, ascending. */
  edges: number[]
  counts: number[]
}

export function histogram(values: readonly number[], bins?: number): Histogram {
  const finite = values.filter(Number.isFinite)
  if (!finite.length) return { edges: [], counts: [] }
  let lo = Infinity
  let hi = -Infinity
  for (const v of finite) {
    if (v < lo) lo = v
    if (v > hi) hi = v
  }
  const k = bins ?? Math.min(40, Math.max(8, Math.ceil(Math.sqrt(finite.length))))
  // All equal: one bin around the value.
  if (hi === lo) {
    const half = Math.abs(lo) * 0.01 || 0.5
    lo -= half
    hi += half
  }
  const width = (hi - lo) / k
  const edges = Array.from({ length: k + 1 }, (_, i) => lo + i * width)
  const counts = new Array<number>(k).fill(0)
  for (const v of finite) counts[Math.min(k - 1, Math.floor((v - lo) / width))]!++
  return { edges, counts }
}
