// Batches for a training job: image sets through the engine's seeded Batcher, toy sets drawn
// fresh per step from a seed that depends only on (seed, step). Either way the batch at step s
// is the same after a resume as it would have been without one.
import { tf } from '../../engine/tf'
import { Batcher, mixSeed, seededRandom } from '../../engine/data/batcher'
import { createToy, GmmToy, TOYS } from '../../engine/toy'
import { Rng } from '../../engine/rng'
import type { DatasetStore } from '../datasets/store'
import type { TrainConfig } from '../../shared/contract'

export interface DataSource {
  /** Data shape without the batch. */
  shape: number[]
  size: number
  /** Classes of the data (labels 0..classes−1); 0 when the set has none (toy-rings, toy-moons). */
  classes: number
  /** The batch for 0-based step `step` ([B, ...] float32; the caller disposes it). */
  batch(step: number): tf.Tensor
  /** The same batch with its class labels (for class-conditional runs). */
  labelledBatch(step: number): { x: tf.Tensor; labels: Int32Array }
  epochOf(step: number): number
}

export async function openDataSource(config: TrainConfig, datasets: DatasetStore): Promise<DataSource> {
  if (config.dataset in TOYS) {
    const toy = createToy(config.dataset)
    // Only the mixture has classes: its components (sampleWithLabels draws what sample draws).
    const gmm = toy instanceof GmmToy ? toy : null
    return {
      shape: [2],
      size: Infinity,
      classes: gmm ? gmm.componentCount : 0,
      batch: (step) => tf.tensor2d(toy.sample(config.batchSize, new Rng(mixSeed(config.seed, step))), [config.batchSize, 2]),
      labelledBatch: (step) => {
        if (!gmm) throw new Error(`${config.dataset} has no classes, so it cannot train a class-conditional model (toy-gmm can).`)
        const { x, labels } = gmm.sampleWithLabels(config.batchSize, new Rng(mixSeed(config.seed, step)))
        return { x: tf.tensor2d(x, [config.batchSize, 2]), labels: Int32Array.from(labels) }
      },
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
  const labelled = (step: number) => {
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
      b.y.dispose() // the labels come from the set on the host: reading b.y back would need the device
      return { x: b.x, labels: Int32Array.from(indices, (k) => set.labels[k]!) }
  }
  return {
    shape: [set.height, set.width, set.channels],
    size: set.count,
    classes: set.classNames.length,
    batch: (step) => labelled(step).x,
    labelledBatch: labelled,
    epochOf: (step) => Math.floor(step / perEpoch)
  }
}
