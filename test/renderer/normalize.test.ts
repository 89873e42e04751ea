// Normalised loss curves for overlays of runs on different loss scales.
import { describe, expect, it } from 'vitest'
import { NormalizedPair, applyScale, normalizePair, normalizeScale } from '../../src/renderer/src/lib/normalize'
import type { XY } from '../../src/renderer/src/lib/smoothing'

const series = (ys: number[]): XY[] => ys.map((y, i) => ({ x: i * 10, y }))
const ys = (pts: XY[]) => pts.map((p) => p.y)

describe('normalisation', () => {
  it("'first' divides by the first finite value: the curve starts at 1", () => {
    expect(ys(normalizePair(series([4, 2, 1]), series([4, 3, 2]), 'first').raw)).toEqual([1, 0.5, 0.25])
    expect(ys(normalizePair(series([Number.NaN, 2000, 500]), series([0, 0, 0]), 'first').raw)).toEqual([Number.NaN, 1, 0.25])
  })

  it("'minmax' scales the raw series to [0, 1] and the smoothed one by the same scale", () => {
    const { raw, smooth } = normalizePair(series([10, 30, 20, 50]), series([10, 20, 20, 30]), 'minmax')
    expect(ys(raw)).toEqual([0, 0.5, 0.25, 1])
    expect(ys(smooth)).toEqual([0, 0.25, 0.25, 0.5])
  })

  it('puts two runs of very different scales on one scale', () => {
    const ve = normalizePair(series([3000, 1500, 300]), [], 'first').raw
    const vp = normalizePair(series([0.9, 0.45, 0.09]), [], 'first').raw
    expect(ys(ve).map((y) => y.toFixed(6))).toEqual(ys(vp).map((y) => y.toFixed(6)))
  })

  it("keeps x, and leaves 'off', empty, zero-first and flat series sensible", () => {
    const pts = series([5, 6])
    expect(normalizePair(pts, pts, 'off').raw).toBe(pts) // no copy when nothing changes
    expect(normalizeScale([], 'first')).toEqual({ offset: 0, scale: 1 })
    expect(ys(normalizePair(series([0, 1]), [], 'first').raw)).toEqual([0, 1])
    expect(ys(normalizePair(series([2, 2, 2]), [], 'minmax').raw)).toEqual([0, 0, 0])
    expect(applyScale(series([1, 3]), { offset: 1, scale: 2 }).map((p) => p.x)).toEqual([0, 10])
  })

  it('memoises per source arrays and mode (streaming redraws do not recompute)', () => {
    const n = new NormalizedPair()
    const raw = series([2, 1])
    const smooth = series([2, 1.5])
    const a = n.get(raw, smooth, 'first')
    expect(n.get(raw, smooth, 'first')).toBe(a)
    expect(n.get(raw, smooth, 'minmax')).not.toBe(a)
    expect(ys(n.get(series([4, 1]), smooth, 'first').raw)).toEqual([1, 0.25])
  })
})
