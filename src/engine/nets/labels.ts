// Class conditioning shared by the networks (classifier-free guidance, Ho & Salimans 2022):
// a learned table of K + 1 rows, row K being the null label ∅, whose row for each sample is
// added to the time embedding. Most CFG code does the same (guided-diffusion's label_emb).
// The table is nn.Embedding's weight [K+1, E]: same layout in both frameworks, N(0, 1) init.
import { z } from 'zod'
import { tf } from '../tf'
import { dense, type ParamSpec } from './layers'

export const LABEL_EMBED = 'label_embed.weight'

/** The `classes` model option: 0 (absent) = unconditional, else K ≥ 2 classes. */
export const ClassesOptionSchema = z
  .number()
  .int()
  .min(0)
  .default(0)
  .refine((k) => k !== 1, 'classes must be 0 (unconditional) or at least 2')

/** The table's spec; none for an unconditional model (so its weights stay as before). */
export function labelEmbedSpecs(classes: number, width: number): ParamSpec[] {
  if (classes === 0) return []
  return [{ name: LABEL_EMBED, shape: [classes + 1, width], layout: 'same', init: { kind: 'normal', std: 1 }, trainable: true }]
}

/** A config without `classes` when it is 0, so unconditional checkpoints keep their old metadata. */
export function withClasses<T extends { classes: number }>(cfg: T): Omit<T, 'classes'> | T {
  if (cfg.classes > 0) return cfg
  const { classes: _unconditional, ...rest } = cfg
  return rest
}

/**
 * Integer class ids [B] in [0, classes] (classes = ∅). Reads the ids back: out-of-range ids would
 * otherwise give a zero one-hot row and silently drop the conditioning. Synchronous, which holds on
 * WebGPU too because every caller (Trainer.step, cfgScore) builds a fresh tensor from host ids:
 * until a kernel uploads it, its values are still on the host and readSync returns them.
 */
export function checkLabels(model: string, classes: number, labels: tf.Tensor1D | undefined, batch: number): void {
  if (!labels) return
  if (classes === 0) throw new Error(`${model} is unconditional (no classes option) and takes no class labels`)
  if (labels.rank !== 1 || labels.shape[0] !== batch) throw new Error(`${model}: labels must be [${batch}], got [${labels.shape.join(', ')}]`)
  if (labels.dtype !== 'int32') throw new Error(`${model}: labels must be int32 class ids, got ${labels.dtype}`)
  for (const l of labels.dataSync()) {
    if (l < 0 || l > classes) throw new Error(`${model}: class label ${l} is out of range: class ids are 0..${classes - 1}, ${classes} is the null label`)
  }
}

/**
 * The label embedding [B, E] to add to the time embedding (null labels where `labels` is absent),
 * or null for an unconditional model. One-hot · table rather than tf.gather, whose gradient is a
 * slow segment sum on the cpu backend.
 */
export function labelEmbedding(table: tf.Tensor | undefined, classes: number, labels: tf.Tensor1D | undefined, batch: number): tf.Tensor | null {
  if (classes === 0 || !table) return null
  return tf.tidy(() => {
    const ids = labels ?? tf.fill([batch], classes, 'int32')
    return dense(tf.cast(tf.oneHot(ids as tf.Tensor1D, classes + 1), 'float32'), table)
  })
}
