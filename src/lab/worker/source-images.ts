// The images a job starts from, in the data's scaling (the one owner of that mapping for brought
// images): images of a data-set split by index, in the split's own order, or an image the user
// brought (already at the run's size), repeated as often as asked.
import { Batcher } from '../../engine/data/batcher'
import { base64Bytes, type PixelImage, type TrainConfig } from '../../shared/contract'
import { DatasetStore } from '../datasets/store'

/** A brought image's pixels in the data's scaling, `count` times over; shape is the run's [h, w, c]. */
export function broughtImages(image: PixelImage, shape: [number, number, number], count: number, centered: boolean): Float32Array {
  const [h, w, c] = shape
  if (image.width !== w || image.height !== h || image.channels !== c) {
    throw new Error(`The image is ${image.width}×${image.height}×${image.channels}, but this run's images are ${w}×${h}×${c}.`)
  }
  const bytes = base64Bytes(image.data)!
  const per = h * w * c
  const out = new Float32Array(count * per)
  for (let i = 0; i < per; i++) out[i] = centered ? (bytes[i]! / 255) * 2 - 1 : bytes[i]! / 255
  for (let k = 1; k < count; k++) out.copyWithin(k * per, 0, per)
  return out
}

/** The split's images at `indices`, in the data's scaling. */
export async function splitImages(dataDir: string, config: TrainConfig, split: 'train' | 'test', indices: Int32Array, seed: number): Promise<Float32Array> {
  const set = await new DatasetStore(dataDir).load(config.dataset, split)
  const past = indices.filter((i) => i >= set.count)
  if (past.length) {
    const contiguous = indices.length > 1 && indices.every((v, k) => k === 0 || v === indices[k - 1]! + 1)
    throw new Error(contiguous ? `The ${split} split of ${config.dataset} has ${set.count} images; images ${indices[0]}–${indices.at(-1)} are past its end.` : `The ${split} split of ${config.dataset} has ${set.count} images (0–${set.count - 1}); there is no image ${past[0]}.`)
  }
  const batcher = new Batcher(set, { batchSize: indices.length, seed, centered: config.centered })
  return batcher.fill(indices)
}
