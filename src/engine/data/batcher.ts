// Mini-batches from an in-memory ImageSet as NHWC float32 tensors. Option names follow
// score_sde's config.data (`centered` → [−1, 1], `random_flip`). Each epoch's order comes
// from (seed, epoch) alone, so a resumed run at epoch e sees exactly the batches it would have.
import { tf } from '../tf'
import type { ImageSet } from './image-set'
import { mixSeed, seededRandom, shuffledIndices } from './shuffle'

// The seeded shuffling lives in shuffle.ts (no tensors: data-set stats use it without tfjs).
export { mixSeed, seededRandom, shuffledIndices }

export interface BatcherOptions {
  batchSize: number
  seed?: number
  /** score_sde's data.centered: true scales pixels to [−1, 1], false to [0, 1]. */
  centered?: boolean
  /** score_sde's data.random_flip: mirror each image left–right with probability 1/2 (CIFAR-10). */
  randomFlip?: boolean
  /** Shuffle each epoch (default true); false keeps file order, e.g. for evaluation. */
  shuffle?: boolean
  /** Drop the last short batch (default false). */
  dropLast?: boolean
}

export interface Batch {
  /** [B, H, W, C] float32. The caller owns it and must dispose it (or use it inside tf.tidy). */
  x: tf.Tensor4D
  /** [B] int32 class labels. Also owned by the caller. */
  y: tf.Tensor1D
  /** Which examples of the set are in the batch, in order. */
  indices: Int32Array
}

export class Batcher {
  readonly batchSize: number
  readonly seed: number
  readonly centered: boolean
  readonly randomFlip: boolean
  readonly shuffle: boolean
  readonly dropLast: boolean
  /** uint8 → float lookup, so scaling is one table read per pixel. */
  private readonly lut = new Float32Array(256)

  constructor(readonly set: ImageSet, opts: BatcherOptions) {
    if (!Number.isInteger(opts.batchSize) || opts.batchSize < 1) throw new Error(`batchSize must be a positive integer, got ${opts.batchSize}`)
    this.batchSize = opts.batchSize
    this.seed = opts.seed ?? 0
    this.centered = opts.centered ?? false
    this.randomFlip = opts.randomFlip ?? false
    this.shuffle = opts.shuffle ?? true
    this.dropLast = opts.dropLast ?? false
    for (let v = 0; v < 256; v++) this.lut[v] = this.centered ? (v / 255) * 2 - 1 : v / 255
  }

  get batchesPerEpoch(): number {
    const n = this.set.count / this.batchSize
    return this.dropLast ? Math.floor(n) : Math.ceil(n)
  }

  /** The example order of an epoch; a pure function of (seed, epoch). */
  order(epoch: number): Int32Array {
    if (!this.shuffle) return Int32Array.from({ length: this.set.count }, (_, i) => i)
    return shuffledIndices(this.set.count, seededRandom(mixSeed(this.seed, 2 * epoch)))
  }

  /** Yields the batches of one epoch. Nothing is re-parsed: it reads the set's bytes. */
  *epoch(epoch: number): Generator<Batch> {
    const order = this.order(epoch)
    // Flips use their own stream so turning them on does not change the batch order.
    const flipRandom = seededRandom(mixSeed(this.seed, 2 * epoch + 1))
    for (let b = 0; b < this.batchesPerEpoch; b++) {
      const indices = order.subarray(b * this.batchSize, Math.min((b + 1) * this.batchSize, order.length))
      const flips = this.randomFlip ? Array.from(indices, () => flipRandom() < 0.5) : undefined
      yield this.makeBatch(indices.slice(), flips)
    }
  }

  /** Builds one batch for given example indices (flips[i] mirrors example i). */
  makeBatch(indices: Int32Array, flips?: boolean[]): Batch {
    const { height: h, width: w, channels: c } = this.set
    const values = this.fill(indices, flips)
    // tf.tensor keeps `values` as its storage on the CPU backend, so each batch gets a fresh array.
    const x = tf.tensor4d(values, [indices.length, h, w, c], 'float32')
    const y = tf.tensor1d(Int32Array.from(indices, (i) => this.set.labels[i]), 'int32')
    return { x, y, indices }
  }

  /** Scaled NHWC floats for the given examples, in plain JS. */
  fill(indices: Int32Array, flips?: boolean[]): Float32Array {
    const { height: h, width: w, channels: c, images } = this.set
    const per = h * w * c
    const row = w * c
    const out = new Float32Array(indices.length * per)
    const lut = this.lut
    for (let k = 0; k < indices.length; k++) {
      const src = indices[k] * per
      const dst = k * per
      if (!flips?.[k]) {
        for (let i = 0; i < per; i++) out[dst + i] = lut[images[src + i]]
        continue
      }
      for (let y = 0; y < h; y++) {
        for (let x = 0; x < w; x++) {
          const s = src + y * row + (w - 1 - x) * c
          const d = dst + y * row + x * c
          for (let ch = 0; ch < c; ch++) out[d + ch] = lut[images[s + ch]]
        }
      }
    }
    return out
  }
}
