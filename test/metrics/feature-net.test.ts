// The feature network without the real data: shapes for both input sizes, seeded init, the
// pixel ranges meaning the same image, safetensors round trip with metadata, no leaked tensors
// around features() and training, a few training steps lowering the loss on a toy task, and
// cancellation through the signal.
import { beforeAll, describe, expect, it } from 'vitest'
import { Rng } from '../../src/engine/rng'
import { tf } from '../../src/engine/tf'
import { selectBackend } from '../../src/engine/backend/select'
import { accuracy, decodeFeatureNet, embed, encodeFeatureNet, FeatureNet, features, predictProbs, trainFeatureNet, type ImageArray } from '../../src/engine/metrics'

beforeAll(async () => {
  await selectBackend()
})

function randomImages(n: number, shape: [number, number, number], seed: number): ImageArray {
  const rng = new Rng(seed)
  return { data: Float32Array.from({ length: n * shape[0] * shape[1] * shape[2] }, () => rng.float()), shape: [n, ...shape], range: 'unit' }
}

/** A toy task: class = which quadrant holds a bright square. */
function quadrants(n: number, seed: number): { images: ImageArray; labels: Uint8Array } {
  const rng = new Rng(seed)
  const data = new Float32Array(n * 28 * 28)
  const labels = new Uint8Array(n)
  for (let i = 0; i < n; i++) {
    const c = rng.int(4)
    labels[i] = c
    const [y0, x0] = [(c >> 1) * 14 + 3, (c & 1) * 14 + 3]
    for (let p = 0; p < 784; p++) data[i * 784 + p] = 0.2 * rng.float()
    for (let y = 0; y < 8; y++) for (let x = 0; x < 8; x++) data[i * 784 + (y0 + y) * 28 + x0 + x] = 0.8 + 0.2 * rng.float()
  }
  return { images: { data, shape: [n, 28, 28, 1], range: 'unit' }, labels }
}

describe('FeatureNet', () => {
  it.each([
    [[28, 28, 1]],
    [[32, 32, 3]]
  ] as [[number, number, number]][])('embeds %j images into 128 features and 10 class probabilities', async (shape) => {
    const net = new FeatureNet({ shape })
    const { features: f, probs } = await embed(net, randomImages(5, shape, 1), { batchSize: 2 })
    expect(f.length).toBe(5 * 128)
    expect(probs.length).toBe(5 * 10)
    for (let i = 0; i < 5; i++) expect(probs.subarray(i * 10, i * 10 + 10).reduce((a, v) => a + v, 0)).toBeCloseTo(1, 5)
    expect(f.every((v) => v >= 0 && Number.isFinite(v))).toBe(true) // post-ReLU
    await expect(embed(net, randomImages(1, shape[2] === 1 ? [32, 32, 3] : [28, 28, 1], 1))).rejects.toThrow(/takes/)
    net.dispose()
  })

  it('is seeded: the same seed gives the same features, another seed others', async () => {
    const x = randomImages(3, [28, 28, 1], 2)
    const [a, b, c] = [0, 0, 1].map((seed) => new FeatureNet({ shape: [28, 28, 1], seed }))
    expect(await features(b, x)).toEqual(await features(a, x))
    expect(await features(c, x)).not.toEqual(await features(a, x))
    ;[a, b, c].forEach((n) => n.dispose())
  })

  it('reads unit floats, centred floats and bytes as the same image, clipping overshoot', async () => {
    const net = new FeatureNet({ shape: [28, 28, 1] })
    const bytes = Uint8Array.from({ length: 2 * 784 }, (_, i) => (i * 37) % 256)
    const unit = Float32Array.from(bytes, (v) => v / 255)
    const ref = await features(net, { data: bytes, shape: [2, 28, 28, 1] })
    const close = (f: Float32Array) => f.every((v, i) => Math.abs(v - ref[i]) < 1e-4 * (1 + Math.abs(ref[i])))
    expect(close(await features(net, { data: unit, shape: [2, 28, 28, 1], range: 'unit' }))).toBe(true)
    expect(close(await features(net, { data: unit.map((v) => 2 * v - 1), shape: [2, 28, 28, 1], range: 'centered' }))).toBe(true)
    const over = unit.map((v) => (v === 1 ? 1.3 : v === 0 ? -0.2 : v))
    expect(close(await features(net, { data: over, shape: [2, 28, 28, 1] }))).toBe(true)
    await expect(features(net, { data: unit, shape: [3, 28, 28, 1] })).rejects.toThrow(/values for shape/)
    net.dispose()
  })

  it('round-trips through safetensors with its metadata', async () => {
    const net = new FeatureNet({ shape: [32, 32, 3], seed: 5 })
    const bytes = await encodeFeatureNet(net, { dataset: 'cifar10', steps: 10, seed: 5, testAccuracy: 0.125, trainSeconds: 1.5 })
    const { net: back, meta } = decodeFeatureNet(bytes, 'x.safetensors')
    expect(meta).toEqual({ dataset: 'cifar10', steps: 10, seed: 5, testAccuracy: 0.125, trainSeconds: 1.5 })
    expect(back.config).toEqual(net.config)
    const x = randomImages(2, [32, 32, 3], 3)
    expect(await features(back, x)).toEqual(await features(net, x))
    expect(decodeFeatureNet(await encodeFeatureNet(net)).meta).toEqual({})
    back.dispose()
    net.dispose()
  })

  it('refuses a file that is not a feature network', async () => {
    const { encodeSafetensors } = await import('../../src/engine/io/safetensors')
    expect(() => decodeFeatureNet(encodeSafetensors({ w: { dtype: 'F32', shape: [1], data: new Float32Array(1) } }), 'model.safetensors')).toThrow(/model.safetensors: not a Score Lab feature network/)
  })

  it('leaves the tensor count flat around features(), predictProbs() and training (grey and colour)', async () => {
    const net = new FeatureNet({ shape: [28, 28, 1] })
    const x = randomImages(7, [28, 28, 1], 4)
    await features(net, x, { batchSize: 3 }) // warm-up (backends may cache on first use)
    const before = tf.memory().numTensors
    await features(net, x, { batchSize: 3 })
    await predictProbs(net, x)
    await accuracy(net, x, new Uint8Array(7))
    expect(tf.memory().numTensors).toBe(before)
    const { images, labels } = quadrants(32, 1)
    const { net: trained } = await trainFeatureNet(images, labels, { steps: 2, batchSize: 8 })
    trained.dispose()
    const color = await trainFeatureNet(randomImages(8, [32, 32, 3], 5), Uint8Array.from({ length: 8 }, (_, i) => i), { steps: 2, batchSize: 4 })
    expect(color.net.config.shape).toEqual([32, 32, 3])
    color.net.dispose()
    expect(tf.memory().numTensors).toBe(before)
    net.dispose()
  })

  it('learns a toy task in a few steps, reporting progress', async () => {
    const { images, labels } = quadrants(256, 2)
    const test = quadrants(200, 3)
    const seen: number[] = []
    const { net, finalLoss, steps } = await trainFeatureNet(images, labels, { steps: 40, batchSize: 16, seed: 1, onProgress: (p) => seen.push(p.loss) })
    expect(steps).toBe(40)
    expect(seen).toHaveLength(40)
    expect(finalLoss).toBeLessThan(0.5 * seen[0])
    expect(await accuracy(net, test.images, test.labels)).toBeGreaterThan(0.9)
    net.dispose()
  })

  it('stops when the signal aborts, and checks labels', async () => {
    const { images, labels } = quadrants(32, 4)
    const abort = new AbortController()
    const before = tf.memory().numTensors
    const run = trainFeatureNet(images, labels, { steps: 10_000, batchSize: 8, signal: abort.signal, onProgress: (p) => (p.step === 3 ? abort.abort(new Error('stop')) : undefined) })
    await expect(run).rejects.toThrow('stop')
    expect(tf.memory().numTensors).toBe(before)
    await expect(trainFeatureNet(images, Uint8Array.from(labels, () => 12), { steps: 1, batchSize: 8 })).rejects.toThrow(/label 12 of image 0 is outside 0..9/)
  })

  it('stops at a non-finite loss, naming the step, and frees everything', async () => {
    const { images, labels } = quadrants(8, 5)
    const before = tf.memory().numTensors
    const seen: number[] = []
    // An infinite lr: step 1's loss is finite but its update ruins the weights, so step 2's is not.
    await expect(trainFeatureNet(images, labels, { steps: 5, batchSize: 4, lr: Infinity, onProgress: (p) => seen.push(p.step) })).rejects.toThrow(/the loss is NaN at step 2/)
    expect(seen).toEqual([1])
    expect(tf.memory().numTensors).toBe(before)
  })
})
