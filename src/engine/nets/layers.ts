// Small building blocks over tfjs-core ops for the score networks. Plain functions over
// tensors (no tfjs-layers: it has no GroupNorm and would hide the parameter names we need
// to match PyTorch's state_dict); GroupNorm is in ../ops/group-norm.ts, next to its fused kernel.
// Every op used here has a gradient in tfjs-core, so the training loop's tf.variableGrads flows
// through all of them.
//
// Weights are kept in tfjs layouts (NHWC activations):
//   Linear           PyTorch [out, in]            → tfjs [in, out]              (transpose [1,0])
//   Conv2d           PyTorch [out, in, kh, kw]    → tfjs [kh, kw, in, out]      (transpose [2,3,1,0])
//   ConvTranspose2d  PyTorch [in, out, kh, kw]    → tfjs [kh, kw, out, in]      (transpose [2,3,1,0])
// Both frameworks compute cross-correlations and define the transposed conv as the adjoint of
// conv2d, so no spatial flip is needed (checked numerically in test/engine/layers.test.ts).
import { tf } from '../tf' // also registers every op's gradient (see tf.ts)
import { variableFrom } from '../ops/variable'
import { sigmoidTwice } from '../ops/sigmoid'

/** How a parameter is laid out in PyTorch, to convert on import/export (see torch-import.ts). */
export type TorchLayout = 'linear' | 'conv2d' | 'conv_transpose2d' | 'same'

/**
 * Axis permutation between the two layouts (null: none). Conv2d and ConvTranspose2d share it:
 * tfjs [kh,kw,a,b] ↔ PyTorch [b,a,kh,kw].
 */
export function layoutPermutation(layout: TorchLayout, direction: 'toTorch' | 'fromTorch'): number[] | null {
  if (layout === 'same') return null
  if (layout === 'linear') return [1, 0]
  return direction === 'toTorch' ? [3, 2, 0, 1] : [2, 3, 1, 0]
}

/** The expected rank of a layout (null: any). */
export function layoutRank(layout: TorchLayout): number | null {
  return layout === 'linear' ? 2 : layout === 'same' ? null : 4
}

/** tfjs shape → PyTorch shape (or back) for a layout. */
export function permuteShape(layout: TorchLayout, shape: number[], direction: 'toTorch' | 'fromTorch'): number[] {
  const p = layoutPermutation(layout, direction)
  return p && shape.length === p.length ? p.map((i) => shape[i]!) : [...shape]
}

// ------------------------------------------------------------------------------------ ops

/**
 * x·W with the gradient written as plain matmuls of explicit transposes. tfjs' own BatchMatMul
 * gradient uses the transposeA/transposeB flags, which the wasm backend runs ~14× slower than a
 * transpose plus a plain matmul (measured on [1024,49]ᵀ·[1024,512]); it dominated the mixer's step.
 */
const matMulFastGrad = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
  const [x, w, save] = args as [tf.Tensor, tf.Tensor, tf.GradSaveFunc]
  save([x, w])
  return {
    value: tf.matMul(x as tf.Tensor2D, w as tf.Tensor2D),
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [xs, ws] = saved as [tf.Tensor2D, tf.Tensor2D]
      return [tf.matMul(dy as tf.Tensor2D, tf.transpose(ws)), tf.matMul(tf.transpose(xs), dy as tf.Tensor2D)]
    }
  }
}) as (x: tf.Tensor, w: tf.Tensor) => tf.Tensor

/** y = x·W + b for x [B, in], W [in, out]. */
export function dense(x: tf.Tensor, w: tf.Tensor, b?: tf.Tensor): tf.Tensor {
  if (x.rank !== 2 || w.rank !== 2) throw new Error(`dense expects x [B, in] and W [in, out], got [${x.shape.join(', ')}] and [${w.shape.join(', ')}]`)
  const y = matMulFastGrad(x, w)
  return b ? tf.add(y, b) : y
}

/** PyTorch Conv2d with padding 0 ('valid'); x NHWC, w [kh, kw, in, out]. */
export function conv2d(x: tf.Tensor, w: tf.Tensor, stride: number): tf.Tensor4D {
  return tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, stride, 'valid')
}

/**
 * PyTorch ConvTranspose2d with padding 0 and `output_padding`: out = (H−1)·s + k + outputPadding.
 * tfjs' conv2dTranspose accepts that larger outputShape under 'valid' (conv2d of it gives H back);
 * the extra row and column land at the bottom/right, exactly where PyTorch puts them.
 * w is [kh, kw, out, in].
 */
export function conv2dTranspose(x: tf.Tensor, w: tf.Tensor, stride: number, outputPadding: number | [number, number] = 0): tf.Tensor4D {
  const [b, h, wd] = x.shape as [number, number, number, number]
  const [kh, kw, cout] = w.shape as [number, number, number, number]
  const [oph, opw] = typeof outputPadding === 'number' ? [outputPadding, outputPadding] : outputPadding
  for (const op of [oph, opw]) {
    if (!Number.isInteger(op) || op < 0 || op >= Math.max(stride, 1)) {
      throw new Error(`output_padding must be an integer in [0, stride) as in PyTorch, got ${op} with stride ${stride}`)
    }
  }
  const outShape: [number, number, number, number] = [b, (h - 1) * stride + kh + oph, (wd - 1) * stride + kw + opw, cout]
  return tf.conv2dTranspose(x as tf.Tensor4D, w as tf.Tensor4D, outShape, stride, 'valid')
}

/** LayerNorm over the last axis (PyTorch eps 1e-5). */
export function layerNorm(x: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor, eps = 1e-5): tf.Tensor {
  return tf.tidy(() => {
    const { mean, variance } = tf.moments(x, -1, true)
    return tf.add(tf.mul(tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, eps))), gamma), beta)
  })
}

/** swish(x) = x·sigmoid(x), the tutorial's `act`. */
export function swish(x: tf.Tensor): tf.Tensor {
  return tf.tidy(() => tf.mul(x, tf.sigmoid(x)))
}

/**
 * swish with a twice-differentiable gradient (ops/sigmoid.ts says why tf.sigmoid's is not): the
 * same values and first-order gradients as swish, for networks trained by sliced score matching.
 */
export function swishTwice(x: tf.Tensor): tf.Tensor {
  return tf.tidy(() => tf.mul(x, sigmoidTwice(x)))
}

/** GELU, tanh form (PyTorch gelu(approximate='tanh')): tfjs-core has no gelu op. */
export function gelu(x: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const inner = tf.mul(tf.add(x, tf.mul(tf.mul(tf.mul(x, x), x), 0.044715)), Math.sqrt(2 / Math.PI)) // x·x·x: cheaper than pow
    return tf.mul(tf.mul(x, 0.5), tf.add(tf.tanh(inner), 1))
  })
}

/**
 * Gaussian Fourier projection of times t [B] with frozen frequencies W [E/2]:
 * [sin(2π t W), cos(2π t W)] → [B, E]. Multiplication order follows the tutorial
 * (t·W first, then 2π) so float32 rounding matches PyTorch's.
 */
export function gaussianFourierProjection(t: tf.Tensor, w: tf.Tensor): tf.Tensor2D {
  return tf.tidy(() => {
    const proj = tf.mul(tf.mul(tf.reshape(t, [-1, 1]), tf.reshape(w, [1, -1])), 2 * Math.PI)
    return tf.concat([tf.sin(proj), tf.cos(proj)], 1) as tf.Tensor2D
  })
}

// ------------------------------------------------------------------------------------ init

/** Seeded uniform/normal source (mulberry32 + Box–Muller) so a seed gives the same weights on every backend. */
export class InitRng {
  private s: number
  constructor(seed: number) {
    this.s = (Math.floor(seed) ^ 0x9e3779b9) >>> 0
  }
  uniform(): number {
    this.s = (this.s + 0x6d2b79f5) >>> 0
    let t = this.s
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
  normal(): number {
    const u = 1 - this.uniform() // (0, 1]
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * this.uniform())
  }
}

export type Init = { kind: 'uniform'; bound: number } | { kind: 'normal'; std: number } | { kind: 'const'; value: number }

export function initArray(rng: InitRng, size: number, init: Init): Float32Array {
  const a = new Float32Array(size)
  for (let i = 0; i < size; i++) {
    a[i] = init.kind === 'uniform' ? (2 * rng.uniform() - 1) * init.bound : init.kind === 'normal' ? rng.normal() * init.std : init.value
  }
  return a
}

/** One named tensor of a network: tfjs shape, PyTorch layout, initialiser, trainable or buffer. */
export interface ParamSpec {
  name: string
  shape: number[]
  layout: TorchLayout
  init: Init
  trainable: boolean
}

/** PyTorch's default init for Linear/Conv/ConvTranspose weights and biases: U(±1/√fan_in). */
export function torchDefaultInit(fanIn: number): Init {
  return { kind: 'uniform', bound: 1 / Math.sqrt(fanIn) }
}

/**
 * Named parameters and buffers built from specs. Buffers are non-trainable tf.Variables so an
 * importer can assign saved values (the Fourier W) in place.
 */
export class ParamStore {
  readonly params = new Map<string, tf.Variable>()
  readonly buffers = new Map<string, tf.Variable>()
  readonly layouts = new Map<string, TorchLayout>()

  constructor(specs: ParamSpec[], seed: number, prefix = '') {
    const rng = new InitRng(seed)
    for (const s of specs) {
      if (this.layouts.has(s.name)) throw new Error(`duplicate parameter name ${s.name}`)
      const size = s.shape.reduce((a, b) => a * b, 1)
      const v = variableFrom(tf.tensor(initArray(rng, size, s.init), s.shape, 'float32'), s.trainable, `${prefix}${s.name}`)
      ;(s.trainable ? this.params : this.buffers).set(s.name, v)
      this.layouts.set(s.name, s.layout)
    }
  }

  /** A parameter or buffer by name; throws (naming it) if absent, which catches typos in the forward pass. */
  get(name: string): tf.Variable {
    const v = this.params.get(name) ?? this.buffers.get(name)
    if (!v) throw new Error(`no parameter named ${name}`)
    return v
  }

  numParams(): number {
    let n = 0
    for (const v of this.params.values()) n += v.size
    return n
  }

  dispose(): void {
    for (const v of this.params.values()) v.dispose()
    for (const v of this.buffers.values()) v.dispose()
  }
}

/** Unique variable-name prefix per model instance: tfjs refuses two variables with the same name. */
let instanceCounter = 0
export function uniquePrefix(model: string): string {
  instanceCounter += 1
  return `${model}#${instanceCounter}/`
}
