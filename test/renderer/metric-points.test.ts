// Merging streamed metric points into the loaded ones: dedupe by step, redo after a resume.
import { describe, expect, it } from 'vitest'
import { mergePoints } from '../../src/renderer/src/lib/metric-points'
import type { MetricPoint } from '../../src/shared/contract'

const pt = (step: number, loss = step): MetricPoint => ({ step, wallTime: 1000 + step, loss, gradNorm: null, lr: null, imagesPerSec: null })
const steps = (ps: MetricPoint[]) => ps.map((p) => p.step)

describe('mergePoints', () => {
  it('appends new steps', () => {
    const ps = [pt(1), pt(2)]
    expect(mergePoints(ps, [pt(3), pt(4)])).toBe(2)
    expect(steps(ps)).toEqual([1, 2, 3, 4])
  })

  it('drops duplicates of points already loaded (events that raced the initial load)', () => {
    const ps = Array.from({ length: 10 }, (_, i) => pt(i + 1))
    mergePoints(ps, [pt(8), pt(9), pt(10), pt(11), pt(12)])
    expect(steps(ps)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12])
  })

  it('a redo after resuming from an earlier checkpoint replaces the later points', () => {
    const ps = Array.from({ length: 10 }, (_, i) => pt(i + 1))
    const first = mergePoints(ps, [pt(7, 70), pt(8, 80)])
    expect(first).toBe(6)
    expect(steps(ps)).toEqual([1, 2, 3, 4, 5, 6, 7, 8])
    expect(ps.at(-1)!.loss).toBe(80)
  })
})
