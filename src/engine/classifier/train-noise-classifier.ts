// Training and evaluating a NoiseClassifier on labelled images (score_sde's classifier training,
// appendix I.1): each step draws a batch, one t ~ U(eps, T) per sample and perturbs it by the
// SDE's kernel, x(t) = m(t)·x + std(t)·z, then takes an Adam step on softmax cross-entropy.
// Batch order, times and noise come from the seed (plain JS generators), so a seed gives the
// same weights on a given backend. Images go in as the metrics' plain ImageArray.
import { tf } from '../tf'
import type { Sde } from '../sde/types'
import { Rng } from '../rng'
import { Adam } from '../train/adam'
import { mixSeed, seededRandom, shuffledIndices } from '../data/shuffle'
import { imageCount, toNetInput, type ImageArray, type PixelRange } from '../metrics/image-array'
import { NoiseClassifier, type NoiseClassifierConfig } from './noise-classifier'

export interface NoiseClassifierProgress {
  step: number
  steps: number
  /** Cross-entropy of this step's batch. */
  loss: number
  /** Share of this step's batch classified correctly (at its random times). */
  batchAccuracy: number
  seconds: number
}

export interface TrainNoiseClassifierOptions {
  images: ImageArray
  /** Class index 0..classes−1 of every image. */
  labels: ArrayLike<number>
  /** The SDE of the score model it will guide. */
  sde: Sde
  steps?: number
  batchSize?: number
  /** Peak Adam learning rate; it decays along a half cosine to lr/10 over the steps. */
  lr?: number
  /** Smallest training time (default: the SDE's sampling eps). */
  eps?: number
  /** Seeds the initial weights, the batch order, the times and the noise. */
  seed?: number
  /** Architecture and data space (shape comes from the images). */
  net?: Partial<Omit<NoiseClassifierConfig, 'shape' | 'seed'>>
  onProgress?: (p: NoiseClassifierProgress) => void
  /** Checked between steps; training yields to the event loop every few ms so it can fire. */
  signal?: AbortSignal
}

export const TRAIN_NOISE_CLASSIFIER_DEFAULTS = { steps: 1000, batchSize: 64, lr: 2e-3, seed: 0 }

export interface NoiseClassifierTraining {
  classifier: NoiseClassifier
  steps: number
  seed: number
  seconds: number
  stepsPerSecond: number
  /** Mean batch loss over the last tenth of the steps. */
  finalLoss: number
  /** Mean batch accuracy over the last tenth of the steps (times drawn over the whole range). */
  finalAccuracy: number
}

const YIELD_EVERY_MS = 15

export async function trainNoiseClassifier(opts: TrainNoiseClassifierOptions): Promise<NoiseClassifierTraining> {
  const { images, labels, sde } = opts
  const steps = opts.steps ?? TRAIN_NOISE_CLASSIFIER_DEFAULTS.steps
  const batchSize = opts.batchSize ?? TRAIN_NOISE_CLASSIFIER_DEFAULTS.batchSize
  const lr = opts.lr ?? TRAIN_NOISE_CLASSIFIER_DEFAULTS.lr
  const seed = opts.seed ?? TRAIN_NOISE_CLASSIFIER_DEFAULTS.seed
  const eps = opts.eps ?? sde.defaultEps
  const n = imageCount(images, 'trainNoiseClassifier')
  if (!(Number.isInteger(steps) && steps >= 1)) throw new Error(`trainNoiseClassifier: steps must be a positive integer, got ${steps}`)
  if (!(Number.isInteger(batchSize) && batchSize >= 1 && batchSize <= n)) throw new Error(`trainNoiseClassifier: batchSize must be an integer in 1..${n}, got ${batchSize}`)
  if (!(lr > 0)) throw new Error(`trainNoiseClassifier: lr must be positive, got ${lr}`)
  if (!(eps >= 0 && eps < sde.T)) throw new Error(`trainNoiseClassifier: eps must be in [0, ${sde.T}), got ${eps}`)
  const [, h, w, c] = images.shape
  const classifier = new NoiseClassifier({ ...opts.net, shape: [h, w, c], seed }, sde)
  try {
    checkLabels(labels, n, classifier.config.classes, 'trainNoiseClassifier')
  } catch (err) {
    classifier.dispose()
    throw err
  }
  let adam!: Adam
  tf.tidy(() => {
    adam = new Adam(classifier.params) // in a tidy: see the NoiseClassifier constructor
  })
  const per = h * w * c
  const x0 = new Float32Array(batchSize * per)
  const xt = new Float32Array(batchSize * per)
  const times = new Float32Array(batchSize)
  const yBuf = new Int32Array(batchSize)
  const noise = new Rng(mixSeed(seed, 0x6e6f6973)) // its own stream: the order's seeds never collide with it
  const started = performance.now()
  let lastYield = started
  const losses: number[] = []
  const accs: number[] = []
  let order: Int32Array = new Int32Array(0)
  let cursor = 0
  let epoch = 0
  try {
    for (let step = 1; step <= steps; step++) {
      opts.signal?.throwIfAborted()
      for (let b = 0; b < batchSize; b++) {
        if (cursor >= order.length) {
          order = shuffledIndices(n, seededRandom(mixSeed(seed, epoch++)))
          cursor = 0
        }
        const i = order[cursor++]
        readImages(images, i, 1, classifier.config.range, x0.subarray(b * per, (b + 1) * per))
        yBuf[b] = labels[i]
        times[b] = eps + (sde.T - eps) * noise.float()
      }
      perturb(sde, x0, times, noise, xt)
      const stepLr = lr * (0.1 + 0.9 * 0.5 * (1 + Math.cos((Math.PI * (step - 1)) / steps)))
      const { loss, correct } = trainStep(classifier, adam, xt, times, yBuf, stepLr, step)
      losses.push(loss)
      accs.push(correct / batchSize)
      opts.onProgress?.({ step, steps, loss, batchAccuracy: correct / batchSize, seconds: (performance.now() - started) / 1000 })
      if (performance.now() - lastYield > YIELD_EVERY_MS) {
        await new Promise((resolve) => setTimeout(resolve, 0))
        lastYield = performance.now()
      }
    }
  } catch (err) {
    classifier.dispose()
    throw err
  } finally {
    adam.dispose()
  }
  const seconds = (performance.now() - started) / 1000
  const tail = Math.max(1, Math.floor(steps / 10))
  const mean = (xs: number[]) => xs.slice(-tail).reduce((a, v) => a + v, 0) / Math.min(tail, xs.length)
  return { classifier, steps, seed, seconds, stepsPerSecond: steps / seconds, finalLoss: mean(losses), finalAccuracy: mean(accs) }
}

/** One Adam step on the perturbed batch; returns the batch loss and how many it got right. */
function trainStep(classifier: NoiseClassifier, adam: Adam, xt: Float32Array, times: Float32Array, yBuf: Int32Array, lr: number, step: number): { loss: number; correct: number } {
  const B = yBuf.length
  const names = [...classifier.params.keys()]
  const vars = names.map((k) => classifier.params.get(k)!)
  let correct: tf.Tensor | null = null
  try {
    const loss = tf.tidy(() => {
      const x = tf.tensor4d(xt, [B, ...classifier.config.shape])
      const t = tf.tensor1d(times)
      const y = tf.tensor1d(yBuf, 'int32')
      const oneHot = tf.oneHot(y, classifier.config.classes)
      const { value, grads } = tf.variableGrads(() => {
        const logits = classifier.logits(x, t)
        correct = tf.keep(tf.sum(tf.cast(tf.equal(tf.argMax(logits, 1), y), 'int32')))
        return tf.mean(tf.neg(tf.sum(tf.mul(oneHot, tf.logSoftmax(logits)), 1))) as tf.Scalar
      }, vars)
      const byName: Record<string, tf.Tensor> = {}
      names.forEach((k, j) => (byName[k] = grads[vars[j].name]))
      const loss = value.dataSync()[0]
      if (!Number.isFinite(loss)) throw new Error(`trainNoiseClassifier: the loss is ${loss} at step ${step}; lower lr`)
      adam.apply(byName, lr)
      return loss
    })
    return { loss, correct: (correct as tf.Tensor | null)?.dataSync()[0] ?? 0 }
  } finally {
    tf.dispose(correct ?? [])
  }
}

// --------------------------------------------------------------------------- evaluation

export interface AccuracyByTimeOptions {
  /** Seeds the noise; the same z serves every t, so the accuracies differ by noise level only. */
  seed?: number
  /** Images per forward pass (default 256). */
  batchSize?: number
}

/**
 * Share of images classified as their label after perturbing them to each of `times` by the
 * classifier's own SDE (one accuracy per time, in order). Under VE at t = T the image is buried
 * in noise, so it should be near chance. No tensor outlives the call.
 */
export function accuracyByTime(classifier: NoiseClassifier, images: ImageArray, labels: ArrayLike<number>, times: number[], opts: AccuracyByTimeOptions = {}): number[] {
  const { sde, config } = classifier
  const n = imageCount(images, 'accuracyByTime')
  const [, h, w, c] = images.shape
  if ([h, w, c].join() !== config.shape.join()) throw new Error(`accuracyByTime: the classifier takes ${config.shape.join('×')} images, got ${h}×${w}×${c}`)
  checkLabels(labels, n, config.classes, 'accuracyByTime')
  for (const t of times) if (!(t >= 0 && t <= sde.T)) throw new Error(`accuracyByTime: time ${t} is outside [0, ${sde.T}]`)
  const batchSize = opts.batchSize ?? 256
  const seed = opts.seed ?? 0
  const per = h * w * c
  const correct = new Array<number>(times.length).fill(0)
  for (let start = 0; start < n; start += batchSize) {
    const count = Math.min(batchSize, n - start)
    const x0 = readImages(images, start, count, config.range)
    const xt = new Float32Array(count * per)
    times.forEach((t, k) => {
      // Re-seeded per batch, not per time: every t perturbs an image with the same z.
      perturb(sde, x0, new Float32Array(count).fill(t), new Rng(mixSeed(seed, start)), xt)
      const predicted = tf.tidy(() => tf.argMax(classifier.logits(tf.tensor4d(xt, [count, h, w, c]), tf.fill([count], t) as tf.Tensor1D), 1))
      try {
        const p = predicted.dataSync()
        for (let b = 0; b < count; b++) if (p[b] === labels[start + b]) correct[k]++
      } finally {
        predicted.dispose()
      }
    })
  }
  return correct.map((k) => (n === 0 ? NaN : k / n))
}

// ------------------------------------------------------------------------------ helpers

/** x(t) = m(t)·x0 + std(t)·z per sample, z ~ N(0, I) from `rng`, into `out` (plain JS: cheap next to the net). */
function perturb(sde: Sde, x0: Float32Array, times: Float32Array, rng: Rng, out: Float32Array): void {
  const per = x0.length / times.length
  for (let b = 0; b < times.length; b++) {
    const m = sde.marginalMeanCoeffAt(times[b])
    const s = sde.marginalStdAt(times[b])
    for (let i = b * per; i < (b + 1) * per; i++) out[i] = m * x0[i] + s * rng.normal()
  }
}

/** Images start..start+count−1 in the classifier's data space ([0, 1] or [−1, 1]). */
function readImages(images: ImageArray, start: number, count: number, range: PixelRange, out?: Float32Array): Float32Array {
  const dst = toNetInput(images, start, count, out) // [−1, 1] from any ImageArray kind
  if (range === 'unit') for (let i = 0; i < dst.length; i++) dst[i] = (dst[i] + 1) / 2
  return dst
}

function checkLabels(labels: ArrayLike<number>, n: number, classes: number, where: string): void {
  if (labels.length !== n) throw new Error(`${where}: ${labels.length} labels for ${n} images`)
  for (let i = 0; i < n; i++) {
    if (!(Number.isInteger(labels[i]) && labels[i] >= 0 && labels[i] < classes)) throw new Error(`${where}: label ${labels[i]} of image ${i} is outside 0..${classes - 1}`)
  }
}
