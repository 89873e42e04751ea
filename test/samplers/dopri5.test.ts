import { describe, expect, it } from 'vitest'
import { dopri5 } from '../../src/engine/samplers/solvers/dopri5'
import { solveFixedStep } from '../../src/engine/samplers/solvers/fixed-step'

const decay = (_t: number, y: Float64Array) => y.map((v) => -v)
// y = (cos t, sin t) rotating: y0' = −y1, y1' = y0.
const rotation = (_t: number, y: Float64Array) => Float64Array.from([-y[1], y[0]])

describe('dopri5 (scipy RK45 port)', () => {
  it("solves y' = −y to within the tolerance", async () => {
    const sol = await dopri5(decay, [0, 5], Float64Array.from([1, 2]), { rtol: 1e-8, atol: 1e-10 })
    expect(sol.t).toBe(5)
    expect(Math.abs(sol.y[0] - Math.exp(-5))).toBeLessThan(1e-8)
    expect(Math.abs(sol.y[1] - 2 * Math.exp(-5))).toBeLessThan(2e-8)
  })

  it('integrates backwards in time (as the samplers do, from T to eps)', async () => {
    const sol = await dopri5(decay, [1, 0], Float64Array.from([Math.exp(-1)]), { rtol: 1e-9, atol: 1e-12 })
    expect(sol.y[0]).toBeCloseTo(1, 8)
  })

  it('follows a 2-D rotation for two full turns', async () => {
    const T = 4 * Math.PI
    const sol = await dopri5(rotation, [0, T], Float64Array.from([1, 0]), { rtol: 1e-9, atol: 1e-12 })
    expect(Math.abs(sol.y[0] - Math.cos(T))).toBeLessThan(1e-7)
    expect(Math.abs(sol.y[1] - Math.sin(T))).toBeLessThan(1e-7)
  })

  it('spends fewer evaluations as the tolerance loosens, and errors grow with it', async () => {
    const T = 2 * Math.PI
    const rows: { tol: number; nfe: number; err: number }[] = []
    for (const tol of [1e-9, 1e-6, 1e-3, 1e-1]) {
      const sol = await dopri5(rotation, [0, T], Float64Array.from([1, 0]), { rtol: tol, atol: tol })
      rows.push({ tol, nfe: sol.nfe, err: Math.hypot(sol.y[0] - 1, sol.y[1]) })
    }
    for (let i = 1; i < rows.length; i++) expect(rows[i].nfe).toBeLessThan(rows[i - 1].nfe)
    expect(rows[0].err).toBeLessThan(1e-7)
    // NFE = 2 + 6·(accepted + rejected): scipy's counting.
    for (const r of rows) expect((r.nfe - 2) % 6).toBe(0)
  })

  it('matches scipy 1.x solve_ivp(RK45) step for step (nfev and end state)', async () => {
    // Reference: solve_ivp(rotation, (0, 2π), [1, 0], rtol=atol=tol, method='RK45').
    const scipy: [number, number, number, number][] = [
      [1e-9, 566, 0.9999999974209431, 3.042084e-10],
      [1e-6, 146, 0.9999975480901181, 1.2394683e-6],
      [1e-3, 44, 1.0006217038393097, 0.003677756278],
      [1e-1, 26, 1.468509105956484, -0.18421093042]
    ]
    for (const [tol, nfev, y0, y1] of scipy) {
      const sol = await dopri5(rotation, [0, 2 * Math.PI], Float64Array.from([1, 0]), { rtol: tol, atol: tol })
      expect(sol.nfe).toBe(nfev)
      expect(sol.y[0]).toBeCloseTo(y0, 9)
      expect(sol.y[1]).toBeCloseTo(y1, 9)
    }
  })

  it('agrees with a fine fixed-step RK4 solve', async () => {
    const T = 3
    const adaptive = await dopri5(rotation, [0, T], Float64Array.from([1, 0]), { rtol: 1e-7, atol: 1e-9 })
    const fine = await solveFixedStep(rotation, [0, T], Float64Array.from([1, 0]), 2000, 'rk4')
    expect(fine.nfe).toBe(8000)
    expect(Math.abs(adaptive.y[0] - fine.y[0])).toBeLessThan(1e-6)
    expect(Math.abs(adaptive.y[1] - fine.y[1])).toBeLessThan(1e-6)
    const euler = await solveFixedStep(decay, [0, 1], Float64Array.from([1]), 10000, 'euler')
    expect(euler.y[0]).toBeCloseTo(Math.exp(-1), 4)
  })

  it('stops between steps when aborted', async () => {
    const ctrl = new AbortController()
    let steps = 0
    const run = dopri5(rotation, [0, 100], Float64Array.from([1, 0]), {
      rtol: 1e-9, atol: 1e-9, signal: ctrl.signal,
      onStep: () => { if (++steps === 3) ctrl.abort() }
    })
    await expect(run).rejects.toThrow()
    expect(steps).toBe(3)
  })
})
