// Labels of a class-conditional training batch, for classifier-free guidance (Ho & Salimans
// 2022): each label becomes the null label ∅ = K with probability p, so the same network learns
// the conditional score s(x, t, y) and the unconditional s(x, t, ∅) that guidance combines.
import type { Rng } from '../rng'
import type { TrainerConfig } from './config'

/** Ho & Salimans' p_uncond. */
export const DEFAULT_LABEL_DROPOUT = 0.1

/** Fills labelDropout for a conditional model (stored in checkpoints); an unconditional one keeps its config as is. */
export function resolveLabelDropout(config: TrainerConfig, classes: number): TrainerConfig {
  return classes > 0 ? { ...config, labelDropout: config.labelDropout ?? DEFAULT_LABEL_DROPOUT } : config
}

/**
 * Checks a batch's labels against the model (class ids in [0, K), one per sample) and drops
 * them to ∅ with probability p, drawing from the trainer's Rng so runs replay exactly. Host ids
 * only: the draws happen on the host, and a step must not read the device.
 * Returns undefined for an unconditional model (which must get no labels).
 */
export function batchLabels(labels: ArrayLike<number> | undefined, classes: number, batch: number, p: number, rng: Rng): Int32Array | undefined {
  if (classes === 0) {
    if (labels !== undefined) throw new Error('Trainer.step: the model is unconditional (no classes option) and takes no labels')
    return undefined
  }
  if (labels === undefined) throw new Error(`Trainer.step: the model is class-conditional (${classes} classes) and needs one label per sample`)
  if (labels.length !== batch) throw new Error(`Trainer.step: got ${labels.length} labels for a batch of ${batch}`)
  const out = new Int32Array(batch)
  for (let i = 0; i < batch; i++) {
    const y = labels[i]!
    if (!Number.isInteger(y) || y < 0 || y >= classes) throw new Error(`Trainer.step: label ${y} is not a class id in [0, ${classes - 1}]`)
    out[i] = y
  }
  // Only after every check: a refused batch leaves the Rng untouched.
  if (p > 0) for (let i = 0; i < batch; i++) if (rng.float() < p) out[i] = classes
  return out
}
