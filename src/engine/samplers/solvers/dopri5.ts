// Adaptive Dormand–Prince 5(4) over a flat Float64Array state, a port of scipy's RK45
// (scipy/integrate/_ivp/rk.py) because the reference samplers call solve_ivp(method='RK45'):
// same tableau, same initial-step rule, same step-size control (safety 0.9, factors in
// [0.2, 10], RMS error norm, error exponent −1/5), FSAL reuse of the last stage, and nfev
// counted the same way (1 for f(t0), 1 for the initial-step probe, 6 per attempted step).
// The right-hand side may be async, so a model can run on any tfjs backend in between.

export type OdeRhs = (t: number, y: Float64Array) => Float64Array | Promise<Float64Array>

export interface Dopri5Options {
  /** Relative tolerance (scipy default 1e-3). */
  rtol?: number
  /** Absolute tolerance (scipy default 1e-6). */
  atol?: number
  /** Largest |h| allowed (default: unbounded). */
  maxStep?: number
  /** Initial |h|; chosen by scipy's select_initial_step when omitted. */
  firstStep?: number
  /** Give up after this many attempted steps (guards against a stiff or broken rhs). */
  maxSteps?: number
  /** Checked between steps; aborting throws the signal's reason. */
  signal?: AbortSignal
  /** Called after each accepted step (h is the step just taken). y is the solver's own buffer: copy it to keep it. */
  onStep?: (info: { t: number; h: number; nfe: number; step: number; y: Float64Array }) => void | Promise<void>
}

export interface OdeSolution {
  t: number
  y: Float64Array
  /** Right-hand-side evaluations (scipy's nfev). */
  nfe: number
  nAccepted: number
  nRejected: number
}

// Butcher tableau of Dormand & Prince (1980), as in scipy's RK45.
const C = [0, 1 / 5, 3 / 10, 4 / 5, 8 / 9, 1]
const A = [
  [],
  [1 / 5],
  [3 / 40, 9 / 40],
  [44 / 45, -56 / 15, 32 / 9],
  [19372 / 6561, -25360 / 2187, 64448 / 6561, -212 / 729],
  [9017 / 3168, -355 / 33, 46732 / 5247, 49 / 176, -5103 / 18656]
]
const B = [35 / 384, 0, 500 / 1113, 125 / 192, -2187 / 6784, 11 / 84]
// Difference between the 5th- and embedded 4th-order weights (7 stages incl. FSAL).
const E = [-71 / 57600, 0, 71 / 16695, -71 / 1920, 17253 / 339200, -22 / 525, 1 / 40]
const SAFETY = 0.9
const MIN_FACTOR = 0.2
const MAX_FACTOR = 10
const ERROR_ESTIMATOR_ORDER = 4
const ERROR_EXPONENT = -1 / (ERROR_ESTIMATOR_ORDER + 1)

/** Root-mean-square norm, scipy's `norm(x) / sqrt(x.size)`. */
export function rmsNorm(x: Float64Array): number {
  let s = 0
  for (let i = 0; i < x.length; i++) s += x[i] * x[i]
  return Math.sqrt(s / Math.max(1, x.length))
}

/** scipy's select_initial_step (Hairer, Nørsett & Wanner, II.4). Costs one rhs evaluation. */
async function selectInitialStep(
  f: OdeRhs, t0: number, y0: Float64Array, f0: Float64Array, direction: number,
  rtol: number, atol: number, interval: number
): Promise<number> {
  const n = y0.length
  if (n === 0) return Infinity
  const scaled = new Float64Array(n)
  const scale = new Float64Array(n)
  for (let i = 0; i < n; i++) scale[i] = atol + Math.abs(y0[i]) * rtol
  for (let i = 0; i < n; i++) scaled[i] = y0[i] / scale[i]
  const d0 = rmsNorm(scaled)
  for (let i = 0; i < n; i++) scaled[i] = f0[i] / scale[i]
  const d1 = rmsNorm(scaled)
  let h0 = d0 < 1e-5 || d1 < 1e-5 ? 1e-6 : (0.01 * d0) / d1
  h0 = Math.min(h0, interval)
  const y1 = new Float64Array(n)
  for (let i = 0; i < n; i++) y1[i] = y0[i] + h0 * direction * f0[i]
  const f1 = await f(t0 + h0 * direction, y1)
  for (let i = 0; i < n; i++) scaled[i] = (f1[i] - f0[i]) / scale[i]
  const d2 = rmsNorm(scaled) / h0
  const h1 = d1 <= 1e-15 && d2 <= 1e-15
    ? Math.max(1e-6, h0 * 1e-3)
    : (0.01 / Math.max(d1, d2)) ** (1 / (ERROR_ESTIMATOR_ORDER + 1))
  return Math.min(100 * h0, h1, interval)
}

/** Smallest step scipy allows at t: 10 ulps. */
function minStepAt(t: number, direction: number): number {
  const buf = new Float64Array([t])
  const bits = new BigInt64Array(buf.buffer)
  const towardsPositive = direction > 0
  // nextafter for doubles by bit manipulation (t = 0 handled separately).
  if (t === 0) return 10 * Number.MIN_VALUE
  bits[0] += (t > 0) === towardsPositive ? 1n : -1n
  return 10 * Math.abs(buf[0] - t)
}

/**
 * Integrates y' = f(t, y) from t0 to t1 (either direction) with adaptive DOPRI5.
 * Throws if the step size underflows or maxSteps is exceeded, like scipy's failure status.
 */
export async function dopri5(
  f: OdeRhs, tSpan: [number, number], y0: Float64Array, opts: Dopri5Options = {}
): Promise<OdeSolution> {
  const rtol = opts.rtol ?? 1e-3
  const atol = opts.atol ?? 1e-6
  const maxStep = opts.maxStep ?? Infinity
  const maxSteps = opts.maxSteps ?? 100_000
  if (!(rtol > 0) || !(atol >= 0)) throw new Error(`dopri5 needs rtol > 0 and atol >= 0, got ${rtol}, ${atol}`)
  const [t0, t1] = tSpan
  const direction = t1 === t0 ? 1 : Math.sign(t1 - t0)
  const n = y0.length
  let t = t0
  let y: Float64Array = Float64Array.from(y0)
  // Copies, so a rhs may reuse its output buffer between calls.
  let fy = Float64Array.from(await f(t, y))
  let nfe = 1
  let hAbs: number
  if (opts.firstStep !== undefined) hAbs = opts.firstStep
  else {
    hAbs = await selectInitialStep(f, t0, y, fy, direction, rtol, atol, Math.abs(t1 - t0))
    nfe += 1
  }
  const K: Float64Array[] = Array.from({ length: 7 }, () => new Float64Array(n))
  const yStage = new Float64Array(n)
  const err = new Float64Array(n)
  let nAccepted = 0
  let nRejected = 0
  let hUsed = 0

  while (direction * (t - t1) < 0) {
    opts.signal?.throwIfAborted()
    const minStep = minStepAt(t, direction)
    hAbs = Math.min(Math.max(hAbs, minStep), maxStep)
    let rejected = false
    for (;;) {
      if (hAbs < minStep) throw new Error(`dopri5: step size underflow at t=${t}`)
      if (nAccepted + nRejected >= maxSteps) throw new Error(`dopri5: more than ${maxSteps} steps`)
      let tNew = t + hAbs * direction
      if (direction * (tNew - t1) > 0) tNew = t1
      const h = tNew - t
      hAbs = Math.abs(h)
      // Stages 1..5 (stage 0 is f(t, y), reused from the previous step: FSAL).
      K[0].set(fy)
      for (let s = 1; s < 6; s++) {
        const a = A[s]
        for (let i = 0; i < n; i++) {
          let dy = 0
          for (let j = 0; j < s; j++) dy += a[j] * K[j][i]
          yStage[i] = y[i] + h * dy
        }
        K[s].set(await f(t + C[s] * h, yStage))
      }
      const yNew = new Float64Array(n)
      for (let i = 0; i < n; i++) {
        let dy = 0
        for (let j = 0; j < 6; j++) dy += B[j] * K[j][i]
        yNew[i] = y[i] + h * dy
      }
      const fNew = await f(tNew, yNew)
      K[6].set(fNew)
      nfe += 6
      for (let i = 0; i < n; i++) {
        let e = 0
        for (let j = 0; j < 7; j++) e += E[j] * K[j][i]
        const scale = atol + Math.max(Math.abs(y[i]), Math.abs(yNew[i])) * rtol
        err[i] = (e * h) / scale
      }
      const errorNorm = rmsNorm(err)
      if (errorNorm < 1) {
        const hTaken = hAbs
        let factor = errorNorm === 0 ? MAX_FACTOR : Math.min(MAX_FACTOR, SAFETY * errorNorm ** ERROR_EXPONENT)
        if (rejected) factor = Math.min(1, factor)
        hAbs *= factor
        t = tNew
        y = yNew
        fy = Float64Array.from(fNew)
        hUsed = hTaken
        nAccepted++
        break
      }
      hAbs *= Math.max(MIN_FACTOR, SAFETY * errorNorm ** ERROR_EXPONENT)
      rejected = true
      nRejected++
    }
    if (opts.onStep) await opts.onStep({ t, h: hUsed, nfe, step: nAccepted, y })
  }
  return { t, y, nfe, nAccepted, nRejected }
}
