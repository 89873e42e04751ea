// The quality report on real FashionMNIST with a briefly trained feature network (200 steps,
// ~10–30 s on 2 cores; the full training is measured by train-feature-net.script.ts): the test
// set against itself scores 0, training images against test images score the real-data floor,
// FD grows with added noise, KID is ~0 for real data, blur costs precision but not recall,
// dropping classes costs recall but not precision, and no tensor is left behind.
import { beforeAll, describe, expect, it } from 'vitest'
import { Rng } from '../../src/engine/rng'
import { tf } from '../../src/engine/tf'
import { selectBackend } from '../../src/engine/backend/select'
import { accuracy, features, frechetDistanceOf, pickImages, precisionRecall, qualityReport, trainFeatureNet, type FeatureNet, type ImageArray, type QualityReport } from '../../src/engine/metrics'
import { FASHION_DIR, HAVE_FASHION, loadIdxSplit, type LabelledImages } from './data'

const N = 500
const TRAIN_STEPS = 200

if (!HAVE_FASHION) console.log(`[metrics/quality] SKIPPED: ${FASHION_DIR} is missing (apt-get install dataset-fashion-mnist)`)

/** Each value plus Gaussian noise of the given std, clipped to [0, 1]. */
function addNoise(images: ImageArray, std: number, seed: number): ImageArray {
  const rng = new Rng(seed)
  return { ...images, data: Float32Array.from(images.data, (v) => Math.min(Math.max(v + std * rng.normal(), 0), 1)) }
}

/** A (2r+1)×(2r+1) box blur of single-channel images, edges clamped. */
function boxBlur(images: ImageArray, r: number): ImageArray {
  const [n, h, w] = images.shape
  const src = images.data
  const out = new Float32Array(src.length)
  for (let i = 0; i < n; i++) {
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        let s = 0
        for (let dy = -r; dy <= r; dy++) {
          for (let dx = -r; dx <= r; dx++) {
            const yy = Math.min(Math.max(y + dy, 0), h - 1)
            const xx = Math.min(Math.max(x + dx, 0), w - 1)
            s += src[(i * h + yy) * w + xx]
          }
        }
        out[(i * h + y) * w + x] = s / (2 * r + 1) ** 2
      }
    }
  }
  return { ...images, data: out }
}

function firstOfClasses(set: LabelledImages, classes: number[], n: number): ImageArray {
  const idx: number[] = []
  for (let i = 0; i < set.labels.length && idx.length < n; i++) if (classes.includes(set.labels[i])) idx.push(i)
  return pickImages(set.images, idx)
}

describe.skipIf(!HAVE_FASHION)('quality report on FashionMNIST', () => {
  let net: FeatureNet
  let train: LabelledImages
  let test: LabelledImages
  /** Train images the network never saw (it trains on the first 12,000). */
  let heldTrain: ImageArray
  let reports: QualityReport[]

  beforeAll(async () => {
    await selectBackend()
    train = loadIdxSplit(FASHION_DIR, 'train', { limit: 20_000 })
    test = loadIdxSplit(FASHION_DIR, 'test')
    const fit = { data: train.images.data.subarray(0, 12_000 * 784), shape: [12_000, 28, 28, 1] as [number, number, number, number] }
    const t0 = performance.now()
    ;({ net } = await trainFeatureNet(fit, train.labels.subarray(0, 12_000), { steps: TRAIN_STEPS, seed: 0 }))
    const acc = await accuracy(net, pickImages(test.images, Array.from({ length: 2000 }, (_, i) => i)), test.labels.subarray(0, 2000))
    console.log(`[metrics/quality] feature net: ${TRAIN_STEPS} steps in ${((performance.now() - t0) / 1000).toFixed(1)} s, test accuracy ${(100 * acc).toFixed(1)} %`)
    expect(acc).toBeGreaterThan(0.7)
    heldTrain = pickImages(train.images, Array.from({ length: 8000 }, (_, i) => 12_000 + i))
    // Training images as the "generated" set: a perfect generator, at two seeds.
    reports = []
    for (const seed of [1, 2]) reports.push(await qualityReport({ net, generated: heldTrain, reference: test.images, train: heldTrain, n: N, seed }))
    for (const r of reports) console.log(`[metrics/quality] N=${N}: fd ${r.fd.toFixed(2)} floor ${r.fdFloor.toFixed(2)} ceiling ${r.fdCeiling.toFixed(1)} kid ${r.kid.mean.toFixed(3)}±${r.kid.std.toFixed(3)} P ${r.precision.toFixed(3)} R ${r.recall.toFixed(3)}`)
  })

  it('scores the test set against itself as identical', async () => {
    const f = await features(net, pickImages(test.images, Array.from({ length: N }, (_, i) => i)))
    expect(frechetDistanceOf(f, f, net.featureDim)).toBeLessThan(1e-6)
    expect(await precisionRecall(f, f, net.featureDim)).toEqual({ precision: 1, recall: 1, k: 3 })
  })

  it('scores N training images against N test images at the real-data floor, far below the noise ceiling', () => {
    for (const r of reports) {
      expect(r.n).toBe(N)
      expect(r.fd / r.fdFloor).toBeGreaterThan(0.4)
      expect(r.fd / r.fdFloor).toBeLessThan(2.5)
      expect(r.fdCeiling).toBeGreaterThan(20 * Math.max(r.fd, r.fdFloor))
      expect(Math.abs(r.kid.mean)).toBeLessThan(2 * r.kid.std) // KID: ~0 for two samples of one distribution
      expect(r.precision).toBeCloseTo(r.realData.precision, 1)
      expect(r.recall).toBeCloseTo(r.realData.recall, 1)
      expect(r.classHistogram.reduce((a, c) => a + c, 0)).toBe(N)
      expect(r.classEntropy).toBeGreaterThan(0.95 * Math.log(10))
      expect(r.classEntropyMax).toBeCloseTo(Math.log(10), 12)
    }
  })

  it('FD grows with every level of added noise', async () => {
    const ref = await features(net, pickImages(test.images, Array.from({ length: N }, (_, i) => 5000 + i)))
    const base = pickImages(heldTrain, Array.from({ length: N }, (_, i) => i))
    const fds: number[] = []
    for (const [i, std] of [0, 0.1, 0.2, 0.3, 0.4].entries()) fds.push(frechetDistanceOf(await features(net, std === 0 ? base : addNoise(base, std, i)), ref, net.featureDim))
    console.log(`[metrics/quality] FD at noise std 0, 0.1, 0.2, 0.3, 0.4: ${fds.map((v) => v.toFixed(2)).join(', ')}`)
    for (let i = 1; i < fds.length; i++) expect(fds[i]).toBeGreaterThan(fds[i - 1])
  })

  // Blur shrinks this network's activations (edges drive its ReLU features: with the fully trained
  // net a 5×5 box blur takes tr Σ from 474 to 121), so a wholly blurred set sits in a small region
  // near the real one: precision falls, and recall collapses as well, its k-NN balls being tiny.
  // With half of the samples blurred, precision falls by about the blurred share and recall stays.
  it('blur lowers precision (and a half-blurred set keeps its recall); three classes out of ten (trousers, sandals, bags) lower recall but keep precision', async () => {
    const real = reports[0].realData
    const base = pickImages(heldTrain, Array.from({ length: N }, (_, i) => i))
    const blurred = boxBlur(base, 2)
    const halfBlurred = { ...blurred, data: blurred.data.slice() }
    halfBlurred.data.set(base.data.subarray(0, (N / 2) * 784))
    const opts = { net, reference: test.images, train: heldTrain, n: N, seed: 1 }
    const all = await qualityReport({ ...opts, generated: blurred })
    const half = await qualityReport({ ...opts, generated: halfBlurred })
    const dropped = await qualityReport({ ...opts, generated: firstOfClasses({ images: heldTrain, labels: train.labels.subarray(12_000) }, [1, 5, 8], N) })
    const show = (r: QualityReport) => `P ${r.precision.toFixed(3)} R ${r.recall.toFixed(3)} fd ${r.fd.toFixed(1)}`
    console.log(`[metrics/quality] real P ${real.precision.toFixed(3)} R ${real.recall.toFixed(3)}; blurred ${show(all)}; half blurred ${show(half)}; 3 classes ${show(dropped)} H ${dropped.classEntropy.toFixed(3)}`)
    expect(all.precision).toBeLessThan(0.85 * real.precision)
    expect(all.recall).toBeLessThan(real.recall)
    expect(half.precision).toBeLessThan(real.precision - 0.05)
    expect(half.recall).toBeGreaterThan(0.9 * real.recall)
    expect(dropped.recall).toBeLessThan(0.6 * real.recall)
    expect(dropped.precision).toBeGreaterThan(0.95 * real.precision)
    const top3 = [...dropped.classHistogram].sort((a, b) => b - a).slice(0, 3)
    expect(top3.reduce((a, c) => a + c, 0)).toBeGreaterThan(0.85 * N)
    expect(dropped.classEntropy).toBeLessThan(0.65 * Math.log(10)) // ln 3 = 0.48·ln 10 if every image were placed right
  })

  it('leaves no tensor behind', async () => {
    const before = tf.memory().numTensors
    await qualityReport({ net, generated: heldTrain, reference: test.images, train: heldTrain, n: 100, seed: 3, kid: { subsets: 5 } })
    expect(tf.memory().numTensors).toBe(before)
  })
})
