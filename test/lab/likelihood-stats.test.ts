import { describe, expect, it } from 'vitest'
import { standardError } from '../../src/lab/worker/likelihood-job'

describe('the likelihood job\'s standard error', () => {
  it('is s/√n with the n − 1 variance, in one pass over the mean', () => {
    // var([1,2,3,4]) = 5/3, so SE = √(5/3 / 4)
    expect(standardError([1, 2, 3, 4])).toBeCloseTo(Math.sqrt(5 / 3 / 4), 12)
    expect(standardError([7])).toBe(0)
    // 100k values: the old per-element mean made this O(n²); it must be instant.
    const xs = Array.from({ length: 100_000 }, (_, i) => (i % 2 ? 1 : -1))
    const t = performance.now()
    expect(standardError(xs)).toBeCloseTo(Math.sqrt(100_000 / 99_999 / 100_000), 9)
    expect(performance.now() - t).toBeLessThan(500)
  })
})
