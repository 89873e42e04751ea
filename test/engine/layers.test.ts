import { describe, expect, it } from 'vitest'
import { tf } from '../../src/engine/tf'
import { conv2d, conv2dTranspose, dense, gaussianFourierProjection, layoutPermutation, permuteShape } from '../../src/engine/nets/layers'
import { groupNorm } from '../../src/engine/ops/group-norm'

// Naive PyTorch semantics (NCHW math on NHWC arrays) to check the layout mapping without any flips.
const rand = (n: number, seed: number) => {
  let s = seed
  return Float32Array.from({ length: n }, () => ((s = (s * 16807) % 2147483647) / 2147483647) * 2 - 1)
}

/** PyTorch Conv2d, weight [out, in, kh, kw], padding 0; x is NHWC [B,H,W,Cin]. */
function torchConv2d(x: Float32Array, [B, H, W, Ci]: number[], w: Float32Array, [Co, , K]: number[], s: number) {
  const Ho = Math.floor((H - K) / s) + 1
  const Wo = Math.floor((W - K) / s) + 1
  const out = new Float32Array(B * Ho * Wo * Co)
  for (let b = 0; b < B; b++)
    for (let oy = 0; oy < Ho; oy++)
      for (let ox = 0; ox < Wo; ox++)
        for (let o = 0; o < Co; o++) {
          let acc = 0
          for (let i = 0; i < Ci; i++)
            for (let ky = 0; ky < K; ky++)
              for (let kx = 0; kx < K; kx++) acc += x[((b * H + oy * s + ky) * W + ox * s + kx) * Ci + i]! * w[((o * Ci + i) * K + ky) * K + kx]!
          out[((b * Ho + oy) * Wo + ox) * Co + o] = acc
        }
  return { out, shape: [B, Ho, Wo, Co] }
}

/** PyTorch ConvTranspose2d, weight [in, out, kh, kw], padding 0, output_padding op. */
function torchConvT(x: Float32Array, [B, H, W, Ci]: number[], w: Float32Array, [, Co, K]: number[], s: number, op: number) {
  const Ho = (H - 1) * s + K + op
  const Wo = (W - 1) * s + K + op
  const out = new Float32Array(B * Ho * Wo * Co)
  for (let b = 0; b < B; b++)
    for (let iy = 0; iy < H; iy++)
      for (let ix = 0; ix < W; ix++)
        for (let i = 0; i < Ci; i++)
          for (let o = 0; o < Co; o++)
            for (let ky = 0; ky < K; ky++)
              for (let kx = 0; kx < K; kx++)
                out[((b * Ho + iy * s + ky) * Wo + ix * s + kx) * Co + o] += x[((b * H + iy) * W + ix) * Ci + i]! * w[((i * Co + o) * K + ky) * K + kx]!
  return { out, shape: [B, Ho, Wo, Co] }
}

const maxDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  expect(a.length).toBe(b.length)
  let m = 0
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!))
  return m
}

const fromTorch = (w: Float32Array, shape: number[], layout: 'conv2d' | 'conv_transpose2d') =>
  tf.transpose(tf.tensor(w, shape), layoutPermutation(layout, 'fromTorch')!)

describe('layers: PyTorch semantics', () => {
  it('conv2d: [out,in,kh,kw] → [kh,kw,in,out] with no flip, strides 1 and 2', () => {
    for (const s of [1, 2]) {
      const xs = [2, 7, 6, 3]
      const ws = [4, 3, 3, 3]
      const x = rand(xs.reduce((a, b) => a * b), 1 + s)
      const w = rand(ws.reduce((a, b) => a * b), 7 + s)
      const ref = torchConv2d(x, xs, w, ws, s)
      const y = tf.tidy(() => conv2d(tf.tensor(x, xs), fromTorch(w, ws, 'conv2d'), s))
      expect(y.shape).toEqual(ref.shape)
      expect(maxDiff(y.dataSync(), ref.out)).toBeLessThan(1e-5)
      y.dispose()
    }
  })

  it('conv2dTranspose: [in,out,kh,kw] → [kh,kw,out,in] with no flip, output_padding 0 and 1 (extra row/col at bottom-right)', () => {
    for (const [s, op] of [[1, 0], [2, 0], [2, 1]] as const) {
      const xs = [2, 5, 4, 3]
      const ws = [3, 2, 3, 3]
      const x = rand(xs.reduce((a, b) => a * b), 3 + s + op)
      const w = rand(ws.reduce((a, b) => a * b), 11 + op)
      const ref = torchConvT(x, xs, w, ws, s, op)
      const y = tf.tidy(() => conv2dTranspose(tf.tensor(x, xs), fromTorch(w, ws, 'conv_transpose2d'), s, op))
      expect(y.shape).toEqual(ref.shape)
      expect(maxDiff(y.dataSync(), ref.out)).toBeLessThan(1e-5)
      y.dispose()
    }
  })

  it('conv2dTranspose with output_padding has correct gradients for input and filter (adjoint identities)', () => {
    const xs = [2, 5, 5, 3]
    const ws = [3, 3, 2, 3] // tfjs [kh, kw, out, in]
    const x = tf.tensor(rand(150, 5), xs)
    const w = tf.tensor(rand(54, 6), ws)
    const r = tf.tensor(rand(2 * 12 * 12 * 2, 9), [2, 12, 12, 2])
    // L = <convT(x, w), r>  ⇒  dL/dx = conv2d(r, w) (the adjoint), and dL/dw = Σ x ⊗ r patches.
    const [gx, gw] = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(conv2dTranspose(a, b, 2, 1), r)))([x, w])
    const wantX = tf.conv2d(r as tf.Tensor4D, w as tf.Tensor4D, 2, 'valid')
    expect(maxDiff(gx!.dataSync(), wantX.dataSync())).toBeLessThan(1e-4)
    // dL/dw[ky,kx,o,i] = Σ_{b,iy,ix} x[b,iy,ix,i]·r[b,2iy+ky,2ix+kx,o]
    const xd = x.dataSync()
    const rd = r.dataSync()
    const want = new Float32Array(54)
    for (let ky = 0; ky < 3; ky++)
      for (let kx = 0; kx < 3; kx++)
        for (let o = 0; o < 2; o++)
          for (let i = 0; i < 3; i++) {
            let acc = 0
            for (let b = 0; b < 2; b++)
              for (let iy = 0; iy < 5; iy++)
                for (let ix = 0; ix < 5; ix++) acc += xd[((b * 5 + iy) * 5 + ix) * 3 + i]! * rd[((b * 12 + 2 * iy + ky) * 12 + 2 * ix + kx) * 2 + o]!
            want[((ky * 3 + kx) * 2 + o) * 3 + i] = acc
          }
    expect(maxDiff(gw!.dataSync(), want)).toBeLessThan(1e-4)
    tf.dispose([x, w, r, gx!, gw!, wantX])
  })

  it('dense has the matmul gradients (custom gradient with explicit transposes)', () => {
    const x = tf.tensor2d(rand(12, 31), [3, 4])
    const w = tf.tensor2d(rand(8, 32), [4, 2])
    const b = tf.tensor1d(rand(2, 33))
    const r = tf.tensor2d(rand(6, 34), [3, 2])
    const [gx, gw, gb] = tf.grads((a: tf.Tensor, c: tf.Tensor, d: tf.Tensor) => tf.sum(tf.mul(dense(a, c, d), r)))([x, w, b])
    const wantX = tf.matMul(r, w, false, true)
    const wantW = tf.matMul(x, r, true, false)
    expect(maxDiff(gx!.dataSync(), wantX.dataSync())).toBeLessThan(1e-6)
    expect(maxDiff(gw!.dataSync(), wantW.dataSync())).toBeLessThan(1e-6)
    expect(maxDiff(gb!.dataSync(), tf.sum(r, 0).dataSync())).toBeLessThan(1e-6)
    tf.dispose([x, w, b, r, gx!, gw!, gb!, wantX, wantW])
  })

  it('groupNorm matches the definition (biased variance, eps 1e-5, per-channel affine)', () => {
    const [B, H, W, C, G] = [2, 3, 4, 6, 3]
    const x = rand(B * H * W * C, 21).map((v, i) => v * 3 + (i % 5))
    const gamma = rand(C, 22)
    const beta = rand(C, 23)
    const y = tf.tidy(() => groupNorm(tf.tensor(x, [B, H, W, C]), G, tf.tensor(gamma), tf.tensor(beta)))
    const want = new Float32Array(x.length)
    const cg = C / G
    for (let b = 0; b < B; b++)
      for (let g = 0; g < G; g++) {
        const idx: number[] = []
        for (let p = 0; p < H * W; p++) for (let c = g * cg; c < (g + 1) * cg; c++) idx.push((b * H * W + p) * C + c)
        const mean = idx.reduce((a, i) => a + x[i]!, 0) / idx.length
        const v = idx.reduce((a, i) => a + (x[i]! - mean) ** 2, 0) / idx.length
        for (const i of idx) want[i] = ((x[i]! - mean) / Math.sqrt(v + 1e-5)) * gamma[i % C]! + beta[i % C]!
      }
    expect(maxDiff(y.dataSync(), want)).toBeLessThan(1e-5)
    y.dispose()
  })

  it('Gaussian Fourier projection is [sin(2πtW), cos(2πtW)]', () => {
    const y = tf.tidy(() => gaussianFourierProjection(tf.tensor1d([0.5, 0.25]), tf.tensor1d([1, 0.5])))
    expect(y.shape).toEqual([2, 4])
    const want = [0.5, 0.25].flatMap((t) => [Math.sin(2 * Math.PI * t), Math.sin(Math.PI * t), Math.cos(2 * Math.PI * t), Math.cos(Math.PI * t)])
    expect(maxDiff(y.dataSync(), want)).toBeLessThan(1e-6)
    y.dispose()
  })

  it('layout shapes convert both ways', () => {
    expect(permuteShape('conv2d', [3, 3, 1, 32], 'toTorch')).toEqual([32, 1, 3, 3])
    expect(permuteShape('conv_transpose2d', [3, 3, 128, 256], 'toTorch')).toEqual([256, 128, 3, 3])
    expect(permuteShape('conv_transpose2d', [256, 128, 3, 3], 'fromTorch')).toEqual([3, 3, 128, 256])
    expect(permuteShape('linear', [256, 32], 'toTorch')).toEqual([32, 256])
  })

  it('rejects an output_padding PyTorch would reject', () => {
    expect(() => conv2dTranspose(tf.zeros([1, 2, 2, 1]), tf.zeros([3, 3, 1, 1]), 1, 1)).toThrow(/output_padding/)
  })
})
