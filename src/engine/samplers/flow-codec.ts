// Encoding and decoding through the probability-flow ODE (Song et al. 2021, §4.3): the flow
// dx/dt = f − ½g²s is a bijection between data x(ε) and latents x(T), so an image integrates
// forward to its latent and back again. The round trip's error checks the solver and how
// invertible the learned flow is; latents can be interpolated (spherically: under the prior they
// concentrate on a shell) and decoded, or scaled (a temperature) before decoding. Adaptive
// Dormand–Prince as the ODE sampler and the likelihood use, with the state in float64.
import type { ScoreFn, Sde } from '../sde/types'
import { flowRhs, ODE_DEFAULTS } from './ode'
import { dopri5 } from './solvers/dopri5'

export interface FlowCodecOptions {
  /** Data end of the flow (default: the SDE's sampling ε). */
  eps?: number
  rtol?: number
  atol?: number
  signal?: AbortSignal
  /** After each accepted step: its time and the NFE so far. */
  onStep?: (info: { t: number; nfe: number }) => void
}

export interface FlowCodecResult {
  /** The integrated batch, same layout as the input. */
  values: Float32Array
  /** Network evaluations (per batch). */
  nfe: number
  /** Accepted solver steps. */
  steps: number
}

async function integrate(scoreFn: ScoreFn, sde: Sde, x: Float32Array, shape: number[], from: number, to: number, opts: FlowCodecOptions): Promise<FlowCodecResult> {
  const per = shape.reduce((a, b) => a * b, 1)
  if (x.length % per !== 0 || x.length === 0) throw new Error(`flow codec: ${x.length} values do not make whole items of shape [${shape.join(', ')}]`)
  const fullShape = [x.length / per, ...shape]
  let nfe = 0
  const rhs = flowRhs(scoreFn, sde, fullShape, () => { nfe++ })
  const sol = await dopri5(rhs, [from, to], Float64Array.from(x), {
    rtol: opts.rtol ?? ODE_DEFAULTS.rtol,
    atol: opts.atol ?? ODE_DEFAULTS.atol,
    signal: opts.signal,
    onStep: (info: { t: number }) => opts.onStep?.({ t: info.t, nfe })
  })
  return { values: Float32Array.from(sol.y), nfe, steps: sol.nAccepted }
}

/** Data x(ε) → latents x(T) (shape: one item's, e.g. [28, 28, 1]). */
export function encodeFlow(scoreFn: ScoreFn, sde: Sde, x: Float32Array, shape: number[], opts: FlowCodecOptions = {}): Promise<FlowCodecResult> {
  return integrate(scoreFn, sde, x, shape, opts.eps ?? sde.defaultEps, sde.T, opts)
}

/** Latents x(T) → data x(ε). */
export function decodeFlow(scoreFn: ScoreFn, sde: Sde, z: Float32Array, shape: number[], opts: FlowCodecOptions = {}): Promise<FlowCodecResult> {
  return integrate(scoreFn, sde, z, shape, sde.T, opts.eps ?? sde.defaultEps, opts)
}

/**
 * Spherical interpolation between two latents at α ∈ [0, 1]: along the great circle with the
 * norm interpolated linearly, so the frames stay on the prior's shell; linear where the two are
 * (nearly) parallel.
 */
export function slerp(a: ArrayLike<number>, b: ArrayLike<number>, alpha: number): Float32Array {
  if (a.length !== b.length) throw new Error(`slerp: latents of ${a.length} and ${b.length} values`)
  let na = 0
  let nb = 0
  let dot = 0
  for (let i = 0; i < a.length; i++) {
    na += a[i]! * a[i]!
    nb += b[i]! * b[i]!
    dot += a[i]! * b[i]!
  }
  na = Math.sqrt(na)
  nb = Math.sqrt(nb)
  const out = new Float32Array(a.length)
  const cos = na > 0 && nb > 0 ? Math.min(1, Math.max(-1, dot / (na * nb))) : 1
  const theta = Math.acos(cos)
  if (theta < 1e-6) {
    for (let i = 0; i < a.length; i++) out[i] = (1 - alpha) * a[i]! + alpha * b[i]!
    return out
  }
  // Unit directions along the great circle, then the norm walked linearly from |a| to |b|.
  const [wa, wb] = [Math.sin((1 - alpha) * theta) / Math.sin(theta), Math.sin(alpha * theta) / Math.sin(theta)]
  const norm = (1 - alpha) * na + alpha * nb
  for (let i = 0; i < a.length; i++) out[i] = norm * (wa * (a[i]! / na) + wb * (b[i]! / nb))
  return out
}

/** `frames` latents from a to b inclusive (frames ≥ 2), one after another in one array. */
export function interpolateLatents(a: ArrayLike<number>, b: ArrayLike<number>, frames: number): Float32Array {
  if (!(Number.isInteger(frames) && frames >= 2)) throw new Error(`interpolation needs at least 2 frames, got ${frames}`)
  const out = new Float32Array(frames * a.length)
  for (let k = 0; k < frames; k++) out.set(slerp(a, b, k / (frames - 1)), k * a.length)
  return out
}
