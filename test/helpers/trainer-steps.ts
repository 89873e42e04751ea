// Tests that need a step's metrics before the next step: Trainer.step only enqueues (its metrics
// stay on the device until readPending), so this runs one step and reads it.
import type { tf } from '../../src/engine/tf'
import type { StepMetrics, Trainer } from '../../src/engine/train'

export async function stepAndRead(trainer: Trainer, batch: tf.Tensor, labels?: ArrayLike<number>): Promise<StepMetrics> {
  trainer.step(batch, labels)
  const read = await trainer.readPending()
  return read.at(-1)!
}
