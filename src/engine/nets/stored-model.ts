// What every network here shares: its tensors live in a ParamStore (trainable parameters,
// frozen buffers, PyTorch layouts), built from a list of specs and a seed; only the forward
// pass (`score`) differs between networks.
import type { tf } from '../tf'
import { ParamStore, type ParamSpec, type TorchLayout } from './layers'

export abstract class StoredModel {
  abstract readonly name: string
  readonly params: ReadonlyMap<string, tf.Variable>
  readonly buffers: ReadonlyMap<string, tf.Variable>
  readonly torchLayouts: ReadonlyMap<string, TorchLayout>
  /** Everything needed to rebuild the architecture (stored in checkpoints). */
  readonly config: Record<string, unknown>
  protected readonly store: ParamStore

  protected constructor(specs: ParamSpec[], seed: number, prefix: string, config: Record<string, unknown>) {
    this.store = new ParamStore(specs, seed, prefix)
    this.params = this.store.params
    this.buffers = this.store.buffers
    this.torchLayouts = this.store.layouts
    this.config = structuredClone(config)
  }

  abstract score(x: tf.Tensor, t: tf.Tensor1D): tf.Tensor

  numParams(): number {
    return this.store.numParams()
  }

  dispose(): void {
    this.store.dispose()
  }
}
