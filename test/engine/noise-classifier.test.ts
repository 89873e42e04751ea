// The noise-conditional classifier p_t(y | x(t)): shapes and parameter count, no tensor left
// behind, same seed → same weights, a bit-exact safetensors round trip, cancellation, the
// training curve (per time bucket), a stopped-and-resumed training equal to the bit to an
// uninterrupted one, a guided score through conditionalScore, and (on real FashionMNIST, under the tutorial's VE SDE) that a
// short training classifies lightly noised test images well above chance and buried ones worse.
// The learning run is sized for ~20–25 s on 2 busy cores (the whole file ~30 s).
import { beforeAll, describe, expect, it } from 'vitest'
import { tf } from '../../src/engine/tf'
import { selectBackend } from '../../src/engine/backend/select'
import { createSde } from '../../src/engine/sde'
import { Rng } from '../../src/engine/rng'
import { conditionalScore } from '../../src/engine/samplers/controllable/conditional'
import type { ScoreFn } from '../../src/engine/sde/types'
import type { ImageArray } from '../../src/engine/metrics/image-array'
import { NoiseClassifier, accuracyByTime, decodeNoiseClassifier, decodeNoiseClassifierState, encodeNoiseClassifier, encodeNoiseClassifierState, trainNoiseClassifier, type NoiseClassifierLogPoint, type NoiseClassifierTrainingState } from '../../src/engine/classifier'
import { DEFAULT_BUCKETS } from '../../src/engine/loss'
import { FASHION_DIR, HAVE_FASHION, loadIdxSplit } from '../metrics/data'

const sde = createSde({ name: 'vesde_tutorial' })
/** Training steps of the learning test (batch 32): ~20 s on 2 busy cores with the native backend. */
const STEPS = 600
/** A tiny net for the mechanical checks (fast on any backend). */
const TINY = { channels: [8, 16], embedDim: 16, groups: 4 }

/** n deterministic [0, 1] images with labels i mod classes (no data set needed). */
function synthetic(n: number, shape: [number, number, number], classes = 10): { images: ImageArray; labels: Int32Array } {
  const rng = new Rng(7)
  const data = Float32Array.from({ length: n * shape[0] * shape[1] * shape[2] }, () => rng.float())
  return { images: { data, shape: [n, ...shape], range: 'unit' }, labels: Int32Array.from({ length: n }, (_, i) => i % classes) }
}

function randomTensor(shape: number[], seed: number): tf.Tensor {
  const rng = new Rng(seed)
  return tf.tensor(Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => rng.normal()), shape)
}

const snapshot = (c: NoiseClassifier) => new Map([...c.params].map(([k, v]) => [k, (v.dataSync() as Float32Array).slice()]))

let backend = ''
beforeAll(async () => {
  backend = (await selectBackend()).name // the fast default, as a user gets
})

describe('NoiseClassifier', () => {
  it('has the expected shapes and parameter count, for gray and colour images', () => {
    const before = tf.memory().numTensors
    const c = new NoiseClassifier({ shape: [28, 28, 1], classes: 10, seed: 0, ...TINY }, sde)
    // embed.dense 16·16+16, per block conv 9·cin·cout + temb 16·c+c + gnorm 2c, head 16·10+10.
    expect(c.numParams()).toBe(272 + (72 + 136 + 16) + (1152 + 272 + 32) + 170)
    expect([...c.buffers.keys()]).toEqual(['embed.W'])
    const logits = tf.tidy(() => c.logits(randomTensor([3, 28, 28, 1], 1), tf.tensor1d([1e-3, 0.5, 1])))
    expect(logits.shape).toEqual([3, 10])
    expect(Array.from(logits.dataSync()).every(Number.isFinite)).toBe(true)
    logits.dispose()
    c.dispose()
    const colour = new NoiseClassifier({ shape: [32, 32, 3], classes: 4, range: 'centered', seed: 1, ...TINY }, createSde({ name: 'vpsde' }))
    const l2 = tf.tidy(() => colour.logits(randomTensor([2, 32, 32, 3], 2), tf.tensor1d([0, 1])))
    expect(l2.shape).toEqual([2, 4])
    expect(Array.from(l2.dataSync()).every(Number.isFinite)).toBe(true) // t = 0 included: σ is floored before its log
    l2.dispose()
    colour.dispose()
    expect(tf.memory().numTensors).toBe(before)
    expect(() => new NoiseClassifier({ shape: [28, 28, 1], channels: [12], groups: 8 }, sde)).toThrow(/divisible/)
    expect(() => new NoiseClassifier({ shape: [28, 28, 1], classes: 1 }, sde)).toThrow(/classes/)
    const wrong = new NoiseClassifier({ shape: [28, 28, 1], ...TINY }, sde)
    expect(() => tf.tidy(() => wrong.logits(tf.zeros([1, 32, 32, 1]), tf.tensor1d([0.5])))).toThrow(/shape/)
    wrong.dispose()
    expect(tf.memory().numTensors).toBe(before)
  })

  it('trains deterministically per seed, round-trips through safetensors and leaves no tensor behind', async () => {
    const before = tf.memory().numTensors
    const { images, labels } = synthetic(96, [28, 28, 1])
    const opts = { images, labels, sde, steps: 3, batchSize: 16, net: TINY }
    const a = await trainNoiseClassifier({ ...opts, seed: 5 })
    const b = await trainNoiseClassifier({ ...opts, seed: 5 })
    const c = await trainNoiseClassifier({ ...opts, seed: 6 })
    const [sa, sb, sc] = [snapshot(a.classifier), snapshot(b.classifier), snapshot(c.classifier)]
    for (const [k, v] of sa) expect(Array.from(sb.get(k)!), k).toEqual(Array.from(v))
    expect(Array.from(sc.get('conv0.weight')!)).not.toEqual(Array.from(sa.get('conv0.weight')!))
    expect(a.stepsPerSecond).toBeGreaterThan(0)

    const bytes = await encodeNoiseClassifier(a.classifier, { dataset: 'synthetic', steps: 3, seed: 5, accuracyByTime: [{ t: 0.05, accuracy: 0.5 }] })
    const { classifier: loaded, meta } = decodeNoiseClassifier(bytes, 'test.safetensors')
    expect(meta).toEqual({ dataset: 'synthetic', steps: 3, seed: 5, accuracyByTime: [{ t: 0.05, accuracy: 0.5 }] })
    expect(loaded.config).toEqual(a.classifier.config)
    expect(loaded.sde.toConfig()).toEqual(sde.toConfig())
    const [la, lb] = tf.tidy(() => {
      const x = randomTensor([4, 28, 28, 1], 3)
      const t = tf.tensor1d([0.01, 0.2, 0.6, 1])
      return [a.classifier.logits(x, t), loaded.logits(x, t)]
    })
    expect(Array.from(lb.dataSync())).toEqual(Array.from(la.dataSync()))
    tf.dispose([la, lb])
    expect(() => decodeNoiseClassifier(bytes.slice(0, 10), 'cut.safetensors')).toThrow(/cut\.safetensors/)

    const acc = await accuracyByTime(a.classifier, images, labels, [0.05, 1], { seed: 1, batchSize: 40 })
    expect(acc).toHaveLength(2)
    for (const v of acc) expect(v >= 0 && v <= 1).toBe(true)
    expect(await accuracyByTime(a.classifier, images, labels, [0.05, 1], { seed: 1, batchSize: 40 })).toEqual(acc) // same seed, same noise
    for (const r of [a, b, c]) r.classifier.dispose()
    loaded.dispose()
    expect(tf.memory().numTensors).toBe(before)
  })

  it('stops when its signal is aborted, freeing everything', async () => {
    const before = tf.memory().numTensors
    const { images, labels } = synthetic(32, [28, 28, 1])
    const ctl = new AbortController()
    const seen: number[] = []
    const run = trainNoiseClassifier({ images, labels, sde, steps: 1000, batchSize: 8, net: TINY, signal: ctl.signal, onProgress: (p) => (seen.push(p.step), p.step === 2 && ctl.abort()) })
    await expect(run).rejects.toThrow(/abort/i)
    expect(seen).toEqual([1, 2])
    expect(tf.memory().numTensors).toBe(before)
  })

  it('logs its curve every logEvery steps, with the accuracy per time bucket from the same batches', async () => {
    const { images, labels } = synthetic(16, [4, 4, 1], 2)
    const points: NoiseClassifierLogPoint[] = []
    const accs: number[] = []
    await trainNoiseClassifier({ images, labels, sde, steps: 12, batchSize: 8, seed: 1, net: { ...TINY, classes: 2 }, logEvery: 5, onLog: (p) => points.push(p), onProgress: (p) => accs.push(p.batchAccuracy) }).then((r) => r.classifier.dispose())
    expect(points.map((p) => p.step)).toEqual([5, 10, 12]) // the last step closes a short window
    const mean = (xs: number[]) => xs.reduce((a, v) => a + v, 0) / xs.length
    expect(points[0]!.accuracy).toBeCloseTo(mean(accs.slice(0, 5)), 12)
    expect(points[2]!.accuracy).toBeCloseTo(mean(accs.slice(10)), 12)
    for (const p of points) {
      expect(p.accuracyByBucket).toHaveLength(DEFAULT_BUCKETS)
      expect(Number.isFinite(p.loss)).toBe(true)
      for (const a of p.accuracyByBucket) if (a !== null) expect(a >= 0 && a <= 1).toBe(true)
    }
    // Buckets that drew samples have an accuracy; with this seed the last 16-sample window leaves one empty (null).
    expect(points.flatMap((p) => p.accuracyByBucket).some((a) => a !== null)).toBe(true)
    expect(points[2]!.accuracyByBucket.some((a) => a === null)).toBe(true)
  })

  it('resumes a stopped training from its saved state to the same weights, curve and means, bit for bit', async () => {
    const before = tf.memory().numTensors
    // 2 classes of 4×4 images; batch 6 of 16 images, so the stops fall mid-epoch.
    const { images, labels } = synthetic(16, [4, 4, 1], 2)
    const base = { images, labels, sde, steps: 24, batchSize: 6, seed: 3, net: { ...TINY, classes: 2 }, logEvery: 4 }
    const straightLog: NoiseClassifierLogPoint[] = []
    const straight = await trainNoiseClassifier({ ...base, onLog: (p) => straightLog.push(p) })

    // Cancelled after step 10 (the state at cancel), and a periodic state at step 7 (mid log window).
    const saved = new Map<number, Uint8Array>()
    const ctl = new AbortController()
    const firstLog: NoiseClassifierLogPoint[] = []
    const stopped = trainNoiseClassifier({ ...base, checkpointEvery: 7, signal: ctl.signal, onLog: (p) => firstLog.push(p), onCheckpoint: (s) => saved.set(s.step, encodeNoiseClassifierState(s)), onProgress: (p) => p.step === 10 && ctl.abort() })
    await expect(stopped).rejects.toThrow(/abort/i)
    expect([...saved.keys()]).toEqual([7, 10])

    const snap = snapshot(straight.classifier)
    for (const at of [10, 7]) {
      const state: NoiseClassifierTrainingState = decodeNoiseClassifierState(saved.get(at)!, `state-${at}`) // through the file format
      expect(state.step).toBe(at)
      const log: NoiseClassifierLogPoint[] = []
      const resumed = await trainNoiseClassifier({ ...base, resume: state, onLog: (p) => log.push(p) })
      expect(resumed.resumedFrom).toBe(at)
      const got = snapshot(resumed.classifier)
      for (const [k, v] of snap) expect(Array.from(got.get(k)!), `${k} after resuming at ${at}`).toEqual(Array.from(v))
      expect([...firstLog.filter((p) => p.step <= at), ...log]).toEqual(straightLog)
      expect([resumed.finalLoss, resumed.finalAccuracy]).toEqual([straight.finalLoss, straight.finalAccuracy])
      resumed.classifier.dispose()
    }

    const state = decodeNoiseClassifierState(saved.get(10)!)
    await expect(trainNoiseClassifier({ ...base, steps: 30, resume: state })).rejects.toThrow(/saved with steps 24, not 30/)
    await expect(trainNoiseClassifier({ ...base, net: { ...TINY, classes: 2, embedDim: 8 }, resume: state })).rejects.toThrow(/another classifier architecture/)
    const damaged = saved.get(10)!.slice()
    damaged[damaged.length - 1] ^= 1
    expect(() => decodeNoiseClassifierState(damaged, 'bad.safetensors')).toThrow(/bad\.safetensors: .*checksum/)
    straight.classifier.dispose()
    expect(tf.memory().numTensors).toBe(before)
  })

  it('guides an analytic score through conditionalScore: finite, x-shaped, no leak', () => {
    const before = tf.memory().numTensors
    const c = new NoiseClassifier({ shape: [28, 28, 1], seed: 2, ...TINY }, sde)
    // Data N(0, I) under VE: p_t = N(0, (1 + std²) I), so s(x, t) = −x / (1 + std(t)²).
    const gaussianScore: ScoreFn = (x, t) => tf.tidy(() => tf.div(tf.neg(x), tf.reshape(tf.add(1, tf.square(sde.marginalCoeffs(t).std)), [-1, 1, 1, 1])))
    const guided = conditionalScore(gaussianScore, c.classifierFn(), [3, 7], 2)
    const [g, plain] = tf.tidy(() => {
      const x = randomTensor([2, 28, 28, 1], 4)
      const t = tf.tensor1d([0.1, 0.7])
      return [guided(x, t), gaussianScore(x, t)]
    })
    expect(g.shape).toEqual([2, 28, 28, 1])
    expect(Array.from(g.dataSync()).every(Number.isFinite)).toBe(true)
    const diff = tf.tidy(() => tf.max(tf.abs(tf.sub(g, plain))).dataSync()[0])
    expect(diff).toBeGreaterThan(0) // the classifier's gradient is really added
    tf.dispose([g, plain])
    c.dispose()
    expect(tf.memory().numTensors).toBe(before)
  })
})

if (!HAVE_FASHION) console.log(`[noise-classifier] SKIPPED learning test: ${FASHION_DIR} is missing (apt-get install dataset-fashion-mnist)`)

describe.skipIf(!HAVE_FASHION)('NoiseClassifier on real FashionMNIST (vesde_tutorial)', () => {
  it('classifies lightly noised test images well above chance, buried ones worse', async () => {
    const before = tf.memory().numTensors
    const train = loadIdxSplit(FASHION_DIR, 'train', { limit: 4000 })
    const test = loadIdxSplit(FASHION_DIR, 'test', { limit: 1000 })
    const net = { channels: [16, 32, 64, 64], embedDim: 64, groups: 8 }
    const { classifier, seconds, stepsPerSecond, finalLoss } = await trainNoiseClassifier({ images: train.images, labels: train.labels, sde, steps: STEPS, batchSize: 32, lr: 3e-3, seed: 0, net })
    const times = [0.05, 0.5, 1]
    const [small, mid, buried] = await accuracyByTime(classifier, test.images, test.labels, times, { seed: 1 })
    console.log(
      `[noise-classifier] ${backend}: ${classifier.numParams()} params, ${STEPS} steps × 32 in ${seconds.toFixed(1)} s (${stepsPerSecond.toFixed(1)} steps/s), ` +
        `final loss ${finalLoss.toFixed(3)}; test accuracy t=0.05 ${(100 * small).toFixed(1)} %, t=0.5 ${(100 * mid).toFixed(1)} %, t=1 ${(100 * buried).toFixed(1)} %`
    )
    expect(small).toBeGreaterThan(0.4)
    expect(buried).toBeLessThan(small)
    classifier.dispose()
    expect(tf.memory().numTensors).toBe(before)
  })
})
