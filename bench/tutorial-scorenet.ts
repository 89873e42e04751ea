// A private copy of the tutorial ScoreNet (28×28×1, 1,115,425 parameters) on tfjs-core ops,
// ported from /work/shared/reference/ref_scorenet_tfjs.mjs. For MEASURING only: the bench uses
// the engine's real `scorenet` (src/engine/nets/scorenet.ts) when it exists and loads, and falls
// back to this copy (saying so) otherwise. Same shapes, same op sequence, same FLOPs.
import { tf } from '../src/engine/tf'

const SIGMA = 25
const LOG_SIGMA = Math.log(SIGMA)
const CH = [32, 64, 128, 256] as const
const EMBED = 256

export const marginalProbStd = (t: tf.Tensor) => tf.sqrt(tf.div(tf.sub(tf.exp(tf.mul(t, 2 * LOG_SIGMA)), 1), 2 * LOG_SIGMA))
export const diffusionCoeff = (t: tf.Tensor) => tf.exp(tf.mul(t, LOG_SIGMA))
const swish = (x: tf.Tensor) => tf.mul(x, tf.sigmoid(x))

interface Spec {
  shape: number[]
  fanIn?: number
  init?: 'fourier' | 'ones' | 'zeros'
  trainable?: boolean
}

function specs(): Record<string, Spec> {
  const S: Record<string, Spec> = {
    'embed.0.W': { shape: [EMBED / 2], init: 'fourier', trainable: false },
    'embed.1.weight': { shape: [EMBED, EMBED], fanIn: EMBED },
    'embed.1.bias': { shape: [EMBED], fanIn: EMBED },
    'conv1.weight': { shape: [3, 3, 1, CH[0]], fanIn: 9 },
    'conv2.weight': { shape: [3, 3, CH[0], CH[1]], fanIn: CH[0] * 9 },
    'conv3.weight': { shape: [3, 3, CH[1], CH[2]], fanIn: CH[1] * 9 },
    'conv4.weight': { shape: [3, 3, CH[2], CH[3]], fanIn: CH[2] * 9 },
    'tconv4.weight': { shape: [3, 3, CH[2], CH[3]], fanIn: CH[2] * 9 },
    'tconv3.weight': { shape: [3, 3, CH[1], 2 * CH[2]], fanIn: CH[1] * 9 },
    'tconv2.weight': { shape: [3, 3, CH[0], 2 * CH[1]], fanIn: CH[0] * 9 },
    'tconv1.weight': { shape: [3, 3, 1, 2 * CH[0]], fanIn: 9 },
    'tconv1.bias': { shape: [1], fanIn: 9 }
  }
  const denseOut: Record<string, number> = { dense1: CH[0], dense2: CH[1], dense3: CH[2], dense4: CH[3], dense5: CH[2], dense6: CH[1], dense7: CH[0] }
  for (const [n, c] of Object.entries(denseOut)) {
    S[`${n}.dense.weight`] = { shape: [EMBED, c], fanIn: EMBED }
    S[`${n}.dense.bias`] = { shape: [c], fanIn: EMBED }
  }
  const gn: Record<string, number> = { gnorm1: CH[0], gnorm2: CH[1], gnorm3: CH[2], gnorm4: CH[3], tgnorm4: CH[2], tgnorm3: CH[1], tgnorm2: CH[0] }
  for (const [n, c] of Object.entries(gn)) {
    S[`${n}.weight`] = { shape: [c], init: 'ones' }
    S[`${n}.bias`] = { shape: [c], init: 'zeros' }
  }
  return S
}

function groupNorm(x: tf.Tensor4D, groups: number, gamma: tf.Tensor, beta: tf.Tensor, eps = 1e-5): tf.Tensor4D {
  const [B, H, W, C] = x.shape
  const xr = tf.reshape(x, [B, H, W, groups, C / groups])
  const { mean, variance } = tf.moments(xr, [1, 2, 4], true)
  const xn = tf.mul(tf.sub(xr, mean), tf.rsqrt(tf.add(variance, eps)))
  return tf.add(tf.mul(tf.reshape(xn, [B, H, W, C]), gamma), beta) as tf.Tensor4D
}

export interface BenchNet {
  name: string
  /** Trainable variables. */
  vars: tf.Variable[]
  numParams: number
  /** Score s(x, t) for x [B,28,28,1], t [B]. */
  score(x: tf.Tensor4D, t: tf.Tensor1D): tf.Tensor4D
  /** std of p_0t and diffusion g(t) of the tutorial VE SDE (σ = 25). */
  std(t: tf.Tensor): tf.Tensor
  diffusion(t: tf.Tensor): tf.Tensor
  dispose(): void
}

export function tutorialScoreNet(seed = 1234567): BenchNet {
  let s = seed >>> 0
  const rand = () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 4294967296
  const randn = () => Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand())
  const P: Record<string, tf.Variable> = {}
  for (const [name, sp] of Object.entries(specs())) {
    const n = sp.shape.reduce((a, b) => a * b, 1)
    const v = new Float32Array(n)
    for (let i = 0; i < n; i++) {
      v[i] = sp.init === 'fourier' ? randn() * 30 : sp.init === 'ones' ? 1 : sp.init === 'zeros' ? 0 : (2 * rand() - 1) / Math.sqrt(sp.fanIn!)
    }
    P[name] = tf.variable(tf.tensor(v, sp.shape), sp.trainable !== false, `bench_tutorial_${seed}_${name}`)
  }
  const g = (n: string) => P[n]!
  const dense = (n: string, e: tf.Tensor2D) => {
    const y = tf.add(tf.matMul(e, g(`${n}.dense.weight`) as tf.Tensor2D), g(`${n}.dense.bias`))
    return tf.reshape(y, [e.shape[0], 1, 1, y.shape[1]!])
  }
  const score = (x: tf.Tensor4D, t: tf.Tensor1D): tf.Tensor4D => {
    const B = x.shape[0]
    const xProj = tf.mul(tf.mul(tf.reshape(t, [B, 1]), tf.reshape(g('embed.0.W'), [1, EMBED / 2])), 2 * Math.PI)
    const fourier = tf.concat([tf.sin(xProj), tf.cos(xProj)], 1) as tf.Tensor2D
    const embed = swish(tf.add(tf.matMul(fourier, g('embed.1.weight') as tf.Tensor2D), g('embed.1.bias'))) as tf.Tensor2D
    const block = (h: tf.Tensor4D, n: string, gn: string, groups: number) =>
      swish(groupNorm(tf.add(h, dense(n, embed)) as tf.Tensor4D, groups, g(`${gn}.weight`), g(`${gn}.bias`))) as tf.Tensor4D
    const w = (n: string) => g(n) as unknown as tf.Tensor4D
    const h1 = block(tf.conv2d(x, w('conv1.weight'), 1, 'valid'), 'dense1', 'gnorm1', 4)
    const h2 = block(tf.conv2d(h1, w('conv2.weight'), 2, 'valid'), 'dense2', 'gnorm2', 32)
    const h3 = block(tf.conv2d(h2, w('conv3.weight'), 2, 'valid'), 'dense3', 'gnorm3', 32)
    const h4 = block(tf.conv2d(h3, w('conv4.weight'), 2, 'valid'), 'dense4', 'gnorm4', 32)
    let h = block(tf.conv2dTranspose(h4, w('tconv4.weight'), [B, 5, 5, CH[2]], 2, 'valid'), 'dense5', 'tgnorm4', 32)
    h = block(tf.conv2dTranspose(tf.concat([h, h3], 3), w('tconv3.weight'), [B, 12, 12, CH[1]], 2, 'valid'), 'dense6', 'tgnorm3', 32)
    h = block(tf.conv2dTranspose(tf.concat([h, h2], 3), w('tconv2.weight'), [B, 26, 26, CH[0]], 2, 'valid'), 'dense7', 'tgnorm2', 32)
    h = tf.add(tf.conv2dTranspose(tf.concat([h, h1], 3), w('tconv1.weight'), [B, 28, 28, 1], 1, 'valid'), g('tconv1.bias'))
    return tf.div(h, tf.reshape(marginalProbStd(t), [B, 1, 1, 1]))
  }
  const vars = Object.values(P).filter((v) => v.trainable)
  return {
    name: 'bench/tutorial-scorenet.ts (private copy of the tutorial net)',
    vars,
    numParams: Object.values(P).reduce((a, v) => a + v.size, 0),
    score,
    std: marginalProbStd,
    diffusion: diffusionCoeff,
    dispose: () => Object.values(P).forEach((v) => v.dispose())
  }
}

/** FLOPs of conv + dense layers (same formula as ref_scorenet.py). */
export function flopEstimate(batch: number): { fwdFlops: number; trainFlops: number } {
  const conv = {
    conv1: 26 * 26 * 32 * 9, conv2: 12 * 12 * 64 * 288, conv3: 5 * 5 * 128 * 576, conv4: 2 * 2 * 256 * 1152,
    tconv4: 2 * 2 * 256 * 128 * 9, tconv3: 5 * 5 * 256 * 64 * 9, tconv2: 12 * 12 * 128 * 32 * 9, tconv1: 26 * 26 * 64 * 9
  }
  const denseMacs = 256 * 256 + 256 * (32 + 64 + 128 + 256 + 128 + 64 + 32)
  const fwd = Object.values(conv).reduce((a, b) => a + b, 0) + denseMacs
  const bwd = 2 * fwd - conv.conv1
  return { fwdFlops: 2 * fwd * batch, trainFlops: 2 * (fwd + bwd) * batch }
}
