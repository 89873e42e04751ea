// Metric points of one run, kept sorted by step. Points arrive twice in normal use (loaded
// with runs.metrics while the same steps stream in as `metrics` events) and steps are redone
// after resuming from an earlier checkpoint, so merging is by step: a point replaces the one
// with its step, and a step below the last one starts a redo (later points are dropped).
import type { MetricPoint } from '@shared/contract'

/** Merges `incoming` (in step order, as batches are) into `points` in place; returns the index of the first changed point. */
export function mergePoints(points: MetricPoint[], incoming: readonly MetricPoint[]): number {
  let firstChanged = points.length
  for (const p of incoming) {
    const last = points[points.length - 1]
    if (!last || p.step > last.step) {
      points.push(p)
      continue
    }
    const i = lowerBound(points, p.step)
    points.length = i // drop this step and every later one: they are being redone
    points.push(p)
    firstChanged = Math.min(firstChanged, i)
  }
  return firstChanged
}

/** First index whose step is ≥ `step`. */
export function lowerBound(points: readonly MetricPoint[], step: number): number {
  let lo = 0
  let hi = points.length
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    if (points[mid]!.step < step) lo = mid + 1
    else hi = mid
  }
  return lo
}
