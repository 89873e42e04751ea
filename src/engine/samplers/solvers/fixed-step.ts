// Fixed-step explicit solvers over Float64Array, the deterministic counterpart of dopri5:
// known cost (NFE = n for Euler, 4n for RK4), used for cheap previews and as the
// "fine solve" that the adaptive solver is checked against.
import type { OdeRhs, OdeSolution } from './dopri5'

export type FixedStepMethod = 'euler' | 'rk4'

export interface FixedStepOptions {
  signal?: AbortSignal
  onStep?: (info: { t: number; h: number; nfe: number; step: number; y: Float64Array }) => void | Promise<void>
}

function axpy(y: Float64Array, a: number, x: Float64Array): Float64Array {
  const out = new Float64Array(y.length)
  for (let i = 0; i < y.length; i++) out[i] = y[i] + a * x[i]
  return out
}

/** Integrates y' = f(t, y) over tSpan with n equal steps of the given method. */
export async function solveFixedStep(
  f: OdeRhs, tSpan: [number, number], y0: Float64Array, n: number,
  method: FixedStepMethod = 'rk4', opts: FixedStepOptions = {}
): Promise<OdeSolution> {
  if (!Number.isInteger(n) || n < 1) throw new Error(`solveFixedStep needs n >= 1 steps, got ${n}`)
  const [t0, t1] = tSpan
  const h = (t1 - t0) / n
  let y: Float64Array = Float64Array.from(y0)
  let nfe = 0
  for (let i = 0; i < n; i++) {
    opts.signal?.throwIfAborted()
    const t = t0 + i * h
    if (method === 'euler') {
      y = axpy(y, h, await f(t, y))
      nfe += 1
    } else {
      // Copies guard against a rhs that reuses its output buffer.
      const k1 = Float64Array.from(await f(t, y))
      const k2 = Float64Array.from(await f(t + h / 2, axpy(y, h / 2, k1)))
      const k3 = Float64Array.from(await f(t + h / 2, axpy(y, h / 2, k2)))
      const k4 = await f(t + h, axpy(y, h, k3))
      const next = new Float64Array(y.length)
      for (let j = 0; j < y.length; j++) next[j] = y[j] + (h / 6) * (k1[j] + 2 * k2[j] + 2 * k3[j] + k4[j])
      y = next
      nfe += 4
    }
    if (opts.onStep) await opts.onStep({ t: t0 + (i + 1) * h, h, nfe, step: i + 1, y })
  }
  return { t: t1, y, nfe, nAccepted: n, nRejected: 0 }
}
