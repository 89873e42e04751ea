// Training and evaluating a NoiseClassifier on labelled images (score_sde's classifier training,
// appendix I.1): each step draws a batch, one t ~ U(eps, T) per sample and perturbs it by the
// SDE's kernel, x(t) = m(t)·x + std(t)·z, then takes an Adam step on softmax cross-entropy.
// Batch order, times and noise come from the seed (plain JS generators), so a seed gives the
// same weights on a given backend. Images go in as the metrics' plain ImageArray.
//
// A training reports its curve every `logEvery` steps (loss, accuracy, accuracy per time bucket,
// from the training step's own logits) and hands out its whole state (weights, Adam, the noise
// and data-order positions, the open log window) every `checkpointEvery` steps and when
// cancelled; `resume` continues such a state on the very stream an uninterrupted run draws.
import { tf } from '../tf'
import type { Sde } from '../sde/types'
import { Rng } from '../rng'
import { Adam, assignArray, readArrays } from '../train/adam'
import { bucketOf, DEFAULT_BUCKETS } from '../loss/buckets'
import { mixSeed, seededRandom, shuffledIndices } from '../data/shuffle'
import { imageCount, toNetInput, type ImageArray, type PixelRange } from '../metrics/image-array'
import { NoiseClassifier, type NoiseClassifierConfig } from './noise-classifier'
import { stateMismatch, type NoiseClassifierLogWindow, type NoiseClassifierTrainingSettings, type NoiseClassifierTrainingState } from './noise-classifier-state'

export interface NoiseClassifierProgress {
  step: number
  steps: number
  /** Cross-entropy of this step's batch. */
  loss: number
  /** Share of this step's batch classified correctly (at its random times). */
  batchAccuracy: number
  seconds: number
}

/** One point of the training curve: means over the steps since the previous point. */
export interface NoiseClassifierLogPoint {
  step: number
  loss: number
  accuracy: number
  /** Accuracy per equal-width bucket of t over [eps, T] (DEFAULT_BUCKETS of them); null where no sample fell. */
  accuracyByBucket: (number | null)[]
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
  /** Steps per curve point (default NOISE_CLASSIFIER_LOG_EVERY); the last step always ends one. */
  logEvery?: number
  onLog?: (p: NoiseClassifierLogPoint) => void
  /** Steps between states handed to onCheckpoint (0, the default: only when cancelled). */
  checkpointEvery?: number
  /** Gets the state after a step (never the last: a finished training has nothing to resume); synchronous, so a cancel cannot interleave. */
  onCheckpoint?: (state: NoiseClassifierTrainingState) => void
  /** Continue this state (same settings, architecture and SDE, else an error says which differs). */
  resume?: NoiseClassifierTrainingState
  /** Checked between steps; training yields to the event loop every few ms so it can fire. */
  signal?: AbortSignal
}

export const TRAIN_NOISE_CLASSIFIER_DEFAULTS = { steps: 1000, batchSize: 64, lr: 2e-3, seed: 0 }
/** Steps per training-curve point: often enough for a smooth curve, rare enough to cost nothing. */
export const NOISE_CLASSIFIER_LOG_EVERY = 10

export interface NoiseClassifierTraining {
  classifier: NoiseClassifier
  steps: number
  seed: number
  /** Seconds of this call (a resumed training counts from where it resumed). */
  seconds: number
  /** Seconds of the whole training, over every resume. */
  totalSeconds: number
  stepsPerSecond: number
  /** The step it resumed from (0: from scratch). */
  resumedFrom: number
  /** Mean batch loss over the last tenth of the steps. */
  finalLoss: number
  /** Mean batch accuracy over the last tenth of the steps (times drawn over the whole range). */
  finalAccuracy: number
}

const YIELD_EVERY_MS = 15

export async function trainNoiseClassifier(opts: TrainNoiseClassifierOptions): Promise<NoiseClassifierTraining> {
  const settings = resolveSettings(opts)
  const [, h, w, c] = opts.images.shape
  const classifier = new NoiseClassifier({ ...opts.net, shape: [h, w, c], seed: settings.seed }, opts.sde)
  let adam: Adam | null = null
  try {
    checkLabels(opts.labels, settings.images, classifier.config.classes, 'trainNoiseClassifier')
    tf.tidy(() => {
      adam = new Adam(classifier.params) // in a tidy: see the NoiseClassifier constructor
    })
    return await new TrainingLoop(opts, settings, classifier, adam!).run()
  } catch (err) {
    classifier.dispose()
    throw err
  } finally {
    ;(adam as Adam | null)?.dispose()
  }
}

/** The options' settings, defaults filled in and each checked. */
function resolveSettings(opts: TrainNoiseClassifierOptions): NoiseClassifierTrainingSettings {
  const d = TRAIN_NOISE_CLASSIFIER_DEFAULTS
  const s = { steps: opts.steps ?? d.steps, batchSize: opts.batchSize ?? d.batchSize, lr: opts.lr ?? d.lr, seed: opts.seed ?? d.seed, eps: opts.eps ?? opts.sde.defaultEps, images: imageCount(opts.images, 'trainNoiseClassifier') }
  const fail = (what: string) => new Error(`trainNoiseClassifier: ${what}`)
  if (!(Number.isInteger(s.steps) && s.steps >= 1)) throw fail(`steps must be a positive integer, got ${s.steps}`)
  if (!(Number.isInteger(s.batchSize) && s.batchSize >= 1 && s.batchSize <= s.images)) throw fail(`batchSize must be an integer in 1..${s.images}, got ${s.batchSize}`)
  if (!(s.lr > 0)) throw fail(`lr must be positive, got ${s.lr}`)
  if (!(s.eps >= 0 && s.eps < opts.sde.T)) throw fail(`eps must be in [0, ${opts.sde.T}), got ${s.eps}`)
  for (const key of ['logEvery', 'checkpointEvery'] as const) {
    const v = opts[key]
    if (v !== undefined && !(Number.isInteger(v) && v >= (key === 'logEvery' ? 1 : 0))) throw fail(`${key} must be a ${key === 'logEvery' ? 'positive' : 'non-negative'} integer, got ${v}`)
  }
  return s
}

function emptyWindow(): NoiseClassifierLogWindow {
  return { steps: 0, lossSum: 0, correct: 0, samples: 0, bucketCorrect: new Array<number>(DEFAULT_BUCKETS).fill(0), bucketCount: new Array<number>(DEFAULT_BUCKETS).fill(0) }
}

/** One training's loop state: everything a checkpoint saves lives here. */
class TrainingLoop {
  private readonly noise: Rng
  private order: Int32Array = new Int32Array(0)
  private epoch = 0
  private cursor = 0
  private window = emptyWindow()
  private losses: number[] = []
  private accs: number[] = []
  /** Steps done (the resume point until the first step). */
  private done = 0
  private lastSaved = 0
  /** Training seconds before this call (a resumed state's), and when this call started. */
  private secondsBefore = 0
  private started = 0
  private readonly tail: number
  private readonly per: number
  private readonly x0: Float32Array
  private readonly xt: Float32Array
  private readonly times: Float32Array
  private readonly yBuf: Int32Array

  constructor(
    private readonly opts: TrainNoiseClassifierOptions,
    private readonly s: NoiseClassifierTrainingSettings,
    private readonly classifier: NoiseClassifier,
    private readonly adam: Adam
  ) {
    this.noise = new Rng(mixSeed(s.seed, 0x6e6f6973)) // its own stream: the order's seeds never collide with it
    this.tail = Math.max(1, Math.floor(s.steps / 10))
    const [h, w, c] = classifier.config.shape
    this.per = h * w * c
    this.x0 = new Float32Array(s.batchSize * this.per)
    this.xt = new Float32Array(s.batchSize * this.per)
    this.times = new Float32Array(s.batchSize)
    this.yBuf = new Int32Array(s.batchSize)
    if (opts.resume) this.restore(opts.resume)
  }

  async run(): Promise<NoiseClassifierTraining> {
    const { steps, seed } = this.s
    const resumedFrom = this.done
    const started = (this.started = performance.now())
    let lastYield = started
    for (let step = this.done + 1; step <= steps; step++) {
      if (this.opts.signal?.aborted) {
        await this.checkpoint() // a cancel keeps every finished step
        this.opts.signal.throwIfAborted()
      }
      const { loss, hits } = await this.trainOneStep(step)
      const seconds = (performance.now() - started) / 1000
      this.opts.onProgress?.({ step, steps, loss, batchAccuracy: hits.reduce((a, v) => a + v, 0) / hits.length, seconds })
      if (step % (this.opts.logEvery ?? NOISE_CLASSIFIER_LOG_EVERY) === 0 || step === steps) this.log(step)
      if (this.opts.checkpointEvery && step % this.opts.checkpointEvery === 0 && step < steps) await this.checkpoint()
      if (performance.now() - lastYield > YIELD_EVERY_MS) {
        await new Promise((resolve) => setTimeout(resolve, 0))
        lastYield = performance.now()
      }
    }
    const seconds = (performance.now() - started) / 1000
    const mean = (xs: number[]) => xs.slice(-this.tail).reduce((a, v) => a + v, 0) / Math.min(this.tail, xs.length)
    return {
      classifier: this.classifier,
      steps,
      seed,
      seconds,
      totalSeconds: this.secondsBefore + seconds,
      resumedFrom,
      stepsPerSecond: (steps - resumedFrom) / seconds,
      finalLoss: mean(this.losses),
      finalAccuracy: mean(this.accs)
    }
  }

  /** Draws batch `step`, takes its Adam step and adds it to the log window; the batch loss and per-sample hits. */
  private async trainOneStep(step: number): Promise<{ loss: number; hits: Int32Array }> {
    const { steps, lr } = this.s
    this.drawBatch()
    perturb(this.opts.sde, this.x0, this.times, this.noise, this.xt)
    const stepLr = lr * (0.1 + 0.9 * 0.5 * (1 + Math.cos((Math.PI * (step - 1)) / steps)))
    const { loss, hits } = await trainStep(this.classifier, this.adam, this.xt, this.times, this.yBuf, stepLr, step)
    this.done = step
    this.addToWindow(loss, hits)
    return { loss, hits }
  }

  /** The next batch in epoch order (a fresh seeded permutation per epoch), with one t per sample. */
  private drawBatch(): void {
    const { images, labels, sde } = this.opts
    const { eps, seed } = this.s
    for (let b = 0; b < this.s.batchSize; b++) {
      if (this.cursor >= this.order.length) {
        this.order = shuffledIndices(this.s.images, seededRandom(mixSeed(seed, this.epoch++)))
        this.cursor = 0
      }
      const i = this.order[this.cursor++]
      readImages(images, i, 1, this.classifier.config.range, this.x0.subarray(b * this.per, (b + 1) * this.per))
      this.yBuf[b] = labels[i]
      this.times[b] = eps + (sde.T - eps) * this.noise.float()
    }
  }

  private addToWindow(loss: number, hits: Int32Array): void {
    const win = this.window
    const { eps } = this.s
    const span = this.opts.sde.T - eps
    let correct = 0
    hits.forEach((hit, b) => {
      const k = bucketOf(this.times[b] - eps, span, DEFAULT_BUCKETS)
      win.bucketCorrect[k] += hit
      win.bucketCount[k]++
      correct += hit
    })
    win.steps++
    win.lossSum += loss
    win.correct += correct
    win.samples += hits.length
    this.losses.push(loss)
    this.accs.push(correct / hits.length)
  }

  private log(step: number): void {
    const w = this.window
    this.opts.onLog?.({ step, loss: w.lossSum / w.steps, accuracy: w.correct / w.samples, accuracyByBucket: w.bucketCorrect.map((k, i) => (w.bucketCount[i] ? k / w.bucketCount[i] : null)) })
    this.window = emptyWindow()
  }

  /** Hands the state after the last finished step to onCheckpoint (once per step; none before the first). */
  private async checkpoint(): Promise<void> {
    if (!this.opts.onCheckpoint || this.done === this.lastSaved) return
    this.opts.onCheckpoint(await this.capture())
    this.lastSaved = this.done
  }

  /** The loop awaits this, so no step runs during the read (async: no synchronous read on WebGPU in Node). */
  private async capture(): Promise<NoiseClassifierTrainingState> {
    const w = this.window
    const host = {
      step: this.done,
      seconds: this.secondsBefore + (performance.now() - this.started) / 1000,
      settings: { ...this.s },
      config: this.classifier.config,
      sde: this.opts.sde.toConfig(),
      noise: this.noise.getState(),
      order: { epoch: this.epoch, cursor: this.cursor },
      window: { ...w, bucketCorrect: [...w.bucketCorrect], bucketCount: [...w.bucketCount] },
      tail: { losses: this.losses.slice(-this.tail), accs: this.accs.slice(-this.tail) }
    }
    const [tensors, optim] = await Promise.all([readArrays([...this.classifier.params, ...this.classifier.buffers]), this.adam.getState()])
    return { ...host, tensors, optim }
  }

  private restore(state: NoiseClassifierTrainingState): void {
    const why = stateMismatch(state, this.s, this.classifier.config, this.opts.sde.toConfig())
    if (why) throw new Error(`trainNoiseClassifier: cannot resume this state: ${why}`)
    for (const map of [this.classifier.params, this.classifier.buffers]) {
      for (const [name, variable] of map) {
        const saved = state.tensors[name]
        if (!saved) throw new Error(`trainNoiseClassifier: the state has no tensor "${name}"`)
        assignArray(variable, saved, `state: ${name}`)
      }
    }
    this.adam.setState(state.optim)
    this.noise.setState(state.noise)
    // The epoch order re-derives from the seed: only its number and our place in it are saved.
    this.epoch = state.order.epoch
    this.cursor = state.order.cursor
    this.order = this.epoch > 0 ? shuffledIndices(this.s.images, seededRandom(mixSeed(this.s.seed, this.epoch - 1))) : new Int32Array(0)
    const w = state.window
    this.window = { ...w, bucketCorrect: [...w.bucketCorrect], bucketCount: [...w.bucketCount] }
    this.losses = [...state.tail.losses]
    this.accs = [...state.tail.accs]
    this.done = this.lastSaved = state.step
    this.secondsBefore = state.seconds
  }
}

/**
 * One Adam step on the perturbed batch; returns the batch loss and which samples its logits got
 * right (1) or wrong (0). Loss and hits come back in one asynchronous read (a synchronous read is
 * impossible on WebGPU in Node) while the gradients wait on the device: Adam applies them only
 * once the loss is known to be finite.
 */
async function trainStep(classifier: NoiseClassifier, adam: Adam, xt: Float32Array, times: Float32Array, yBuf: Int32Array, lr: number, step: number): Promise<{ loss: number; hits: Int32Array }> {
  const B = yBuf.length
  const names = [...classifier.params.keys()]
  const vars = names.map((k) => classifier.params.get(k)!)
  const { grads, read } = tf.tidy(() => {
    const x = tf.tensor4d(xt, [B, ...classifier.config.shape])
    const t = tf.tensor1d(times)
    const y = tf.tensor1d(yBuf, 'int32')
    const oneHot = tf.oneHot(y, classifier.config.classes)
    let hits: tf.Tensor | null = null
    const { value, grads } = tf.variableGrads(() => {
      const logits = classifier.logits(x, t)
      hits = tf.keep(tf.cast(tf.equal(tf.argMax(logits, 1), y), 'float32'))
      return tf.mean(tf.neg(tf.sum(tf.mul(oneHot, tf.logSoftmax(logits)), 1))) as tf.Scalar
    }, vars)
    const kept = hits as tf.Tensor | null
    const read = tf.concat([tf.reshape(value, [1]), kept ?? tf.zeros([B])]) // [loss, hits…]
    kept?.dispose()
    return { grads, read }
  })
  try {
    let flat: Float32Array
    try {
      flat = (await read.data()) as Float32Array
    } finally {
      read.dispose()
    }
    const loss = flat[0]!
    if (!Number.isFinite(loss)) throw new Error(`trainNoiseClassifier: the loss is ${loss} at step ${step}; lower lr`)
    const byName: Record<string, tf.Tensor> = {}
    names.forEach((k, j) => (byName[k] = grads[vars[j]!.name]!))
    adam.apply(byName, lr)
    return { loss, hits: Int32Array.from(flat.subarray(1, 1 + B)) }
  } finally {
    tf.dispose(grads)
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
export async function accuracyByTime(classifier: NoiseClassifier, images: ImageArray, labels: ArrayLike<number>, times: number[], opts: AccuracyByTimeOptions = {}): Promise<number[]> {
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
    for (const [k, t] of times.entries()) {
      // Re-seeded per batch, not per time: every t perturbs an image with the same z.
      perturb(sde, x0, new Float32Array(count).fill(t), new Rng(mixSeed(seed, start)), xt)
      const predicted = tf.tidy(() => tf.argMax(classifier.logits(tf.tensor4d(xt, [count, h, w, c]), tf.fill([count], t) as tf.Tensor1D), 1))
      try {
        const p = await predicted.data() // async: no synchronous read on WebGPU in Node
        for (let b = 0; b < count; b++) if (p[b] === labels[start + b]) correct[k]!++
      } finally {
        predicted.dispose()
      }
    }
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
