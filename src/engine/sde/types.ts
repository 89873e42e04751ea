import type { tf } from '../tf'

/** Registry keys (snake_case, as in score_sde's configs). */
export type SdeName = string

/** A score function s(x, t) ≈ ∇ₓ log p_t(x); same shape as x. */
export type ScoreFn = (x: tf.Tensor, t: tf.Tensor1D) => tf.Tensor

/**
 * One forward SDE dx = f(x,t) dt + g(t) dw on t ∈ [0, T], as in score_sde's sde_lib.py.
 * Tensors are NHWC images [B,H,W,C] or points [B,D]; t is always a 1-D tensor [B].
 * Methods return new tensors; callers own (and dispose) them. No method keeps a reference.
 */
export interface Sde {
  readonly name: SdeName
  readonly T: number
  /** Number of discretisation steps used by the discrete predictors (reverse diffusion, ancestral). */
  readonly N: number
  /** Default end time for sampling (score_sde: VE 1e-5, VP/subVP 1e-3). */
  readonly defaultEps: number
  /** Drift f(x,t) (same shape as x) and diffusion g(t) ([B]). */
  sde(x: tf.Tensor, t: tf.Tensor1D): { drift: tf.Tensor; diffusion: tf.Tensor1D }
  /** Mean (shape of x0) and std ([B]) of the perturbation kernel p_0t(x(t) | x(0)). */
  marginalProb(x0: tf.Tensor, t: tf.Tensor1D): { mean: tf.Tensor; std: tf.Tensor1D }
  /**
   * Every SDE here has a Gaussian kernel N(m(t)·x0, std(t)² I): m(t) and std(t) as [B] tensors.
   * Analytic scores of Gaussian / mixture data and the loss weightings are built from these.
   */
  marginalCoeffs(t: tf.Tensor1D): { meanCoeff: tf.Tensor1D; std: tf.Tensor1D }
  /** Scalar forms, for schedules, tests and UI. */
  marginalStdAt(t: number): number
  marginalMeanCoeffAt(t: number): number
  diffusionAt(t: number): number
  /** Draw from the prior p_T with the given seed. */
  priorSampling(shape: number[], seed: number): tf.Tensor
  /** log p_T(z) per sample ([B]). */
  priorLogp(z: tf.Tensor): tf.Tensor1D
  /** One step of the discretised forward process: x_{i+1} = x_i + f + G z. */
  discretize(x: tf.Tensor, t: tf.Tensor1D): { f: tf.Tensor; G: tf.Tensor1D }
  /** The reverse-time SDE (or, with probabilityFlow, the probability-flow ODE) for a score. */
  reverse(scoreFn: ScoreFn, probabilityFlow?: boolean): ReverseSde
  /**
   * The t at which the EDM noise level std(t)/m(t) equals sigma, in closed form (the fast
   * samplers walk σ and call the score at this t). Optional: samplers/denoiser.ts's tOfSigma
   * bisects when an SDE has none. Values outside [σ(0), σ(T)] give t outside [0, T].
   */
  timeAtEdmSigma?(sigma: number): number
  /** Langevin corrector step factor α_i (score_sde: 1 − β_i for the VP family, 1 for VE). */
  langevinAlpha(t: tf.Tensor1D): tf.Tensor1D
  /**
   * Ancestral sampling step (score_sde's AncestralSamplingPredictor), only for SDEs that have
   * one (VE, VP): x_{i−1} = mean + std·z given the score at (x, t).
   */
  ancestralStep?(x: tf.Tensor, score: tf.Tensor, t: tf.Tensor1D): { mean: tf.Tensor; std: tf.Tensor1D }
  /** Parameters that fully describe this SDE (stored in checkpoints and run.json). */
  toConfig(): { name: SdeName } & Record<string, number | string>
}

/** Reverse-time process built generically from an Sde and a score (score_sde's `SDE.reverse`). */
export interface ReverseSde {
  readonly T: number
  readonly N: number
  readonly probabilityFlow: boolean
  /** Reverse drift f − g²s (or f − ½g²s for the ODE) and diffusion g (0 for the ODE). */
  sde(x: tf.Tensor, t: tf.Tensor1D): { drift: tf.Tensor; diffusion: tf.Tensor1D }
  /** Discretised reverse step: rev_f = f − G²s (or f − ½G²s), rev_G = G (or 0). */
  discretize(x: tf.Tensor, t: tf.Tensor1D): { f: tf.Tensor; G: tf.Tensor1D }
}
