// Resolves the common options every sampler takes, in one place, so defaults cannot drift
// between samplers: seed → noise stream, eps, n, the full batch shape and the initial x_T.
import { tf } from '../tf'
import { createSde } from '../sde'
import type { Sde } from '../sde/types'
import { NoiseSource } from './noise'
import type { SamplerOptions } from './types'

export interface Resolved {
  seed: number
  eps: number
  n: number
  denoise: boolean
  /** [B, ...shape] */
  fullShape: number[]
  noise: NoiseSource
}

export function resolveCommon(sde: Sde, opts: SamplerOptions): Resolved {
  const { shape, batchSize } = opts
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new Error(`batchSize must be a positive integer, got ${batchSize}`)
  if (!Array.isArray(shape) || shape.length === 0 || shape.some((d) => !Number.isInteger(d) || d < 1)) {
    throw new Error(`shape must list positive integer sizes (without the batch), got ${JSON.stringify(shape)}`)
  }
  const eps = opts.eps ?? sde.defaultEps
  if (!(eps > 0 && eps < sde.T)) throw new Error(`eps must lie in (0, T = ${sde.T}), got ${eps}`)
  const n = opts.n ?? sde.N
  if (!Number.isInteger(n) || n < 1) throw new Error(`n must be a positive integer, got ${n}`)
  const seed = opts.seed ?? 0
  return { seed, eps, n, denoise: opts.denoise ?? true, fullShape: [batchSize, ...shape], noise: new NoiseSource(seed) }
}

/** x_T: the caller's latent (copied, so the sampler may dispose its own) or the seeded prior draw. */
export function initialX(sde: Sde, opts: SamplerOptions, r: Resolved): tf.Tensor {
  if (opts.x) {
    if (opts.x.shape.join() !== r.fullShape.join()) throw new Error(`x has shape [${opts.x.shape}], expected [${r.fullShape}]`)
    return tf.clone(opts.x)
  }
  return r.noise.initial(sde, r.fullShape)
}

/**
 * The same SDE with N = n, so discrete predictors (reverse diffusion, ancestral) and the VP
 * Langevin α walk exactly one schedule entry per step (score_sde sets sde.N = num_scales).
 */
export function withSteps(sde: Sde, n: number): Sde {
  if (sde.N === n) return sde
  const config = sde.toConfig()
  if (!('N' in config)) throw new Error(`SDE "${sde.name}" has no N to set; sample with n = ${sde.N}`)
  return createSde({ ...config, N: n })
}

/** n equally spaced times from T down to eps (score_sde's linspace(T, eps, N)). */
export function timeGrid(T: number, eps: number, n: number): Float64Array {
  const ts = new Float64Array(n)
  for (let i = 0; i < n; i++) ts[i] = n === 1 ? T : T + ((eps - T) * i) / (n - 1)
  return ts
}
