// The feature network of a data set's quality metric: a small image classifier whose 128-d
// penultimate activations stand in for Inception's pool3 features (science.md §8: numbers from
// it compare only with themselves). Three 3×3 conv + ReLU + 2×2 max-pool blocks ('same'
// padding, so 28×28 and 32×32 both end at 4×4), a dense ReLU layer of `featureDim` features and
// a linear head over the classes. Plain tfjs-core ops over named variables (as nets/layers.ts),
// seeded He-normal init, trained with the engine's Adam on softmax cross-entropy.
//
// Images go in as plain arrays (image-array.ts) in the lab's layout; everything that leaves is
// a Float32Array. Saving and loading: feature-net-io.ts.
import { tf } from '../tf'
import { dense, ParamStore, torchDefaultInit, uniquePrefix, type ParamSpec } from '../nets/layers'
import { Adam } from '../train/adam'
import { mixSeed, seededRandom, shuffledIndices } from '../data/shuffle'
import { imageCount, toNetInput, type ImageArray } from './image-array'

export interface FeatureNetConfig {
  /** Input [height, width, channels]: [28, 28, 1] (MNIST, FashionMNIST) or [32, 32, 3] (CIFAR-10). */
  shape: [number, number, number]
  classes: number
  /** Channels of the three conv blocks. */
  widths: [number, number, number]
  /** Size of the penultimate layer (the features). */
  featureDim: number
  /** Seed of the initial weights. */
  seed: number
}

export const FEATURE_NET_DEFAULTS = { classes: 10, widths: [16, 32, 64] as [number, number, number], featureDim: 128, seed: 0 }

const POOLS = 3

export class FeatureNet {
  readonly config: FeatureNetConfig
  private readonly store: ParamStore

  constructor(config: Partial<FeatureNetConfig> & Pick<FeatureNetConfig, 'shape'>) {
    this.config = { ...FEATURE_NET_DEFAULTS, ...config, widths: [...(config.widths ?? FEATURE_NET_DEFAULTS.widths)] as [number, number, number], shape: [...config.shape] as [number, number, number] }
    const { shape, classes, widths, featureDim, seed } = this.config
    if (shape.length !== 3 || !shape.every((s) => Number.isInteger(s) && s >= 1)) throw new Error(`FeatureNet: shape must be [height, width, channels], got [${shape.join(', ')}]`)
    for (const [name, v] of [['classes', classes], ['featureDim', featureDim], ...widths.map((w, i) => [`widths[${i}]`, w] as const)] as const) {
      if (!(Number.isInteger(v) && v >= 1)) throw new Error(`FeatureNet: ${name} must be a positive integer, got ${v}`)
    }
    if (widths.length !== POOLS) throw new Error(`FeatureNet: widths needs ${POOLS} entries, got ${widths.length}`)
    // In a tidy: ParamStore and Adam leave each variable's initial tensor tracked (it shares the
    // variable's data), so disposing the variables alone would not free that memory.
    let store: ParamStore | undefined
    tf.tidy(() => {
      store = new ParamStore(featureNetSpecs(this.config), seed, uniquePrefix('feature_net'))
    })
    this.store = store!
  }

  get featureDim(): number {
    return this.config.featureDim
  }

  get params(): ReadonlyMap<string, tf.Variable> {
    return this.store.params
  }

  numParams(): number {
    return this.store.numParams()
  }

  /** Features [B, featureDim] and logits [B, classes] of x [B, H, W, C] scaled to [−1, 1]. Call inside tf.tidy. */
  forward(x: tf.Tensor4D): { features: tf.Tensor2D; logits: tf.Tensor2D } {
    let h: tf.Tensor4D = x
    for (let i = 0; i < POOLS; i++) {
      const z = tf.add(tf.conv2d(h, this.store.get(`conv${i}.weight`) as tf.Tensor4D, 1, 'same'), this.store.get(`conv${i}.bias`))
      h = tf.maxPool(tf.relu(z) as tf.Tensor4D, 2, 2, 'same')
    }
    const flat = tf.reshape(h, [h.shape[0], -1])
    const features = tf.relu(dense(flat, this.store.get('fc.weight'), this.store.get('fc.bias'))) as tf.Tensor2D
    const logits = dense(features, this.store.get('head.weight'), this.store.get('head.bias')) as tf.Tensor2D
    return { features, logits }
  }

  dispose(): void {
    this.store.dispose()
  }
}

/** Named parameters: conv{0,1,2}.{weight,bias}, fc.{weight,bias}, head.{weight,bias}. */
export function featureNetSpecs(config: FeatureNetConfig): ParamSpec[] {
  const { shape, classes, widths, featureDim } = config
  const specs: ParamSpec[] = []
  const he = (fanIn: number) => ({ kind: 'normal' as const, std: Math.sqrt(2 / fanIn) })
  const zero = { kind: 'const' as const, value: 0 }
  let cin = shape[2]
  widths.forEach((cout, i) => {
    specs.push({ name: `conv${i}.weight`, shape: [3, 3, cin, cout], layout: 'conv2d', init: he(9 * cin), trainable: true })
    specs.push({ name: `conv${i}.bias`, shape: [cout], layout: 'same', init: zero, trainable: true })
    cin = cout
  })
  let [h, w] = shape
  for (let i = 0; i < POOLS; i++) [h, w] = [Math.ceil(h / 2), Math.ceil(w / 2)]
  const flat = h * w * cin
  specs.push({ name: 'fc.weight', shape: [flat, featureDim], layout: 'linear', init: he(flat), trainable: true })
  specs.push({ name: 'fc.bias', shape: [featureDim], layout: 'same', init: zero, trainable: true })
  specs.push({ name: 'head.weight', shape: [featureDim, classes], layout: 'linear', init: torchDefaultInit(featureDim), trainable: true })
  specs.push({ name: 'head.bias', shape: [classes], layout: 'same', init: zero, trainable: true })
  return specs
}

// ------------------------------------------------------------------------------- training

export interface FeatureNetProgress {
  step: number
  steps: number
  /** Cross-entropy of this step's batch. */
  loss: number
  /** Share of this step's batch classified correctly. */
  batchAccuracy: number
  seconds: number
}

export interface TrainFeatureNetOptions {
  steps?: number
  batchSize?: number
  /** Peak Adam learning rate; it decays along a half cosine to lr/10 over the steps. */
  lr?: number
  /** Seeds the initial weights and the batch order. */
  seed?: number
  /** Architecture (shape comes from the images). */
  net?: Partial<Pick<FeatureNetConfig, 'classes' | 'widths' | 'featureDim'>>
  onProgress?: (p: FeatureNetProgress) => void
  /** Checked between steps; training yields to the event loop every few steps so it can fire. */
  signal?: AbortSignal
}

export const TRAIN_FEATURE_NET_DEFAULTS = { steps: 1500, batchSize: 64, lr: 2e-3, seed: 0 }

export interface FeatureNetTraining {
  net: FeatureNet
  steps: number
  seed: number
  seconds: number
  /** Mean batch loss over the last tenth of the steps. */
  finalLoss: number
}

const YIELD_EVERY_MS = 15

/** Trains a FeatureNet on labelled images (labels are class indices 0..classes−1). */
export async function trainFeatureNet(images: ImageArray, labels: ArrayLike<number>, opts: TrainFeatureNetOptions = {}): Promise<FeatureNetTraining> {
  const { steps, batchSize, lr, seed } = { ...TRAIN_FEATURE_NET_DEFAULTS, ...definedOnly(opts) }
  const n = imageCount(images, 'trainFeatureNet')
  if (labels.length !== n) throw new Error(`trainFeatureNet: ${labels.length} labels for ${n} images`)
  if (!(Number.isInteger(steps) && steps >= 1)) throw new Error(`trainFeatureNet: steps must be a positive integer, got ${steps}`)
  if (!(Number.isInteger(batchSize) && batchSize >= 1 && batchSize <= n)) throw new Error(`trainFeatureNet: batchSize must be an integer in 1..${n}, got ${batchSize}`)
  if (!(lr > 0)) throw new Error(`trainFeatureNet: lr must be positive, got ${lr}`)
  const [, h, w, c] = images.shape
  const classes = opts.net?.classes ?? FEATURE_NET_DEFAULTS.classes
  for (let i = 0; i < n; i++) {
    if (!(Number.isInteger(labels[i]) && labels[i] >= 0 && labels[i] < classes)) throw new Error(`trainFeatureNet: label ${labels[i]} of image ${i} is outside 0..${classes - 1}`)
  }
  const net = new FeatureNet({ ...opts.net, shape: [h, w, c], seed })
  let adam!: Adam
  tf.tidy(() => {
    adam = new Adam(net.params) // in a tidy: see the FeatureNet constructor
  })
  const per = h * w * c
  const xBuf = new Float32Array(batchSize * per)
  const yBuf = new Int32Array(batchSize)
  const started = performance.now()
  let lastYield = started
  const losses: number[] = []
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
        toNetInput(images, i, 1, xBuf.subarray(b * per, (b + 1) * per))
        yBuf[b] = labels[i]
      }
      const stepLr = lr * (0.1 + 0.9 * 0.5 * (1 + Math.cos((Math.PI * (step - 1)) / steps)))
      const { loss, correct } = await trainStep(net, adam, xBuf, yBuf, stepLr, step)
      losses.push(loss)
      opts.onProgress?.({ step, steps, loss, batchAccuracy: correct / batchSize, seconds: (performance.now() - started) / 1000 })
      if (performance.now() - lastYield > YIELD_EVERY_MS) {
        await new Promise((resolve) => setTimeout(resolve, 0))
        lastYield = performance.now()
      }
    }
  } catch (err) {
    net.dispose()
    throw err
  } finally {
    adam.dispose()
  }
  const tail = losses.slice(-Math.max(1, Math.floor(steps / 10)))
  return { net, steps, seed, seconds: (performance.now() - started) / 1000, finalLoss: tail.reduce((a, v) => a + v, 0) / tail.length }
}

/**
 * One Adam step on the batch in (xBuf, yBuf); returns the batch loss and how many it got right.
 * Both come back in one asynchronous read (a synchronous read is impossible on WebGPU in Node)
 * while the gradients wait on the device: Adam applies them only once the loss is known finite.
 */
async function trainStep(net: FeatureNet, adam: Adam, xBuf: Float32Array, yBuf: Int32Array, lr: number, step: number): Promise<{ loss: number; correct: number }> {
  const [h, w, c] = net.config.shape
  const names = [...net.params.keys()]
  const vars = names.map((k) => net.params.get(k)!)
  const { grads, read } = tf.tidy(() => {
    const x = tf.tensor4d(xBuf, [yBuf.length, h, w, c])
    const y = tf.tensor1d(yBuf, 'int32')
    const oneHot = tf.oneHot(y, net.config.classes)
    let correct: tf.Tensor | null = null
    const { value, grads } = tf.variableGrads(() => {
      const { logits } = net.forward(x)
      correct = tf.keep(tf.sum(tf.cast(tf.equal(tf.argMax(logits, 1), y), 'float32')))
      return tf.mean(tf.neg(tf.sum(tf.mul(oneHot, tf.logSoftmax(logits)), 1))) as tf.Scalar
    }, vars)
    const kept = correct as tf.Tensor | null
    // [loss, correct]: a count ≤ batchSize is exact in float32.
    const read = tf.stack([value, kept ?? tf.scalar(0)])
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
    const loss = flat[0]
    if (!Number.isFinite(loss)) throw new Error(`trainFeatureNet: the loss is ${loss} at step ${step}; lower lr`)
    const byName: Record<string, tf.Tensor> = {}
    names.forEach((k, j) => (byName[k] = grads[vars[j].name]))
    adam.apply(byName, lr)
    return { loss, correct: flat[1] }
  } finally {
    tf.dispose(grads)
  }
}

function definedOnly<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>
}

// ------------------------------------------------------------------------------ inference

export interface EmbedOptions {
  /** Images per forward pass (default 256). */
  batchSize?: number
}

export interface Embedding {
  /** n × featureDim penultimate activations, row-major. */
  features: Float32Array
  /** n × classes softmax probabilities, row-major. */
  probs: Float32Array
}

/** Features and class probabilities of every image, in one pass. No tensor outlives the call. */
export async function embed(net: FeatureNet, images: ImageArray, opts: EmbedOptions = {}): Promise<Embedding> {
  const n = imageCount(images, 'embed')
  const [, h, w, c] = images.shape
  const [eh, ew, ec] = net.config.shape
  if (h !== eh || w !== ew || c !== ec) throw new Error(`embed: the feature network takes ${eh}×${ew}×${ec} images, got ${h}×${w}×${c}`)
  const batchSize = opts.batchSize ?? 256
  const { featureDim, classes } = net.config
  const features = new Float32Array(n * featureDim)
  const probs = new Float32Array(n * classes)
  for (let start = 0; start < n; start += batchSize) {
    const count = Math.min(batchSize, n - start)
    const x = toNetInput(images, start, count)
    const [f, p] = tf.tidy(() => {
      const out = net.forward(tf.tensor4d(x, [count, h, w, c]))
      return [out.features, tf.softmax(out.logits)]
    })
    // Asynchronous reads: a synchronous one is impossible on WebGPU in Node.
    try {
      const [fv, pv] = await Promise.all([f.data(), p.data()])
      features.set(fv as Float32Array, start * featureDim)
      probs.set(pv as Float32Array, start * classes)
    } finally {
      tf.dispose([f, p])
    }
  }
  return { features, probs }
}

/** n × featureDim penultimate activations (row-major). */
export async function features(net: FeatureNet, images: ImageArray, opts: EmbedOptions = {}): Promise<Float32Array> {
  return (await embed(net, images, opts)).features
}

/** n × classes softmax probabilities (row-major). */
export async function predictProbs(net: FeatureNet, images: ImageArray, opts: EmbedOptions = {}): Promise<Float32Array> {
  return (await embed(net, images, opts)).probs
}

/** Index of the largest probability of each row of an n × classes array. */
export function argmaxRows(probs: Float32Array, classes: number): Int32Array {
  const n = probs.length / classes
  const out = new Int32Array(n)
  for (let i = 0; i < n; i++) {
    let best = 0
    for (let j = 1; j < classes; j++) if (probs[i * classes + j] > probs[i * classes + best]) best = j
    out[i] = best
  }
  return out
}

/** Share of images whose most probable class is their label. */
export async function accuracy(net: FeatureNet, images: ImageArray, labels: ArrayLike<number>, opts: EmbedOptions = {}): Promise<number> {
  const n = imageCount(images, 'accuracy')
  if (labels.length !== n) throw new Error(`accuracy: ${labels.length} labels for ${n} images`)
  const predicted = argmaxRows(await predictProbs(net, images, opts), net.config.classes)
  let correct = 0
  for (let i = 0; i < n; i++) if (predicted[i] === labels[i]) correct++
  return n === 0 ? NaN : correct / n
}
