// The contract every sampler shares (k-diffusion's common prefix): a score function, an SDE,
// then one options object whose common fields come first and whose sampler-specific settings
// follow. Swapping samplers never changes the call site.
import type { tf } from '../tf'
import type { ScoreFn, Sde } from '../sde/types'

export type { ScoreFn } from '../sde/types'

/** Progress report, numbers only (and x as a plain array), safe to post across threads. */
export interface StepInfo {
  /** Steps completed so far (0 = the initial noise, before any update). */
  i: number
  /** Planned steps; null for the adaptive ODE solver, whose step count is not known ahead. */
  n: number | null
  /** Current time t of x. */
  t: number
  /** Marginal std at t (the noise level σ), the k-diffusion `sigma` key. */
  sigma: number
  /** Score evaluations so far. */
  nfe: number
  /** Fraction of the time interval covered, in [0, 1]. */
  progress: number
  /** The current x_t ([B, ...shape] flattened), every `every` steps and at the last step. */
  x?: Float32Array
}

export interface SamplerOptions {
  /** Data shape without the batch: [H, W, C] for images, [D] for points. */
  shape: number[]
  batchSize: number
  /** Seeds the initial noise and every later draw. Same seed → same x_T in every sampler. */
  seed?: number
  /** End time ε of the reverse process (default: the SDE's defaultEps, 1e-3 for VP/tutorial VE, 1e-5 for score_sde VE). */
  eps?: number
  /** Number of steps (noise levels for ald); default: the SDE's N. */
  n?: number
  /** Return the noise-free mean of the last step (score_sde's `denoise`, default true). */
  denoise?: boolean
  /** Start from this x_T instead of the seeded prior draw (not disposed; the caller owns it). */
  x?: tf.Tensor
  /** Progress callback; awaited, so a slow consumer applies back-pressure. */
  onStep?: (info: StepInfo) => void | Promise<void>
  /** Attach x to StepInfo every k steps (0 = never, the default). */
  every?: number
  /** Checked between steps; on abort the sampler frees its tensors and rejects with the reason. */
  signal?: AbortSignal
}

export interface SampleResult {
  /** [B, ...shape]; the caller owns (and disposes) it. */
  samples: tf.Tensor
  /** Score-function evaluations. */
  nfe: number
  /** Steps taken (accepted steps for the adaptive ODE). */
  steps: number
  seconds: number
  stepsPerSecond: number
}

export type Sampler<S = Record<string, never>> = (scoreFn: ScoreFn, sde: Sde, opts: SamplerOptions & Partial<S>) => Promise<SampleResult>
