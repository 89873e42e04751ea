import type { tf } from '../tf'

/** Registry keys (snake_case, as in score_sde's configs). */
export type SdeName = string

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
  /** Scalar forms, for schedules, tests and UI. */
  marginalStdAt(t: number): number
  diffusionAt(t: number): number
  /** Draw from the prior p_T with the given seed. */
  priorSampling(shape: number[], seed: number): tf.Tensor
  /** log p_T(z) per sample ([B]). */
  priorLogp(z: tf.Tensor): tf.Tensor1D
  /** One step of the discretised forward process: x_{i+1} = x_i + f + G z. */
  discretize(x: tf.Tensor, t: tf.Tensor1D): { f: tf.Tensor; G: tf.Tensor1D }
  /** Parameters that fully describe this SDE (stored in checkpoints and run.json). */
  toConfig(): { name: SdeName } & Record<string, number | string>
}
