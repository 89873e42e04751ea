import type { Sde } from '../sde/types'
import type { tf } from '../tf'
import type { TorchLayout } from './layers'

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
  /** Number of classes K of a class-conditional model (classifier-free guidance); 0: unconditional. */
  readonly classes: number
  /**
   * The score. Must be called inside tf.tidy (or the caller disposes the result).
   * labels: int32 class ids [B] in [0, K], K being the null label ∅; absent means ∅ on a
   * conditional model. An unconditional model throws when given labels.
   */
  score(x: tf.Tensor, t: tf.Tensor1D, labels?: tf.Tensor1D): tf.Tensor
  /** Trainable parameter count. */
  numParams(): number
  dispose(): void
}

export interface ModelOptions {
  /** Data shape without the batch: [H, W, C] for images, [D] for points. */
  shape: number[]
  /** The SDE whose marginal std the network divides by (tutorial convention). */
  sde: Sde
  /** Seed for the initial weights. */
  seed: number
  /** Architecture settings specific to one network (validated by that network). */
  options?: Record<string, unknown>
}

/** A model that can be converted to/from the PyTorch state_dict layout (see torch-import.ts). */
export interface TorchCompatibleModel extends ScoreModel {
  readonly torchLayouts: ReadonlyMap<string, TorchLayout>
  readonly params: ReadonlyMap<string, tf.Variable>
  readonly buffers: ReadonlyMap<string, tf.Variable>
}
