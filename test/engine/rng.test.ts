import { describe, expect, it } from 'vitest'
import { Rng } from '../../src/engine/rng'

describe('Rng', () => {
  it('is deterministic per seed and differs across seeds', () => {
    const a = new Rng(42)
    const b = new Rng(42)
    const c = new Rng(43)
    const xa = Array.from({ length: 20 }, () => a.nextUint32())
    expect(Array.from({ length: 20 }, () => b.nextUint32())).toEqual(xa)
    expect(Array.from({ length: 20 }, () => c.nextUint32())).not.toEqual(xa)
  })

  it('getState/setState (through JSON) resumes the exact stream', () => {
    const a = new Rng(7)
    for (let i = 0; i < 13; i++) a.normal()
    const saved = JSON.parse(JSON.stringify(a.getState()))
    const next = [a.float(), a.nextSeed(), a.normal(), a.int(10)]
    const b = new Rng(0)
    b.setState(saved)
    expect([b.float(), b.nextSeed(), b.normal(), b.int(10)]).toEqual(next)
    expect(() => b.setState({ kind: 'xoshiro128**', s: [0, 0, 0, 0] })).toThrow(/all zeros/)
    expect(() => b.setState({ kind: 'other' } as never)).toThrow(/Not an Rng state/)
  })

  it('floats are uniform in [0,1), normals standard, seeds valid tfjs seeds', () => {
    const r = new Rng(1)
    const n = 50_000
    let sum = 0
    let sq = 0
    let min = 1
    let max = 0
    let nsum = 0
    let nsq = 0
    for (let i = 0; i < n; i++) {
      const u = r.float()
      sum += u
      sq += u * u
      min = Math.min(min, u)
      max = Math.max(max, u)
      const z = r.normal()
      nsum += z
      nsq += z * z
    }
    expect(min).toBeGreaterThanOrEqual(0)
    expect(max).toBeLessThan(1)
    expect(sum / n).toBeCloseTo(0.5, 2)
    expect(sq / n - (sum / n) ** 2).toBeCloseTo(1 / 12, 2)
    expect(nsum / n).toBeCloseTo(0, 1)
    expect(nsq / n).toBeCloseTo(1, 1)
    for (let i = 0; i < 100; i++) {
      const s = r.nextSeed()
      expect(Number.isInteger(s) && s >= 0 && s < 2 ** 31).toBe(true)
    }
    expect(new Rng(0).getState().s.some((w) => w !== 0)).toBe(true)
  })
})
