// The Studies panel's per-image likelihood histogram: equal-width bins over the values' range.
import { describe, expect, it } from 'vitest'
import { histogram } from '../../src/renderer/src/lib/histogram'

describe('histogram', () => {
  it('puts every finite value in one of √n (8–40) equal bins, the largest in the last', () => {
    const values = Array.from({ length: 100 }, (_, i) => i / 10)
    const h = histogram(values)
    expect(h.counts).toHaveLength(10)
    expect(h.edges).toHaveLength(11)
    expect(h.edges[0]).toBe(0)
    expect(h.edges[10]).toBeCloseTo(9.9, 12)
    expect(h.counts.reduce((a, b) => a + b, 0)).toBe(100)
    expect(h.counts.every((c) => c === 10)).toBe(true)
    expect(histogram([1, 2, 3]).counts).toHaveLength(8)
    expect(histogram(Array.from({ length: 10_000 }, (_, i) => i)).counts).toHaveLength(40)
  })

  it('gives equal values one bin around them, and skips non-finite ones', () => {
    const h = histogram([2, 2, 2, NaN, Infinity], 4)
    expect(h.counts.reduce((a, b) => a + b, 0)).toBe(3)
    expect(h.edges[0]).toBeLessThan(2)
    expect(h.edges[4]).toBeGreaterThan(2)
    expect(histogram([])).toEqual({ edges: [], counts: [] })
  })
})
