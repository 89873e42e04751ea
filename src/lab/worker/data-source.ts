// Batches for a training job: image sets through the engine's seeded Batcher, toy sets drawn
// fresh per step from a seed that depends only on (seed, step). Either way the batch at step s
// is the same after a resume as it would have been without one.
import { tf } from '../../engine/tf'
import { Batcher, mixSeed, seededRandom } from '../../engine/data/batcher'
import { createToy, TOYS } from '../../engine/toy'
import { Rng } from '../../engine/rng'
import type { DatasetStore } from '../datasets/store'
import type { TrainConfig } from '../../shared/contract'

export interface DataSource {
  /** Data shape without the batch. */
  shape: number[]
  size: number
  /** The batch for 0-based step `step` ([B, ...] float32; the caller disposes it). */
  batch(step: number): tf.Tensor
  epochOf(step: number): number
}

export async function openDataSource(config: TrainConfig, datasets: DatasetStore): Promise<DataSource> {
  if (config.dataset in TOYS) {
    const toy = createToy(config.dataset)
    return {
      shape: [2],
      size: Infinity,
      batch: (step) => tf.tensor2d(toy.sample(config.batchSize, new Rng(mixSeed(config.seed, step))), [config.batchSize, 2]),
      epochOf: () => 0
    }
  }
  const set = await datasets.load(config.dataset, 'train')
  if (config.batchSize > set.count) {
    throw new Error(`Batch size ${config.batchSize} is larger than the ${config.dataset} training set (${set.count} images).`)
  }
  const batcher = new Batcher(set, { batchSize: config.batchSize, seed: config.seed, centered: config.centered, randomFlip: config.randomFlip, dropLast: true })
  const perEpoch = batcher.batchesPerEpoch
  let cachedEpoch = -1
  let order: Int32Array = new Int32Array(0)
  return {
    shape: [set.height, set.width, set.channels],
    size: set.count,
    batch: (step) => {
      const epoch = Math.floor(step / perEpoch)
      if (epoch !== cachedEpoch) {
        order = batcher.order(epoch)
        cachedEpoch = epoch
      }
      const i = step % perEpoch
      const indices = order.subarray(i * config.batchSize, (i + 1) * config.batchSize)
      // Flips come from (seed, step) alone, like the order, so a resume sees the same batch.
      const random = seededRandom(mixSeed(config.seed, 0x5eed + 2 * step + 1))
      const flips = config.randomFlip ? Array.from(indices, () => random() < 0.5) : undefined
      const b = batcher.makeBatch(indices, flips)
      b.y.dispose()
      return b.x
    },
    epochOf: (step) => Math.floor(step / perEpoch)
  }
}
