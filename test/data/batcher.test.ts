import { describe, expect, it } from 'vitest'
import { tf } from '../../src/engine/tf'
import { Batcher } from '../../src/engine/data/batcher'
import { createImageSet, type ImageSet } from '../../src/engine/data/image-set'

/** n images of 2×3×c whose pixel value encodes (image, x) so flips and order are visible. */
function set(n: number, c = 3): ImageSet {
  const h = 2
  const w = 3
  const images = new Uint8Array(n * h * w * c)
  for (let i = 0; i < n; i++) for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) for (let ch = 0; ch < c; ch++) images[((i * h + y) * w + x) * c + ch] = (i * 10 + x * 3 + ch) % 256
  return createImageSet({ name: 't', split: 'train', height: h, width: w, channels: c, images, labels: Uint8Array.from({ length: n }, (_, i) => i % 10), classNames: Array.from({ length: 10 }, String) })
}

describe('Batcher', () => {
  it('covers every example once per epoch, seeded: same seed and epoch → same order, other epoch → other order', () => {
    const s = set(23)
    const a = new Batcher(s, { batchSize: 5, seed: 7 })
    expect(a.batchesPerEpoch).toBe(5)
    const o0 = Array.from(a.order(0))
    expect([...o0].sort((x, y) => x - y)).toEqual(Array.from({ length: 23 }, (_, i) => i))
    expect(Array.from(new Batcher(s, { batchSize: 5, seed: 7 }).order(0))).toEqual(o0)
    expect(Array.from(a.order(1))).not.toEqual(o0)
    expect(Array.from(new Batcher(s, { batchSize: 5, seed: 8 }).order(0))).not.toEqual(o0)
    expect(Array.from(new Batcher(s, { batchSize: 5, shuffle: false }).order(3))).toEqual(Array.from({ length: 23 }, (_, i) => i))
    expect(new Batcher(s, { batchSize: 5, dropLast: true }).batchesPerEpoch).toBe(4)
  })

  it('yields NHWC float32 batches scaled to [0,1] or [−1,1] with int32 labels, and leaks no tensors', () => {
    const s = set(7)
    const before = tf.memory().numTensors
    for (const centered of [false, true]) {
      const b = new Batcher(s, { batchSize: 3, seed: 1, centered })
      const seen: number[] = []
      for (const batch of b.epoch(0)) {
        expect(batch.x.dtype).toBe('float32')
        expect(batch.x.shape.slice(1)).toEqual([2, 3, 3])
        expect(batch.y.dtype).toBe('int32')
        const x = batch.x.dataSync()
        const y = batch.y.dataSync()
        batch.indices.forEach((idx, k) => {
          seen.push(idx)
          expect(y[k]).toBe(idx % 10)
          const v = s.images[idx * 18 + 4] / 255
          expect(x[k * 18 + 4]).toBeCloseTo(centered ? 2 * v - 1 : v, 6)
        })
        batch.x.dispose()
        batch.y.dispose()
      }
      expect(seen.sort((p, q) => p - q)).toEqual([0, 1, 2, 3, 4, 5, 6])
    }
    expect(tf.memory().numTensors).toBe(before)
  })

  it('flips rows left–right when asked, for about half the images, without changing the order', () => {
    const s = set(200)
    const plain = new Batcher(s, { batchSize: 200, seed: 3 })
    const flip = new Batcher(s, { batchSize: 200, seed: 3, randomFlip: true })
    expect(Array.from(flip.order(2))).toEqual(Array.from(plain.order(2)))
    const idx = plain.order(2)
    const a = plain.fill(idx)
    const [batch] = [...flip.epoch(2)]
    const b = batch.x.dataSync()
    tf.dispose([batch.x, batch.y])
    let flipped = 0
    for (let k = 0; k < 200; k++) {
      const o = k * 18
      const same = a.subarray(o, o + 18).every((v, i) => v === b[o + i])
      // Mirrored: pixel (y, x, c) equals the original's (y, w−1−x, c).
      const mirrored = [0, 1].every((y) => [0, 1, 2].every((x) => [0, 1, 2].every((c) => b[o + (y * 3 + x) * 3 + c] === a[o + (y * 3 + (2 - x)) * 3 + c])))
      expect(same || mirrored).toBe(true)
      if (!same) flipped++
    }
    expect(flipped).toBeGreaterThan(70)
    expect(flipped).toBeLessThan(130)
  })

  it('rejects a bad batch size', () => {
    expect(() => new Batcher(set(2), { batchSize: 0 })).toThrow(/batchSize/)
  })
})
