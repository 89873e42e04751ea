// TensorBoard's "classic" smoothing (line_chart_v2 data_transformer.ts, classicSmoothing),
// rewritten: an exponential moving average started at 0 and debiased by 1 − w^n, where n
// counts the finite points seen so far. Pure; the loss-curve card and its test share it.

export interface XY {
  x: number
  y: number
}

/** The weight as TensorBoard uses it: clamped to [0, 1]; NaN or ±Infinity becomes 0 (no smoothing). */
export function clampWeight(weight: number): number {
  if (!Number.isFinite(weight)) return 0
  return Math.min(1, Math.max(0, weight))
}

/**
 * The same smoothing, incrementally, for series that stream in: each `next(y)` returns what
 * `classicSmoothing` gives for that point (to rounding; a constant prefix passes through
 * unchanged, which is what the debiased EMA of equal values is).
 */
export class EmaSmoother {
  private last = 0
  private n = 0
  private readonly w: number
  /** True while every finite value seen so far is the same (a constant series passes through unchanged). */
  private constant = true
  private first: number | null = null

  constructor(weight: number) {
    this.w = clampWeight(weight)
  }

  next(y: number): number {
    if (!Number.isFinite(y)) return y // NaN/Inf pass through and do not advance n
    if (this.first === null) this.first = y
    else if (y !== this.first) this.constant = false
    this.last = this.last * this.w + (1 - this.w) * y
    this.n++
    if (this.constant) return y // avoids 1 − w^n rounding drift on flat series
    // w = 1 would divide 0 by 0; TensorBoard's debias factor is 1 in that case.
    const debias = this.w === 1 ? 1 : 1 - Math.pow(this.w, this.n)
    return this.last / debias
  }
}

/**
 * The smoothed copy of a series (x kept, y smoothed), exactly as TensorBoard computes it: a
 * series whose values are all equal is returned unchanged; otherwise each finite y becomes the
 * debiased EMA and non-finite ones pass through.
 */
export function classicSmoothing(points: readonly XY[], weight: number): XY[] {
  if (points.length === 0) return []
  const w = clampWeight(weight)
  const y0 = points[0]!.y
  const isConstant = points.every((p) => p.y === y0)
  let last = 0
  let n = 0
  return points.map((p) => {
    if (isConstant || !Number.isFinite(p.y)) return { x: p.x, y: p.y }
    last = last * w + (1 - w) * p.y
    n++
    const debias = w === 1 ? 1 : 1 - Math.pow(w, n)
    return { x: p.x, y: last / debias }
  })
}
