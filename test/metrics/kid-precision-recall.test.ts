// KID and improved precision/recall on synthetic features with known behaviour: KID's unbiased
// estimate sits at 0 (within its spread) for two samples of one distribution and clearly above
// it for a shifted one; precision/recall are 1 for a set against itself, 0 for far-apart sets,
// and split the right way for a narrow (mode-dropping) and a wide (blurry) generator.
import { beforeAll, describe, expect, it } from 'vitest'
import { Rng } from '../../src/engine/rng'
import { tf } from '../../src/engine/tf'
import { selectBackend } from '../../src/engine/backend/select'
import { defaultKidSubsetSize, kernelInceptionDistance, knnRadii, precisionRecall } from '../../src/engine/metrics'

const D = 32

function normals(n: number, seed: number, opts: { shift?: number; scale?: number } = {}): Float32Array {
  const rng = new Rng(seed)
  return Float32Array.from({ length: n * D }, () => (opts.scale ?? 1) * rng.normal() + (opts.shift ?? 0))
}

beforeAll(async () => {
  await selectBackend()
})

describe('KID', () => {
  it('is ~0 for two samples of one distribution and clearly positive for a shifted one', async () => {
    const x = normals(800, 1)
    const same = await kernelInceptionDistance(x, normals(800, 2), D, { seed: 0 })
    expect(same.subsetSize).toBe(400)
    expect(same.subsets).toBe(100)
    expect(Math.abs(same.mean)).toBeLessThan(2 * same.std)
    const shifted = await kernelInceptionDistance(x, normals(800, 3, { shift: 0.3 }), D, { seed: 0 })
    expect(shifted.mean).toBeGreaterThan(5 * shifted.std)
    expect(shifted.mean).toBeGreaterThan(20 * Math.abs(same.mean))
    // A bigger shift, a bigger distance.
    expect((await kernelInceptionDistance(x, normals(800, 3, { shift: 0.6 }), D, { seed: 0 })).mean).toBeGreaterThan(2 * shifted.mean)
  })

  it('matches the direct O(m²) formula on one full subset, and is seeded', async () => {
    const x = normals(40, 4)
    const y = normals(40, 5, { scale: 1.5 })
    const k = (a: Float32Array, i: number, b: Float32Array, j: number) => {
      let s = 0
      for (let t = 0; t < D; t++) s += a[i * D + t] * b[j * D + t]
      return (s / D + 1) ** 3
    }
    let kxx = 0
    let kyy = 0
    let kxy = 0
    for (let i = 0; i < 40; i++) {
      for (let j = 0; j < 40; j++) {
        if (i !== j) {
          kxx += k(x, i, x, j)
          kyy += k(y, i, y, j)
        }
        kxy += k(x, i, y, j)
      }
    }
    const direct = (kxx + kyy) / (40 * 39) - (2 * kxy) / 1600
    const r = await kernelInceptionDistance(x, y, D, { subsetSize: 40, subsets: 3 })
    expect(r.mean).toBeCloseTo(direct, 4)
    expect(r.std).toBeLessThan(1e-5 * Math.abs(direct) + 1e-9) // every subset is the whole set
    const a = await kernelInceptionDistance(normals(100, 6), y, D, { subsets: 5, seed: 3 })
    expect(await kernelInceptionDistance(normals(100, 6), y, D, { subsets: 5, seed: 3 })).toEqual(a)
  })

  it('defaults the subset size to min(1000, half the smaller set) and checks its inputs', async () => {
    expect(defaultKidSubsetSize(5000, 3000)).toBe(1000)
    expect(defaultKidSubsetSize(1000, 1000)).toBe(500)
    await expect(kernelInceptionDistance(normals(10, 1), normals(10, 2), D, { subsetSize: 11 })).rejects.toThrow(/larger than a feature set/)
    await expect(kernelInceptionDistance(new Float32Array(33), normals(10, 2), D)).rejects.toThrow(/whole number/)
  })
})

describe('improved precision and recall', () => {
  it('finds the exact k-th neighbour distance', async () => {
    // Points on a line at 0, 1, 3, 6, 10 (first coordinate); k = 2.
    const pos = [0, 1, 3, 6, 10]
    const x = new Float32Array(pos.length * D)
    pos.forEach((p, i) => (x[i * D] = p))
    expect(Array.from(await knnRadii(x, D, 2))).toEqual([9, 4, 9, 16, 49])
  })

  it('is 1 and 1 for a set against itself, 0 and 0 for far-apart sets', async () => {
    const x = normals(300, 7)
    expect(await precisionRecall(x, x, D)).toEqual({ precision: 1, recall: 1, k: 3 })
    expect(await precisionRecall(x, normals(300, 8, { shift: 50 }), D)).toEqual({ precision: 0, recall: 0, k: 3 })
  })

  it('a narrow generator keeps precision and loses recall; a wide one the reverse', async () => {
    const real = normals(1000, 9)
    const same = await precisionRecall(real, normals(1000, 10), D)
    const narrow = await precisionRecall(real, normals(1000, 11, { scale: 0.7 }), D)
    const wide = await precisionRecall(real, normals(1000, 12, { scale: 1.3 }), D)
    // In 32 dimensions k = 3 balls cover ~70 % of a second sample of the same Gaussian.
    expect(same.precision).toBeGreaterThan(0.6)
    expect(same.recall).toBeGreaterThan(0.6)
    expect(narrow.precision).toBeGreaterThan(0.95)
    expect(narrow.recall).toBeLessThan(0.5 * same.recall)
    expect(wide.recall).toBeGreaterThan(0.95)
    expect(wide.precision).toBeLessThan(0.5 * same.precision)
  })

  it('leaves no tensors behind', async () => {
    const before = tf.memory().numTensors
    await precisionRecall(normals(200, 1), normals(150, 2), D, { blockRows: 64 })
    await kernelInceptionDistance(normals(200, 1), normals(150, 2), D, { subsets: 3 })
    expect(tf.memory().numTensors).toBe(before)
  })
})
