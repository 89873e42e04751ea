// What every network here shares: its tensors live in a ParamStore (trainable parameters,
// frozen buffers, PyTorch layouts), built from a list of specs and a seed; only the forward
// pass (`score`) differs between networks. Class-conditional networks (classes > 0) also share
// the label embedding added to their time embedding (labels.ts).
import { tf } from '../tf'
import { ParamStore, type ParamSpec, type TorchLayout } from './layers'
import { checkLabels, LABEL_EMBED, labelEmbedding } from './labels'

export abstract class StoredModel {
  abstract readonly name: string
  readonly params: ReadonlyMap<string, tf.Variable>
  readonly buffers: ReadonlyMap<string, tf.Variable>
  readonly torchLayouts: ReadonlyMap<string, TorchLayout>
  /** Everything needed to rebuild the architecture (stored in checkpoints). */
  readonly config: Record<string, unknown>
  protected readonly store: ParamStore

  protected constructor(
    specs: ParamSpec[],
    seed: number,
    prefix: string,
    config: Record<string, unknown>,
    /** Number of classes K (0: unconditional); the specs must then hold the label table. */
    readonly classes = 0
  ) {
    this.store = new ParamStore(specs, seed, prefix)
    this.params = this.store.params
    this.buffers = this.store.buffers
    this.torchLayouts = this.store.layouts
    this.config = structuredClone(config)
    if (classes > 0 && !this.params.has(LABEL_EMBED)) throw new Error(`${LABEL_EMBED} is missing from a model with ${classes} classes`)
  }

  abstract score(x: tf.Tensor, t: tf.Tensor1D, labels?: tf.Tensor1D): tf.Tensor

  /** Throws on labels given to an unconditional model, or of the wrong shape, dtype or range. */
  protected checkLabels(labels: tf.Tensor1D | undefined, batch: number): void {
    checkLabels(this.name, this.classes, labels, batch)
  }

  /** temb [B, E] plus each sample's label embedding (∅ where labels are absent); temb itself when unconditional. */
  protected addLabelEmbedding(temb: tf.Tensor, labels?: tf.Tensor1D): tf.Tensor {
    const e = labelEmbedding(this.params.get(LABEL_EMBED), this.classes, labels, temb.shape[0]!)
    return e ? tf.add(temb, e) : temb
  }

  numParams(): number {
    return this.store.numParams()
  }

  dispose(): void {
    this.store.dispose()
  }
}
