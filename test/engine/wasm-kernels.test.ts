// Parity of the convolution kernels on the wasm backend against the pure-JS cpu backend
// (relative L2 ≤ 1e-5), on forward values and gradients, and a whole conv-net training step
// (conv2d stride 1/2, conv2dTranspose, GroupNorm by reshape/moments, swish, dense, Fourier
// embedding) with the same loss and gradients on both. Run twice: with the kernels
// wasm-kernels.ts composes from wasm's own ('wasm'), and with the C++ addon's ('native').
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { tf } from '../../src/engine/tf'
import { randn, relL2 } from './helpers/arrays'
import { selectBackend } from '../../src/engine/backend/select'
import { registerWasmTrainingKernels } from '../../src/engine/backend/wasm-kernels'
import { nativeStatus, useNativeKernels } from '../../src/engine/backend/native-kernels'

const TOL = 1e-5

beforeAll(async () => {
  // tfjs-core's Node bundle registers no gradient functions; the ESM entry that does is loaded
  // here unless another module already did.
  if (!tf.getGradient('Conv2D')) await import('@tensorflow/tfjs-core/dist/register_all_gradients')
  await selectBackend({ force: 'wasm' })
  registerWasmTrainingKernels() // idempotent: a second call must not throw or re-register
})

/** Runs fn on `backend` and returns its outputs as plain arrays (and shapes). */
async function on(backend: 'wasm' | 'cpu', fn: () => tf.Tensor[]): Promise<{ data: Float32Array[]; shapes: number[][] }> {
  await tf.setBackend(backend)
  return tf.tidy(() => {
    const outs = fn()
    return { data: outs.map((t) => t.dataSync() as Float32Array), shapes: outs.map((t) => t.shape) }
  })
}

async function expectParity(fn: () => tf.Tensor[], tol = TOL): Promise<number[]> {
  const w = await on('wasm', fn)
  const c = await on('cpu', fn)
  await tf.setBackend('wasm')
  const errs = c.data.map((ref, i) => relL2(w.data[i]!, ref))
  expect(w.shapes).toEqual(c.shapes)
  for (const e of errs) expect(e).toBeLessThanOrEqual(tol)
  return errs
}

type Pad = 'valid' | 'same' | number | [[number, number], [number, number], [number, number], [number, number]]
interface ConvCase {
  x: [number, number, number, number]
  f: [number, number, number, number]
  s: number | [number, number]
  pad: Pad
  format?: 'NHWC' | 'NCHW'
}

const backpropFilter = (x: tf.Tensor, dy: tf.Tensor, c: ConvCase) =>
  tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, {
    filterShape: c.f,
    strides: c.s,
    pad: c.pad,
    dataFormat: c.format ?? 'NHWC'
  } as never) as tf.Tensor

function dyShape(c: ConvCase): number[] {
  const nhwc = (c.format ?? 'NHWC') === 'NHWC'
  const info = tf.backend_util.computeConv2DInfo(c.x, c.f, c.s, 1, c.pad as never, undefined, false, nhwc ? 'channelsLast' : 'channelsFirst')
  return nhwc ? info.outShape : [info.batchSize, info.outChannels, info.outHeight, info.outWidth]
}

const backpropInput = (dy: tf.Tensor, filter: tf.Tensor, c: ConvCase) =>
  tf.engine().runKernel('Conv2DBackpropInput', { dy, filter }, {
    inputShape: c.x,
    strides: c.s,
    pad: c.pad,
    dataFormat: c.format ?? 'NHWC'
  } as never) as tf.Tensor

const cases: ConvCase[] = [
    { x: [2, 9, 9, 3], f: [3, 3, 3, 4], s: 1, pad: 'valid' },
    { x: [2, 9, 9, 3], f: [3, 3, 3, 4], s: 2, pad: 'valid' },
    { x: [3, 10, 7, 3], f: [3, 3, 3, 4], s: 2, pad: 'same' },
    { x: [2, 11, 8, 5], f: [3, 3, 5, 2], s: 1, pad: 'same' },
    { x: [3, 8, 11, 2], f: [3, 2, 2, 5], s: [2, 1], pad: 1 },
    { x: [2, 12, 12, 3], f: [3, 3, 3, 4], s: 2, pad: [[0, 0], [1, 2], [0, 1], [0, 0]] },
    { x: [1, 5, 5, 4], f: [5, 5, 4, 2], s: 3, pad: 'same' },
    { x: [2, 7, 9, 3], f: [1, 1, 3, 4], s: [1, 3], pad: 'valid' },
    { x: [2, 3, 9, 7], f: [3, 3, 3, 4], s: 2, pad: 'same', format: 'NCHW' },
    // the tutorial ScoreNet's layer kinds (batch and channels reduced: cpu's kernel is slow):
    // conv1 28→26, conv2-like 26→12 stride 2, conv4-like 5→2 stride 2
    { x: [4, 28, 28, 1], f: [3, 3, 1, 32], s: 1, pad: 'valid' },
    { x: [1, 26, 26, 8], f: [3, 3, 8, 16], s: 2, pad: 'valid' },
    { x: [2, 5, 5, 32], f: [3, 3, 32, 64], s: 2, pad: 'valid' }
]

for (const mode of ['wasm', 'native'] as const) {
describe(`${mode} kernels`, () => {
  beforeAll(() => {
    // The native addon is built by npm install (scripts/build-native.mjs); its absence is a failure here, with the reason.
    if (mode === 'native') expect(nativeStatus().reason).toBe('')
    expect(useNativeKernels(mode === 'native')).toBe(true)
  })
  afterAll(() => {
    useNativeKernels(false)
  })

  describe('Conv2DBackpropFilter on wasm', () => {
    test('is registered, and registering again is a no-op', () => {
      expect(tf.getKernel('Conv2DBackpropFilter', 'wasm')).toBeTruthy()
      expect(() => registerWasmTrainingKernels()).not.toThrow()
    })

    for (const c of cases) {
      test(`x ${c.x} filter ${c.f} stride ${c.s} pad ${JSON.stringify(c.pad)} ${c.format ?? 'NHWC'}`, async () => {
        const xs = randn(c.x.reduce((a, b) => a * b), 1)
        const ds = dyShape(c)
        const dys = randn(ds.reduce((a, b) => a * b), 2)
        await expectParity(() => [backpropFilter(tf.tensor(xs, c.x), tf.tensor(dys, ds), c)])
      })
    }

    // random shapes (fixed seed): odd sizes, strides 1..3, all padding kinds
    test('random shapes', async () => {
      let s = 12345
      const r = (n: number) => (s = (Math.imul(s, 1103515245) + 12345) >>> 0) % n
      for (let i = 0; i < 12; i++) {
        const k = 1 + r(4)
        const st = 1 + r(3)
        const pads: Pad[] = ['valid', 'same', r(2), [[0, 0], [r(3), r(3)], [r(3), r(3)], [0, 0]]]
        const c: ConvCase = {
          x: [1 + r(3), k + r(9), k + r(9), 1 + r(6)],
          f: [k, 1 + r(4), 0, 1 + r(6)],
          s: [st, 1 + r(3)],
          pad: pads[r(4)]!
        }
        c.f[2] = c.x[3]
        if (c.f[1] > c.x[2]) c.f[1] = c.x[2]
        // numeric pad + unequal strides trips a bug in tfjs's own shape code; keep strides equal there
        if (typeof c.pad === 'number') c.s = st
        const ds = dyShape(c)
        if (ds.some((d) => d <= 0)) continue
        const xs = randn(c.x.reduce((a, b) => a * b), i)
        const dys = randn(ds.reduce((a, b) => a * b), 100 + i)
        const fs = randn(c.f.reduce((a, b) => a * b), 200 + i)
        await expectParity(() => [
          backpropFilter(tf.tensor(xs, c.x), tf.tensor(dys, ds), c),
          backpropInput(tf.tensor(dys, ds), tf.tensor(fs, c.f), c)
        ])
      }
    })
  })

  describe('Conv2DBackpropInput on wasm (sub-pixel XNNPACK convolution)', () => {
    for (const c of cases) {
      test(`x ${c.x} filter ${c.f} stride ${c.s} pad ${JSON.stringify(c.pad)} ${c.format ?? 'NHWC'}`, async () => {
        const ds = dyShape(c)
        const dys = randn(ds.reduce((a, b) => a * b), 3)
        const fs = randn(c.f.reduce((a, b) => a * b), 4)
        await expectParity(() => [backpropInput(tf.tensor(dys, ds), tf.tensor(fs, c.f), c)])
      })
    }

    test('the cached combined filter follows the filter tensor (reuse, dispose, new weights)', async () => {
      const c: ConvCase = { x: [2, 9, 9, 3], f: [3, 3, 3, 4], s: 2, pad: 'valid' }
      const ds = dyShape(c)
      const dys = randn(ds.reduce((a, b) => a * b), 5)
      const f1 = randn(36 * 3, 6).slice(0, 108)
      const f2 = randn(108, 7)
      const ref = await on('cpu', () => [backpropInput(tf.tensor(dys, ds), tf.tensor(f1, c.f), c), backpropInput(tf.tensor(dys, ds), tf.tensor(f2, c.f), c)])
      await tf.setBackend('wasm')
      const dy = tf.tensor(dys, ds)
      for (const [i, f] of [f1, f2, f1].entries()) {
        const filter = tf.tensor(f, c.f)
        const a = backpropInput(dy, filter, c)
        const b = backpropInput(dy, filter, c) // cache hit
        expect(relL2(a.dataSync(), ref.data[i === 1 ? 1 : 0]!)).toBeLessThanOrEqual(TOL)
        expect(relL2(b.dataSync(), ref.data[i === 1 ? 1 : 0]!)).toBeLessThanOrEqual(TOL)
        tf.dispose([a, b, filter])
      }
      dy.dispose()
    })
  })

  describe('conv gradients route through the registered kernels', () => {
    test('conv2d (stride 1 and 2) and conv2dTranspose: value and both gradients', async () => {
      const x = randn(3 * 13 * 13 * 4, 7)
      const w1 = randn(3 * 3 * 4 * 6, 8)
      const w2 = randn(3 * 3 * 6 * 8, 9)
      const wt = randn(3 * 3 * 6 * 8, 10) // conv2dTranspose filter [kh,kw,out,in]
      await expectParity(() => {
        const f = (xi: tf.Tensor, a: tf.Tensor, b: tf.Tensor, c: tf.Tensor) => {
          const h1 = tf.conv2d(xi as tf.Tensor4D, a as tf.Tensor4D, 1, 'same') // 13
          const h2 = tf.conv2d(h1, b as tf.Tensor4D, 2, 'valid') // 6
          const h3 = tf.conv2dTranspose(h2, c as tf.Tensor4D, [3, 13, 13, 6], 2, 'valid')
          return tf.sum(tf.mul(h3, h1))
        }
        const args = [tf.tensor(x, [3, 13, 13, 4]), tf.tensor(w1, [3, 3, 4, 6]), tf.tensor(w2, [3, 3, 6, 8]), tf.tensor(wt, [3, 3, 6, 8])]
        const { value, grads } = tf.valueAndGrads(f as never)(args)
        return [value, ...grads]
      })
    })
  })

  // A small net with every op kind of the tutorial ScoreNet.
  function smallNet(params: Record<string, tf.Tensor>, x: tf.Tensor4D, t: tf.Tensor1D): tf.Tensor {
    const B = x.shape[0]
    const swish = (h: tf.Tensor) => tf.mul(h, tf.sigmoid(h))
    const proj = tf.mul(tf.mul(tf.reshape(t, [B, 1]), tf.reshape(params.W!, [1, -1])), 2 * Math.PI)
    const emb = swish(tf.add(tf.matMul(tf.concat([tf.sin(proj), tf.cos(proj)], 1), params.embW!), params.embB!))
    const gn = (h: tf.Tensor4D, groups: number, g: tf.Tensor, b: tf.Tensor) => {
      const [n, hh, ww, c] = h.shape
      const r = tf.reshape(h, [n, hh, ww, groups, c / groups])
      const { mean, variance } = tf.moments(r, [1, 2, 4], true)
      const xn = tf.mul(tf.sub(r, mean), tf.rsqrt(tf.add(variance, 1e-5)))
      return tf.add(tf.mul(tf.reshape(xn, [n, hh, ww, c]), g), b)
    }
    const dense = (w: tf.Tensor, b: tf.Tensor) => {
      const y = tf.add(tf.matMul(emb, w), b)
      return tf.reshape(y, [B, 1, 1, -1])
    }
    const h1 = swish(gn(tf.add(tf.conv2d(x, params.c1 as tf.Tensor4D, 1, 'valid'), dense(params.d1!, params.d1b!)) as tf.Tensor4D, 2, params.g1!, params.b1!)) // 11
    const h2 = swish(gn(tf.add(tf.conv2d(h1 as tf.Tensor4D, params.c2 as tf.Tensor4D, 2, 'valid'), dense(params.d2!, params.d2b!)) as tf.Tensor4D, 4, params.g2!, params.b2!)) // 5
    const u = swish(tf.conv2dTranspose(h2 as tf.Tensor4D, params.t2 as tf.Tensor4D, [B, 11, 11, 4], 2, 'valid'))
    const out = tf.conv2dTranspose(tf.concat([u, h1], 3) as tf.Tensor4D, params.t1 as tf.Tensor4D, [B, 13, 13, 1], 1, 'valid')
    return tf.add(out, params.t1b!)
  }

  const SMALL_SHAPES: Record<string, number[]> = {
    W: [4], embW: [8, 8], embB: [8],
    c1: [3, 3, 1, 4], d1: [8, 4], d1b: [4], g1: [4], b1: [4],
    c2: [3, 3, 4, 8], d2: [8, 8], d2b: [8], g2: [8], b2: [8],
    t2: [3, 3, 4, 8], t1: [3, 3, 1, 8], t1b: [1]
  }

  describe('conv-net training step', () => {
    test('same loss and gradients on wasm and cpu', async () => {
      const names = Object.keys(SMALL_SHAPES)
      const init = names.map((n, i) => {
        const shape = SMALL_SHAPES[n]!
        const size = shape.reduce((a, b) => a * b, 1)
        const v = randn(size, 1000 + i)
        const scale = n.startsWith('g') ? 0.1 : 0.4
        return Float32Array.from(v, (a) => (n.startsWith('g') ? 1 : 0) + a * scale)
      })
      const B = 5
      const x = randn(B * 13 * 13, 3)
      const z = randn(B * 13 * 13, 4)
      const t = Float32Array.from({ length: B }, (_, i) => 0.05 + (0.9 * i) / B)
      const errs = await expectParity(() => {
        const ps = names.map((n, i) => tf.tensor(init[i]!, SMALL_SHAPES[n]!))
        const loss = (...vs: tf.Tensor[]) => {
          const P = Object.fromEntries(names.map((n, i) => [n, vs[i]!]))
          const xt = tf.tensor(x, [B, 13, 13, 1]) as tf.Tensor4D
          const zt = tf.tensor(z, [B, 13, 13, 1])
          const tt = tf.tensor(t) as tf.Tensor1D
          const std = tf.reshape(tf.sqrt(tt), [B, 1, 1, 1])
          const score = smallNet(P, tf.add(xt, tf.mul(zt, std)) as tf.Tensor4D, tt)
          return tf.mean(tf.sum(tf.square(tf.add(tf.mul(score, std), zt)), [1, 2, 3]))
        }
        const { value, grads } = tf.valueAndGrads(loss as never)(ps)
        return [value, ...grads]
      })
      expect(errs.length).toBe(names.length + 1)
    })
  })
})
}
