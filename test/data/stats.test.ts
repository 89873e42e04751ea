import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { createImageSet } from '../../src/engine/data/image-set'
import { parseIdxImages, parseIdxLabels } from '../../src/engine/data/idx'
import { channelStats, classCounts, previewGrid, suggestSigmaMax } from '../../src/engine/data/stats'
import { MNIST_DIR } from './helpers'

const rgbSet = (n: number) => {
  const images = new Uint8Array(n * 4 * 4 * 3)
  for (let i = 0; i < images.length; i += 3) {
    images[i] = 255
    images[i + 1] = (i / 3) % 2 ? 255 : 0
    images[i + 2] = 0
  }
  return createImageSet({ name: 'rgb', split: 'train', height: 4, width: 4, channels: 3, images, labels: Uint8Array.from({ length: n }, (_, i) => i % 3), classNames: ['a', 'b', 'c'] })
}

describe('stats', () => {
  it('counts classes and computes exact per-channel mean and std', () => {
    const s = rgbSet(7)
    expect(classCounts(s)).toEqual([3, 2, 2])
    const { mean, std } = channelStats(s)
    expect(mean[0]).toBe(1)
    expect(mean[1]).toBeCloseTo(0.5, 12)
    expect(mean[2]).toBe(0)
    expect(std[0]).toBe(0)
    expect(std[1]).toBeCloseTo(0.5, 12)
  })

  it('real MNIST: mean 0.1307, std 0.3081 (the usual normalisation constants)', () => {
    const images = parseIdxImages(readFileSync(join(MNIST_DIR, 'train-images-idx3-ubyte')), 'train-images')
    const labels = parseIdxLabels(readFileSync(join(MNIST_DIR, 'train-labels-idx1-ubyte')), 'train-labels', 10)
    const s = createImageSet({ name: 'mnist', split: 'train', height: 28, width: 28, channels: 1, images: images.pixels, labels, classNames: Array.from({ length: 10 }, String) })
    const { mean, std } = channelStats(s)
    expect(mean[0]).toBeCloseTo(0.1307, 4)
    expect(std[0]).toBeCloseTo(0.3081, 4)
    const t0 = performance.now()
    const sig = suggestSigmaMax(s, { sampleSize: 300 })
    const ms = performance.now() - t0
    console.log(`suggestSigmaMax(MNIST, 300 images): σ_max = ${sig.sigmaMax.toFixed(3)} in ${ms.toFixed(0)} ms`)
    // MNIST images are at most sqrt(784) = 28 apart in [0,1]; real pairs are far less.
    expect(sig.sigmaMax).toBeGreaterThan(10)
    expect(sig.sigmaMax).toBeLessThan(28)
    const grid = previewGrid(s, { perClass: 5, seed: 1 })
    expect(grid.format).toBe('gray')
    grid.indices.forEach((row, cls) => row.forEach((i) => expect(labels[i]).toBe(cls)))
  })

  it('suggestSigmaMax equals a brute-force maximum, and doubles for centered data', () => {
    const n = 30
    const images = Uint8Array.from({ length: n * 5 }, (_, i) => (i * 7919) % 256)
    const s = createImageSet({ name: 'x', split: 'train', height: 1, width: 5, channels: 1, images, labels: new Uint8Array(n), classNames: ['a'] })
    let best = 0
    for (let a = 0; a < n; a++) for (let b = a + 1; b < n; b++) {
      let d = 0
      for (let k = 0; k < 5; k++) d += ((images[a * 5 + k] - images[b * 5 + k]) / 255) ** 2
      best = Math.max(best, Math.sqrt(d))
    }
    const r = suggestSigmaMax(s, { sampleSize: 1000 })
    expect(r.sampleSize).toBe(n)
    expect(r.sigmaMax).toBeCloseTo(best, 5)
    expect(suggestSigmaMax(s, { centered: true }).sigmaMax).toBeCloseTo(2 * best, 5)
  })

  it('preview grid: one row per class, RGBA for colour, padded layout, seeded', () => {
    const s = rgbSet(10)
    const g = previewGrid(s, { perClass: 4, pad: 1, seed: 2 })
    expect([g.rows, g.cols, g.format]).toEqual([3, 4, 'rgba'])
    expect(g.width).toBe(4 * 4 + 5)
    expect(g.height).toBe(3 * 4 + 4)
    expect(g.data.length).toBe(g.width * g.height * 4)
    // Class c has fewer than 4 examples → empty cells marked −1.
    expect(g.indices[0].filter((i) => i >= 0)).toHaveLength(4)
    expect(g.indices[2].filter((i) => i >= 0)).toHaveLength(3)
    g.indices.forEach((row, c) => row.forEach((i) => i >= 0 && expect(s.labels[i]).toBe(c)))
    // First pixel of the first cell: red channel 255, alpha 255.
    const o = (1 * g.width + 1) * 4
    expect([g.data[o], g.data[o + 3]]).toEqual([255, 255])
    expect(previewGrid(s, { perClass: 4, pad: 1, seed: 2 }).indices).toEqual(g.indices)
  })
})
