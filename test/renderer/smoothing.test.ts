// The loss-curve smoothing is a port of TensorBoard's classicSmoothing; these are its properties.
import { describe, expect, it } from 'vitest'
import { EmaSmoother, clampWeight, classicSmoothing, type XY } from '../../src/renderer/src/lib/smoothing'

const series = (ys: number[]): XY[] => ys.map((y, i) => ({ x: i, y }))
const ys = (pts: XY[]) => pts.map((p) => p.y)

describe('classicSmoothing (TensorBoard debiased EMA)', () => {
  it('computes last·w + (1−w)·y debiased by 1 − w^n', () => {
    const w = 0.6
    const out = ys(classicSmoothing(series([1, 2, 4]), w))
    // by hand: last1 = 0.4, last2 = 0.24 + 0.8 = 1.04, last3 = 0.624 + 1.6 = 2.224
    expect(out[0]).toBeCloseTo(0.4 / (1 - 0.6), 12) // the first point is its own value
    expect(out[0]).toBeCloseTo(1, 12)
    expect(out[1]).toBeCloseTo(1.04 / (1 - 0.36), 12)
    expect(out[2]).toBeCloseTo(2.224 / (1 - 0.216), 12)
  })

  it('keeps x values and the number of points', () => {
    const pts = [{ x: 10, y: 3 }, { x: 20, y: 5 }, { x: 35, y: 4 }]
    const out = classicSmoothing(pts, 0.9)
    expect(out.map((p) => p.x)).toEqual([10, 20, 35])
    expect(classicSmoothing([], 0.5)).toEqual([])
  })

  it('weight 0 is the identity', () => {
    const raw = [3, 1, 4, 1, 5, 9, 2, 6]
    expect(ys(classicSmoothing(series(raw), 0))).toEqual(raw)
  })

  it('clamps the weight to [0, 1] and treats a non-finite weight as 0', () => {
    expect(clampWeight(-0.5)).toBe(0)
    expect(clampWeight(1.5)).toBe(1)
    expect(clampWeight(Number.NaN)).toBe(0)
    expect(clampWeight(Number.POSITIVE_INFINITY)).toBe(0)
    const raw = [3, 1, 4, 1, 5]
    expect(ys(classicSmoothing(series(raw), Number.NaN))).toEqual(raw)
    expect(ys(classicSmoothing(series(raw), -2))).toEqual(raw)
    expect(ys(classicSmoothing(series(raw), 7))).toEqual(ys(classicSmoothing(series(raw), 1)))
  })

  it('leaves a constant series unchanged, with no rounding drift', () => {
    const raw = Array.from({ length: 1000 }, () => 0.1)
    expect(ys(classicSmoothing(series(raw), 0.999))).toEqual(raw)
  })

  it('passes NaN and ±Infinity through without advancing n', () => {
    const w = 0.6
    const withGaps = ys(classicSmoothing(series([1, Number.NaN, 2, Number.POSITIVE_INFINITY, 4, Number.NEGATIVE_INFINITY]), w))
    const clean = ys(classicSmoothing(series([1, 2, 4]), w))
    expect(withGaps[1]).toBeNaN()
    expect(withGaps[3]).toBe(Number.POSITIVE_INFINITY)
    expect(withGaps[5]).toBe(Number.NEGATIVE_INFINITY)
    expect([withGaps[0], withGaps[2], withGaps[4]]).toEqual(clean)
  })

  it('has no pull toward 0 at the start (the debiasing)', () => {
    const out = ys(classicSmoothing(series([100, 101, 99, 100]), 0.99))
    for (const y of out) expect(y).toBeGreaterThan(98)
  })

  it('the streaming smoother gives the same values as the whole-series function', () => {
    let seed = 7
    const rand = () => ((seed = (seed * 16807) % 2147483647) / 2147483647)
    const raw = Array.from({ length: 500 }, (_, i) => (i % 97 === 5 ? Number.NaN : 10 * Math.exp(-i / 100) + rand()))
    for (const w of [0, 0.3, 0.6, 0.95, 0.999]) {
      const batch = ys(classicSmoothing(series(raw), w))
      const s = new EmaSmoother(w)
      const streamed = raw.map((y) => s.next(y))
      streamed.forEach((y, i) => (Number.isNaN(batch[i]!) ? expect(y).toBeNaN() : expect(y).toBeCloseTo(batch[i]!, 10)))
    }
  })
})
