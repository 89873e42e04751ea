import type { tf } from '../tf'

/**
 * A time-conditional score network s_θ(x, t). Inputs are NHWC images [B,H,W,C]
 * (or points [B,D] for 2-D toy models) and times t [B]; the output has the shape of x
 * and is already a score (networks that predict −z divide by std(t) inside, as the tutorial does).
 */
export interface ScoreModel {
  /** Registry key: 'scorenet', 'scorenet_color', 'mixer', 'mlp'. */
  readonly name: string
  /** Trainable variables, keyed by the PyTorch tutorial's state_dict names where a layer has one. */
  readonly params: ReadonlyMap<string, tf.Variable>
  /** Frozen tensors saved with the weights (e.g. the Gaussian Fourier projection's W). */
  readonly buffers: ReadonlyMap<string, tf.Tensor>
  /** Everything needed to rebuild the same architecture (stored in checkpoints). */
  readonly config: Record<string, unknown>
  /** The score. Must be called inside tf.tidy (or the caller disposes the result). */
  score(x: tf.Tensor, t: tf.Tensor1D): tf.Tensor
  /** Trainable parameter count. */
  numParams(): number
  dispose(): void
}
