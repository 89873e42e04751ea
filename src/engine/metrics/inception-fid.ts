// FID in the literature's convention: the 2048-d pool3 features of the "FID Inception-v3" (the
// TensorFlow 2015-12-05 Inception that TTUR's fid.py uses, as ported by pytorch-fid to
// `pt_inception-2015-12-05-6726825d.pth`), computed exactly as pytorch-fid's InceptionV3 does with
// resize_input=True, normalize_input=True and the default output block (the final average pool).
//
// The weights are never downloaded: the user converts pytorch-fid's .pth with
// scripts/fid-inception-to-safetensors.py and puts the file where the lab looks (src/lab/classifiers.ts, fidWeightsPath).
// Its tensor names are pytorch-fid's state_dict names; the BatchNorms are folded into the convs at
// load time, so the forward pass is 94 × (conv + bias + ReLU) plus pools and concatenations.
//
// Architecture (pytorch_fid/inception.py fid_inception_v3(): torchvision's Inception3 blocks with
// four patched forwards):
//   - BasicConv2d = conv (no bias) + BatchNorm(eps = 0.001) + ReLU;
//   - FIDInceptionA / C / E_1 average-pool with count_include_pad=False (TensorFlow's rule: the
//     padded zeros are not counted), FIDInceptionE_2 max-pools in its pool branch;
//   - no aux logits and no fc: the features are the global average pool of Mixed_7c.
// torch is NCHW with conv weights [out, in, kh, kw]; here NHWC with tfjs filters [kh, kw, in, out].
// Channel order is the same (RGB in; torch.cat's order out), so the 2048 features line up with
// pytorch-fid's index for index.
import { halfToFloat } from '../io/half'
import { tf } from '../tf'
import { decodeSafetensors, type SafeTensor } from '../io/safetensors'
import { imageCount, toNetInput, type ImageArray } from './image-array'

/** Where the lab expects the converted weights, under `<data folder>/fid/`. */
/** The file pytorch-fid downloads (its SHA-256 starts with 6726825d). */
export const FID_INCEPTION_TORCH_FILE = 'pt_inception-2015-12-05-6726825d.pth'
export const FID_INCEPTION_DIM = 2048
/** pytorch-fid resizes every image to this side before the network. */
export const FID_INCEPTION_SIZE = 299
/** The smallest side the network takes without resizing (every valid conv and pool keeps ≥ 1 pixel). */
export const FID_INCEPTION_MIN_SIZE = 75
/** Classes of the FID Inception's (unused) fc layer; torchvision's ImageNet Inception has 1000. */
const FID_CLASSES = 1008
const BN_EPS = 0.001
const DEFAULT_BATCH = 16

export class FidInceptionError extends Error {
  override name = 'FidInceptionError'
}

// ------------------------------------------------------------------------------ architecture

/** One BasicConv2d as torchvision declares it: kernel [kh, kw], stride, padding [ph, pw]. */
interface ConvSpec {
  name: string
  cin: number
  cout: number
  k: [number, number]
  stride: number
  pad: [number, number]
}

function conv(name: string, cin: number, cout: number, k: number | [number, number], opts: { stride?: number; pad?: number | [number, number] } = {}): ConvSpec {
  const kk: [number, number] = typeof k === 'number' ? [k, k] : k
  const p = opts.pad ?? 0
  return { name, cin, cout, k: kk, stride: opts.stride ?? 1, pad: typeof p === 'number' ? [p, p] : p }
}

// The blocks' convs in torchvision's declaration order (= state_dict order).
const blockA = (p: string, cin: number, poolFeatures: number): ConvSpec[] => [
  conv(`${p}.branch1x1`, cin, 64, 1),
  conv(`${p}.branch5x5_1`, cin, 48, 1),
  conv(`${p}.branch5x5_2`, 48, 64, 5, { pad: 2 }),
  conv(`${p}.branch3x3dbl_1`, cin, 64, 1),
  conv(`${p}.branch3x3dbl_2`, 64, 96, 3, { pad: 1 }),
  conv(`${p}.branch3x3dbl_3`, 96, 96, 3, { pad: 1 }),
  conv(`${p}.branch_pool`, cin, poolFeatures, 1)
]
const blockB = (p: string, cin: number): ConvSpec[] => [
  conv(`${p}.branch3x3`, cin, 384, 3, { stride: 2 }),
  conv(`${p}.branch3x3dbl_1`, cin, 64, 1),
  conv(`${p}.branch3x3dbl_2`, 64, 96, 3, { pad: 1 }),
  conv(`${p}.branch3x3dbl_3`, 96, 96, 3, { stride: 2 })
]
const blockC = (p: string, cin: number, c7: number): ConvSpec[] => [
  conv(`${p}.branch1x1`, cin, 192, 1),
  conv(`${p}.branch7x7_1`, cin, c7, 1),
  conv(`${p}.branch7x7_2`, c7, c7, [1, 7], { pad: [0, 3] }),
  conv(`${p}.branch7x7_3`, c7, 192, [7, 1], { pad: [3, 0] }),
  conv(`${p}.branch7x7dbl_1`, cin, c7, 1),
  conv(`${p}.branch7x7dbl_2`, c7, c7, [7, 1], { pad: [3, 0] }),
  conv(`${p}.branch7x7dbl_3`, c7, c7, [1, 7], { pad: [0, 3] }),
  conv(`${p}.branch7x7dbl_4`, c7, c7, [7, 1], { pad: [3, 0] }),
  conv(`${p}.branch7x7dbl_5`, c7, 192, [1, 7], { pad: [0, 3] }),
  conv(`${p}.branch_pool`, cin, 192, 1)
]
const blockD = (p: string, cin: number): ConvSpec[] => [
  conv(`${p}.branch3x3_1`, cin, 192, 1),
  conv(`${p}.branch3x3_2`, 192, 320, 3, { stride: 2 }),
  conv(`${p}.branch7x7x3_1`, cin, 192, 1),
  conv(`${p}.branch7x7x3_2`, 192, 192, [1, 7], { pad: [0, 3] }),
  conv(`${p}.branch7x7x3_3`, 192, 192, [7, 1], { pad: [3, 0] }),
  conv(`${p}.branch7x7x3_4`, 192, 192, 3, { stride: 2 })
]
const blockE = (p: string, cin: number): ConvSpec[] => [
  conv(`${p}.branch1x1`, cin, 320, 1),
  conv(`${p}.branch3x3_1`, cin, 384, 1),
  conv(`${p}.branch3x3_2a`, 384, 384, [1, 3], { pad: [0, 1] }),
  conv(`${p}.branch3x3_2b`, 384, 384, [3, 1], { pad: [1, 0] }),
  conv(`${p}.branch3x3dbl_1`, cin, 448, 1),
  conv(`${p}.branch3x3dbl_2`, 448, 384, 3, { pad: 1 }),
  conv(`${p}.branch3x3dbl_3a`, 384, 384, [1, 3], { pad: [0, 1] }),
  conv(`${p}.branch3x3dbl_3b`, 384, 384, [3, 1], { pad: [1, 0] }),
  conv(`${p}.branch_pool`, cin, 192, 1)
]

const CONVS: readonly ConvSpec[] = [
  conv('Conv2d_1a_3x3', 3, 32, 3, { stride: 2 }),
  conv('Conv2d_2a_3x3', 32, 32, 3),
  conv('Conv2d_2b_3x3', 32, 64, 3, { pad: 1 }),
  conv('Conv2d_3b_1x1', 64, 80, 1),
  conv('Conv2d_4a_3x3', 80, 192, 3),
  ...blockA('Mixed_5b', 192, 32),
  ...blockA('Mixed_5c', 256, 64),
  ...blockA('Mixed_5d', 288, 64),
  ...blockB('Mixed_6a', 288),
  ...blockC('Mixed_6b', 768, 128),
  ...blockC('Mixed_6c', 768, 160),
  ...blockC('Mixed_6d', 768, 160),
  ...blockC('Mixed_6e', 768, 192),
  ...blockD('Mixed_7a', 768),
  ...blockE('Mixed_7b', 1280),
  ...blockE('Mixed_7c', 2048)
]

const BN_PARTS = ['weight', 'bias', 'running_mean', 'running_var'] as const

/**
 * Every tensor the network reads: pytorch-fid's state_dict names with PyTorch shapes (conv weights
 * [out, in, kh, kw]), in state_dict order. num_batches_tracked, fc.* and AuxLogits.* are not read.
 */
export function fidInceptionTensors(): { name: string; shape: number[] }[] {
  return CONVS.flatMap((c) => [
    { name: `${c.name}.conv.weight`, shape: [c.cout, c.cin, c.k[0], c.k[1]] },
    ...BN_PARTS.map((part) => ({ name: `${c.name}.bn.${part}`, shape: [c.cout] }))
  ])
}

/** Tensors a pytorch-fid state_dict may hold that the features do not use. */
function ignored(name: string): boolean {
  return name.endsWith('.num_batches_tracked') || name.startsWith('fc.') || name.startsWith('AuxLogits.')
}

// ----------------------------------------------------------------------------- preprocessing

/**
 * Images start..start+count−1 as the network's input [count, H, W, 3] in [−1, 1], the way
 * pytorch-fid prepares them: bilinear resize to 299×299 with align_corners=False and no
 * antialiasing (tfjs' halfPixelCenters: the same sampling grid, including the clamp at the
 * borders), then x·2 − 1. The lab's pixels are mapped to [−1, 1] (and clipped) first; the two
 * orders agree because bilinear weights sum to 1. Grayscale is repeated to RGB, as PIL's
 * convert('RGB') does for pytorch-fid's image files. `resize: false` feeds the images at their
 * own size. Call inside tf.tidy.
 */
export function fidInceptionInput(images: ImageArray, start: number, count: number, resize = true): tf.Tensor4D {
  const [, h, w, c] = images.shape
  let x: tf.Tensor4D = tf.tensor4d(toNetInput(images, start, count), [count, h, w, c])
  // Resize before repeating the gray channel: a third of the work, the same result.
  if (resize && (h !== FID_INCEPTION_SIZE || w !== FID_INCEPTION_SIZE)) {
    x = tf.image.resizeBilinear(x, [FID_INCEPTION_SIZE, FID_INCEPTION_SIZE], false, true)
  }
  return c === 1 ? tf.tile(x, [1, 1, 1, 3]) : x
}

// ----------------------------------------------------------------------------------- network

interface ConvLayer {
  /** [kh, kw, in, out], BatchNorm's scale folded in. */
  filter: tf.Tensor4D
  /** BatchNorm's shift: beta − mean·scale. */
  bias: tf.Tensor1D
  stride: number
  pad: 'same' | 'valid'
}

export interface FidInceptionFeatureOptions {
  /** Images per forward pass (default 16; at 299×299 that is ~0.3 GB of activations at the peak). */
  batchSize?: number
  /** Resize to 299×299 as pytorch-fid does (default true). Without it every side must be ≥ 75. */
  resize?: boolean
  /** Share of the images done, after each batch. */
  onProgress?: (fraction: number) => void
}

export class FidInception {
  readonly featureDim = FID_INCEPTION_DIM
  /** The file's string metadata (the converter records the .pth's name and SHA-256 there). */
  readonly metadata: Readonly<Record<string, string>>
  private readonly layers: Map<string, ConvLayer>
  private disposed = false

  private constructor(layers: Map<string, ConvLayer>, metadata: Record<string, string>) {
    this.layers = layers
    this.metadata = metadata
  }

  /**
   * Loads the converted pytorch-fid weights (a safetensors file of its state_dict, F32, F16, BF16
   * or F64). Every missing, mis-shaped or unexpected tensor is named, with `source` (a path).
   */
  static fromSafetensors(bytes: Uint8Array, source = 'the FID Inception weights'): FidInception {
    const file = decodeSafetensors(bytes, source)
    const tensors = file.tensors
    const want = fidInceptionTensors()
    const wanted = new Set(want.map((t) => t.name))
    const problems: string[] = []
    const list = (names: string[]) => names.slice(0, 5).join(', ') + (names.length > 5 ? `, … (${names.length - 5} more)` : '')
    const missing = want.filter((t) => !(t.name in tensors)).map((t) => t.name)
    if (missing.length) problems.push(`missing ${missing.length} tensor(s): ${list(missing)}`)
    const extra = Object.keys(tensors).filter((n) => !wanted.has(n) && !ignored(n))
    if (extra.length) problems.push(`unexpected ${extra.length} tensor(s): ${list(extra)}`)
    for (const { name, shape } of want) {
      const t = tensors[name]
      if (!t) continue
      if (t.shape.join() !== shape.join()) problems.push(`"${name}" has shape [${t.shape.join(', ')}], expected [${shape.join(', ')}]`)
      else if (!FLOAT_DTYPES.has(t.dtype)) problems.push(`"${name}" is ${t.dtype}, expected a float tensor (F32, F16, BF16 or F64)`)
    }
    // torchvision's ImageNet Inception-v3 has the same conv names and shapes but other weights:
    // its fc (1000 classes, not 1008) is the one tell. Its features are not the FID's.
    const fc = tensors['fc.weight']
    if (fc && fc.shape[0] !== FID_CLASSES) {
      problems.push(`its fc layer has ${fc.shape[0]} classes, not ${FID_CLASSES}: this looks like torchvision's ImageNet Inception-v3, not pytorch-fid's FID Inception (${FID_INCEPTION_TORCH_FILE})`)
    }
    if (problems.length) throw new FidInceptionError(`${source} is not the FID Inception-v3 weights: ${problems.join('; ')}`)

    const layers = new Map<string, ConvLayer>()
    try {
      for (const spec of CONVS) layers.set(spec.name, foldConv(spec, tensors, source))
    } catch (err) {
      for (const l of layers.values()) tf.dispose([l.filter, l.bias])
      throw err
    }
    return new FidInception(layers, file.metadata)
  }

  /**
   * pool3 features [n, 2048] (row-major) of the images, through pytorch-fid's preprocessing
   * (fidInceptionInput). No tensor outlives the call.
   */
  async features(images: ImageArray, opts: FidInceptionFeatureOptions = {}): Promise<Float32Array> {
    this.checkAlive()
    const n = imageCount(images, 'FidInception.features')
    const [, h, w, c] = images.shape
    const resize = opts.resize ?? true
    const batchSize = opts.batchSize ?? DEFAULT_BATCH
    if (c !== 1 && c !== 3) throw new FidInceptionError(`FidInception.features: images need 1 (gray) or 3 (RGB) channels, got ${c}`)
    if (!resize && (h < FID_INCEPTION_MIN_SIZE || w < FID_INCEPTION_MIN_SIZE)) {
      throw new FidInceptionError(`FidInception.features: without resizing the network needs at least ${FID_INCEPTION_MIN_SIZE}×${FID_INCEPTION_MIN_SIZE} images, got ${h}×${w}`)
    }
    if (!(Number.isInteger(batchSize) && batchSize >= 1)) throw new FidInceptionError(`FidInception.features: batchSize must be a positive integer, got ${batchSize}`)
    const out = new Float32Array(n * FID_INCEPTION_DIM)
    for (let start = 0; start < n; start += batchSize) {
      const count = Math.min(batchSize, n - start)
      const x = tf.tidy(() => fidInceptionInput(images, start, count, resize))
      const f = this.forward(x, true)
      try {
        // An asynchronous read: a synchronous one is impossible on WebGPU in Node.
        out.set((await f.data()) as Float32Array, start * FID_INCEPTION_DIM)
      } finally {
        f.dispose()
      }
      opts.onProgress?.((start + count) / n)
    }
    return out
  }

  /**
   * Features [B, 2048] of a prepared input [B, H, W, 3] in [−1, 1] (fidInceptionInput). Each
   * block runs in its own tidy so only one block's activations are alive at a time (~20 MB per
   * 299×299 image at the peak; the whole network's would be ~50 MB). `consumeInput` disposes x
   * as soon as it is used.
   */
  forward(x: tf.Tensor4D, consumeInput = false): tf.Tensor2D {
    const stages: ((h: tf.Tensor4D) => tf.Tensor4D)[] = [
      // The stem's maps are the largest (147×147×64 at 299), so one stage per conv there.
      (h) => this.conv('Conv2d_1a_3x3', h),
      (h) => this.conv('Conv2d_2a_3x3', h),
      (h) => tf.maxPool(this.conv('Conv2d_2b_3x3', h), 3, 2, 'valid'),
      (h) => tf.maxPool(this.conv('Conv2d_4a_3x3', this.conv('Conv2d_3b_1x1', h)), 3, 2, 'valid'),
      (h) => this.blockA('Mixed_5b', h),
      (h) => this.blockA('Mixed_5c', h),
      (h) => this.blockA('Mixed_5d', h),
      (h) => this.blockB('Mixed_6a', h),
      (h) => this.blockC('Mixed_6b', h),
      (h) => this.blockC('Mixed_6c', h),
      (h) => this.blockC('Mixed_6d', h),
      (h) => this.blockC('Mixed_6e', h),
      (h) => this.blockD('Mixed_7a', h),
      (h) => this.blockE('Mixed_7b', h, 'avg'),
      (h) => this.blockE('Mixed_7c', h, 'max')
    ]
    let h = x
    try {
      this.checkAlive()
      if (x.shape[3] !== 3) throw new FidInceptionError(`FidInception.forward: the input needs 3 channels, got ${x.shape[3]}`)
      for (const stage of stages) {
        const next = tf.tidy(() => stage(h))
        if (h !== x || consumeInput) h.dispose()
        h = next
      }
      // pytorch-fid: AdaptiveAvgPool2d((1, 1)), then the [B, 2048, 1, 1] map flattened.
      return tf.tidy(() => tf.mean(h, [1, 2]) as tf.Tensor2D)
    } finally {
      if (h !== x || consumeInput) h.dispose()
    }
  }

  dispose(): void {
    if (this.disposed) return
    this.disposed = true
    for (const l of this.layers.values()) tf.dispose([l.filter, l.bias])
    this.layers.clear()
  }

  private checkAlive(): void {
    if (this.disposed) throw new FidInceptionError('FidInception: used after dispose()')
  }

  /** BasicConv2d with its BatchNorm folded: ReLU(conv(x, W·scale) + shift). */
  private conv(name: string, x: tf.Tensor4D): tf.Tensor4D {
    const l = this.layers.get(name)!
    // Plain conv2d + add + relu rather than tf.fused.conv2d: the native backend replaces Conv2D
    // with its own kernel but not FusedConv2D, and on cpu the fused kernel does the same steps.
    // Own tidy: the conv's and the add's outputs go as soon as the ReLU has read them.
    return tf.tidy(() => tf.relu(tf.add(tf.conv2d(x, l.filter, l.stride, l.pad), l.bias)) as tf.Tensor4D)
  }

  private blockA(p: string, x: tf.Tensor4D): tf.Tensor4D {
    const c = (name: string, h: tf.Tensor4D) => this.conv(`${p}.${name}`, h)
    return tf.concat([
      c('branch1x1', x),
      c('branch5x5_2', c('branch5x5_1', x)),
      c('branch3x3dbl_3', c('branch3x3dbl_2', c('branch3x3dbl_1', x))),
      c('branch_pool', avgPool3x3(x))
    ], 3)
  }

  private blockB(p: string, x: tf.Tensor4D): tf.Tensor4D {
    const c = (name: string, h: tf.Tensor4D) => this.conv(`${p}.${name}`, h)
    return tf.concat([
      c('branch3x3', x),
      c('branch3x3dbl_3', c('branch3x3dbl_2', c('branch3x3dbl_1', x))),
      tf.maxPool(x, 3, 2, 'valid')
    ], 3)
  }

  private blockC(p: string, x: tf.Tensor4D): tf.Tensor4D {
    const c = (name: string, h: tf.Tensor4D) => this.conv(`${p}.${name}`, h)
    let b7 = c('branch7x7_1', x)
    b7 = c('branch7x7_3', c('branch7x7_2', b7))
    let bd = c('branch7x7dbl_1', x)
    for (const i of [2, 3, 4, 5]) bd = c(`branch7x7dbl_${i}`, bd)
    return tf.concat([c('branch1x1', x), b7, bd, c('branch_pool', avgPool3x3(x))], 3)
  }

  private blockD(p: string, x: tf.Tensor4D): tf.Tensor4D {
    const c = (name: string, h: tf.Tensor4D) => this.conv(`${p}.${name}`, h)
    let b7 = c('branch7x7x3_1', x)
    for (const i of [2, 3, 4]) b7 = c(`branch7x7x3_${i}`, b7)
    return tf.concat([c('branch3x3_2', c('branch3x3_1', x)), b7, tf.maxPool(x, 3, 2, 'valid')], 3)
  }

  /** Mixed_7b pools by average (FIDInceptionE_1), Mixed_7c by max (FIDInceptionE_2). */
  private blockE(p: string, x: tf.Tensor4D, pool: 'avg' | 'max'): tf.Tensor4D {
    const c = (name: string, h: tf.Tensor4D) => this.conv(`${p}.${name}`, h)
    const b3 = c('branch3x3_1', x)
    const bd = c('branch3x3dbl_2', c('branch3x3dbl_1', x))
    // Max pool with 'same' padding: padded cells never win, and x ≥ 0 (a concat of ReLUs)
    // anyway, so the result does not depend on how a backend pads.
    const pooled = pool === 'avg' ? avgPool3x3(x) : tf.maxPool(x, 3, 1, 'same')
    return tf.concat([
      c('branch1x1', x),
      c('branch3x3_2a', b3),
      c('branch3x3_2b', b3),
      c('branch3x3dbl_3a', bd),
      c('branch3x3dbl_3b', bd),
      c('branch_pool', pooled)
    ], 3)
  }
}

/**
 * avg_pool2d(kernel 3, stride 1, padding 1, count_include_pad=False): each output averages only
 * the in-image cells (4 at corners, 6 on edges, 9 inside). Done as zero pad + 'valid' average
 * (= sum / 9) times 9 / count, so it does not depend on a backend's choice for 'same' padding.
 */
function avgPool3x3(x: tf.Tensor4D): tf.Tensor4D {
  const [, h, w] = x.shape
  const scale = new Float32Array(h * w)
  for (let i = 0; i < h; i++) {
    const rows = (i > 0 ? 1 : 0) + 1 + (i < h - 1 ? 1 : 0)
    for (let j = 0; j < w; j++) scale[i * w + j] = 9 / (rows * ((j > 0 ? 1 : 0) + 1 + (j < w - 1 ? 1 : 0)))
  }
  const sum9 = tf.avgPool(tf.pad(x, [[0, 0], [1, 1], [1, 1], [0, 0]]), 3, 1, 'valid')
  return tf.mul(sum9, tf.tensor4d(scale, [1, h, w, 1]))
}

// ------------------------------------------------------------------------------------- loading

const FLOAT_DTYPES = new Set(['F32', 'F16', 'BF16', 'F64'])

/** Any float dtype as numbers (the fold is done in double, then rounded to float32 once). */
function floats(t: SafeTensor): ArrayLike<number> {
  switch (t.dtype) {
    case 'F32':
    case 'F64':
      return t.data as Float32Array | Float64Array
    case 'F16': {
      const table = halfTable()
      const h = t.data as Uint16Array
      const out = new Float32Array(h.length)
      for (let i = 0; i < h.length; i++) out[i] = table[h[i]]
      return out
    }
    case 'BF16': {
      const bits = new Uint32Array((t.data as Uint16Array).length)
      ;(t.data as Uint16Array).forEach((b, i) => (bits[i] = b << 16))
      return new Float32Array(bits.buffer)
    }
    default:
      throw new Error(`unreachable: dtype ${t.dtype} passed the check`)
  }
}

let halfValues: Float32Array | undefined

/** All 65536 half values, so converting 22M weights is a table look-up each. */
function halfTable(): Float32Array {
  if (!halfValues) {
    halfValues = new Float32Array(65536)
    for (let h = 0; h < 65536; h++) halfValues[h] = halfToFloat(h)
  }
  return halfValues
}


/**
 * One BasicConv2d as a tfjs filter and bias: scale = γ / √(var + 0.001), filter = W·scale per
 * output channel (transposed [out, in, kh, kw] → [kh, kw, in, out]), bias = β − mean·scale.
 */
function foldConv(spec: ConvSpec, tensors: Record<string, SafeTensor>, source: string): ConvLayer {
  const get = (part: string) => floats(tensors[`${spec.name}.${part}`]!)
  const w = get('conv.weight')
  const [gamma, beta, mean, variance] = BN_PARTS.map((part) => get(`bn.${part}`))
  const { cin, cout } = spec
  const [kh, kw] = spec.k
  const scale = new Float64Array(cout)
  const bias = new Float32Array(cout)
  for (let o = 0; o < cout; o++) {
    if (!(variance[o] >= 0)) throw new FidInceptionError(`${source}: "${spec.name}.bn.running_var" has ${variance[o]} at ${o}; a variance must be ≥ 0`)
    scale[o] = gamma[o] / Math.sqrt(variance[o] + BN_EPS)
    bias[o] = beta[o] - mean[o] * scale[o]
  }
  const filter = new Float32Array(w.length)
  for (let o = 0; o < cout; o++) {
    for (let i = 0; i < cin; i++) {
      for (let y = 0; y < kh; y++) {
        for (let x = 0; x < kw; x++) filter[((y * kw + x) * cin + i) * cout + o] = w[((o * cin + i) * kh + y) * kw + x] * scale[o]
      }
    }
  }
  return { filter: tf.tensor4d(filter, [kh, kw, cin, cout]), bias: tf.tensor1d(bias), stride: spec.stride, pad: tfPadding(spec) }
}

/** torchvision's paddings are either 0 or (k − 1) / 2 at stride 1, i.e. tfjs' 'valid' or 'same'. */
function tfPadding(spec: ConvSpec): 'same' | 'valid' {
  const [ph, pw] = spec.pad
  const [kh, kw] = spec.k
  if (ph === 0 && pw === 0) return 'valid'
  if (spec.stride === 1 && ph === (kh - 1) / 2 && pw === (kw - 1) / 2) return 'same'
  throw new Error(`unreachable: ${spec.name} has padding [${spec.pad.join(', ')}] for kernel [${spec.k.join(', ')}] at stride ${spec.stride}`)
}
