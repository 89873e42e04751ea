// The C++ kernels (native/, used by the `native` backend): the fused GroupNorm+bias+swish against
// the composite ops on the pure-JS cpu backend and against a float64 reference; input checks at
// the addon's boundary; thread-count independence; and a scorenet training loop that keeps the
// tensor and wasm-heap counts flat. Convolution parity is in wasm-kernels.test.ts (both modes),
// whole-network parity with PyTorch in torch-parity.test.ts.
import { readFileSync } from 'node:fs'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { tf } from '../../src/engine/tf'
import { randn, relL2 } from './helpers/arrays'
import { selectBackend } from '../../src/engine/backend/select'
import { loadNativeAddon, type NativeAddon } from '../../src/engine/backend/native-addon'
import { nativeKernelsActive, nativeStatus } from '../../src/engine/backend/native-kernels'
import { groupNormSwish } from '../../src/engine/ops/group-norm'
import { nativeSelfCheck } from '../../src/engine/backend/kernel-self-check'
import { createModel } from '../../src/engine/nets'
import { createSde } from '../../src/engine/sde'
import { Trainer } from '../../src/engine/train'
import { stepAndRead } from '../helpers/trainer-steps'



let addon: NativeAddon

beforeAll(async () => {
  // npm install builds the addon (scripts/build-native.mjs); a missing one fails here with the reason.
  expect(nativeStatus().reason).toBe('')
  addon = loadNativeAddon().addon!
  const info = await selectBackend({ force: 'native' })
  expect(info.name).toBe('native')
  expect(nativeKernelsActive()).toBe(true)
})

afterAll(() => addon.setThreads(nativeStatus().threads ?? 1))

describe('native addon', () => {
  test('uses the AVX+FMA micro-kernel where the CPU has both (NEON on arm64), and names it in the backend device', async () => {
    const flags = process.arch === 'x64' ? readFileSync('/proc/cpuinfo', 'utf8') : ''
    const hasFma = /\bavx\b/.test(flags) && /\bfma\b/.test(flags)
    expect(addon.info().kernel).toBe(process.arch === 'arm64' ? 'neon' : hasFma ? 'avx+fma' : 'generic')
    const info = await selectBackend({ force: 'native' })
    expect(info.device).toContain(`native ${addon.info().kernel} kernels`)
  })

  test('rejects wrong lengths, types and geometry with a RangeError instead of touching memory', () => {
    const geom = Int32Array.from([1, 4, 4, 1, 2, 2, 1, 3, 3, 1, 1, 1, 1, 0, 0])
    const x = new Float32Array(16)
    const w = new Float32Array(9)
    expect(() => addon.conv2d(x, w, new Float32Array(4), geom)).not.toThrow()
    expect(() => addon.conv2d(x, w, new Float32Array(3), geom)).toThrow(/y has 3 elements, expected 4/)
    expect(() => addon.conv2d(new Float32Array(15), w, new Float32Array(4), geom)).toThrow(/x has 15 elements, expected 16/)
    expect(() => addon.conv2d(new Float64Array(16) as never, w, new Float32Array(4), geom)).toThrow(/x must be a Float32Array/)
    expect(() => addon.conv2d(x, w, new Float32Array(4), geom.subarray(0, 14))).toThrow(/Int32Array of length 15/)
    expect(() => addon.conv2d(x, w, new Float32Array(4), Int32Array.from([0, ...geom.subarray(1)]))).toThrow(/positive/)
    expect(() => addon.conv2dBackpropFilter(x, new Float32Array(4), new Float32Array(8), geom)).toThrow(/dw has 8 elements, expected 9/)
    const ng = Int32Array.from([1, 4, 6, 4, 1, 0]) // 6 channels in 4 groups
    const c6 = new Float32Array(6)
    expect(() => addon.groupNormForward(new Float32Array(24), null, c6, c6, new Float32Array(24), new Float32Array(4), new Float32Array(4), ng, 1e-5)).toThrow(/divide into groups/)
    expect(() => addon.groupNormForward(new Float32Array(24), null, c6, c6, new Float32Array(24), new Float32Array(3), new Float32Array(3), Int32Array.from([1, 4, 6, 3, 1, 0]), Number.NaN)).toThrow(/eps/)
    expect(() => addon.setThreads(0)).toThrow(/1 to 256/)
    expect(() => addon.copyBlocks(new Float32Array(8), new Float32Array(8), Int32Array.from([2, 4, 0, 4, 1, 4]))).toThrow(/writes past the end of dst/)
    expect(() => addon.copyBlocks(new Float32Array(8), new Float32Array(9), Int32Array.from([2, 4, 1, 4, 0, 4]))).toThrow(/reads past the end of src/)
  })

  test('one thread and all threads give the same convolutions (within float rounding of the split sums)', () => {
    // ~32 MFLOP per kernel: above the size where the pool splits work (16 MFLOP, conv.cc)
    const geom = Int32Array.from([32, 25, 25, 16, 12, 12, 24, 3, 3, 2, 2, 1, 1, 0, 0])
    const x = randn(32 * 25 * 25 * 16, 1)
    const dy = randn(32 * 12 * 12 * 24, 2)
    const w = randn(3 * 3 * 16 * 24, 3)
    const run = (threads: number) => {
      addon.setThreads(threads)
      const y = new Float32Array(32 * 12 * 12 * 24)
      const dx = new Float32Array(x.length)
      const dw = new Float32Array(w.length)
      addon.conv2d(x, w, y, geom)
      addon.conv2dBackpropInput(dy, w, dx, geom)
      addon.conv2dBackpropFilter(x, dy, dw, geom)
      return [y, dx, dw]
    }
    const one = run(1)
    const many = run(4)
    expect(relL2(many[0]!, one[0]!)).toBe(0) // split over output rows: identical sums
    expect(relL2(many[1]!, one[1]!)).toBe(0)
    expect(relL2(many[2]!, one[2]!)).toBeLessThan(1e-6) // split over the reduction
  })
})

describe('the parity self-check select.ts runs before using native', () => {
  test('passes on the real kernels; a wrong kernel fails it and the default selection falls back to wasm, saying why', async () => {
    const good = await nativeSelfCheck()
    expect(good.ok).toBe(true)
    expect(good.worst).toBeLessThan(1e-5)
    // The loader's cached entry is what useNativeKernels(true) reads; swap in an addon whose
    // conv2d gets one element wrong.
    const cache = loadNativeAddon()
    const broken = Object.create(addon, {
      conv2d: {
        value: (x: Float32Array, w: Float32Array, y: Float32Array, geom: Int32Array) => {
          addon.conv2d(x, w, y, geom)
          y[0]! += 1
        }
      }
    }) as NativeAddon
    cache.addon = broken
    try {
      expect((await nativeSelfCheck()).ok).toBe(false)
      const info = await selectBackend({ force: undefined })
      expect(info.name).not.toBe('native')
      expect(info.attempts.find((a) => a.name === 'native')?.reason).toMatch(/disagree with wasm's/)
    } finally {
      cache.addon = addon
    }
    expect((await selectBackend({ force: 'native' })).name).toBe('native')
  })
})

describe('Concat and SplitV (its gradient) as block copies', () => {
  for (const axis of [0, 1, 2, 3, -1]) {
    test(`axis ${axis}: values and gradients match cpu`, async () => {
      // three inputs with different sizes (1, 2, 3) along the axis
      const shapes = [1, 2, 3].map((k) => [2, 3, 4, 5].map((d, i) => (i === (axis + 4) % 4 ? k : d)))
      const data = shapes.map((s, i) => randn(s.reduce((a, b) => a * b, 1), 40 + i))
      const f = () => {
        const ins = data.map((d, i) => tf.tensor(d, shapes[i]!))
        const w = tf.randomNormal(tf.concat(ins, axis).shape, 0, 1, 'float32', 3)
        const { value, grads } = tf.valueAndGrads((...xs: tf.Tensor[]) => tf.sum(tf.mul(tf.concat(xs, axis), w)))(ins)
        return [tf.concat(ins, axis), value, ...grads].map((t) => t.dataSync().slice() as Float32Array)
      }
      await tf.setBackend('cpu')
      const ref = tf.tidy(f)
      await tf.setBackend('wasm')
      const got = tf.tidy(f)
      // Copies are exact; only the summed value differs by float rounding order.
      got.forEach((g, i) => expect(relL2(g, ref[i]!)).toBeLessThan(i === 1 ? 1e-5 : 1e-12))
    })
  }
})

describe('fused GroupNorm + bias + swish', () => {
  const CASES = [
    { shape: [2, 5, 5, 8], groups: 4 },
    { shape: [3, 7, 6, 6], groups: 1 },
    { shape: [1, 4, 4, 32], groups: 32 }, // one channel per group: the bias is normalised away
    { shape: [5, 12, 12, 64], groups: 32 }
  ] as const

  for (const { shape, groups } of CASES) {
    test(`x [${shape}] in ${groups} groups: value and the gradients of x, bias, gamma, beta match the composite ops on cpu`, async () => {
      const [b, , , c] = shape
      const n = (shape as readonly number[]).reduce((p, q) => p * q, 1)
      const xs = randn(n, 11, 2, 0.5)
      const bs = randn(b * c, 12)
      const gs = randn(c, 13, 0.3, 1)
      const es = randn(c, 14, 0.3)
      const rs = randn(n, 15)
      const f = () => {
        const loss = (x: tf.Tensor, bias: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor) => tf.sum(tf.mul(groupNormSwish(x, bias, groups, gamma, beta), tf.tensor(rs, [...shape])))
        const { value, grads } = tf.valueAndGrads(loss as never)([tf.tensor(xs, [...shape]), tf.tensor(bs, [b, c]), tf.tensor(gs), tf.tensor(es)])
        return [value, ...grads].map((t) => t.dataSync().slice() as Float32Array)
      }
      await tf.setBackend('cpu')
      expect(nativeKernelsActive()).toBe(false)
      const ref = tf.tidy(f)
      await tf.setBackend('wasm')
      expect(nativeKernelsActive()).toBe(true)
      const got = tf.tidy(f)
      const names = ['value', 'dx', 'dbias', 'dgamma', 'dbeta']
      got.forEach((g, i) => {
        if (names[i] === 'dbias' && groups === c) {
          // The true gradient is 0; both are rounding noise around it.
          expect(Math.max(...g.map(Math.abs)), names[i]).toBeLessThan(1e-3)
          return
        }
        expect(relL2(g, ref[i]!), names[i]).toBeLessThan(1e-5)
      })
    })
  }

  test('is accurate where float32 moments are not: activations offset by 300 against a float64 reference', () => {
    const shape = [2, 8, 8, 4]
    const groups = 2
    const xs = randn(512, 21, 0.01, 300) // tiny spread around a large mean
    const bs = new Float32Array(8)
    const gs = new Float32Array(4).fill(1)
    const es = new Float32Array(4)
    const y = tf.tidy(() => groupNormSwish(tf.tensor(xs, shape), tf.tensor(bs, [2, 4]), groups, tf.tensor(gs), tf.tensor(es)).dataSync().slice())
    const ref = new Float64Array(512)
    for (let bi = 0; bi < 2; bi++) {
      for (let g = 0; g < groups; g++) {
        const idx: number[] = []
        for (let p = 0; p < 64; p++) for (let ch = g * 2; ch < g * 2 + 2; ch++) idx.push(bi * 256 + p * 4 + ch)
        const mean = idx.reduce((a, i) => a + xs[i]!, 0) / idx.length
        const v = idx.reduce((a, i) => a + (xs[i]! - mean) ** 2, 0) / idx.length
        for (const i of idx) {
          const z = (xs[i]! - mean) / Math.sqrt(v + 1e-5)
          ref[i] = z / (1 + Math.exp(-z))
        }
      }
    }
    expect(relL2(y, ref)).toBeLessThan(2e-3) // float32 inputs near 300 carry ~1e-5 absolute error vs a 0.01 spread
  })
})

describe('training on native', () => {
  test('scorenet: 6 steps keep tf.memory().numTensors and the wasm heap\'s tensor count flat, and the loss finite', async () => {
    const sde = createSde({ name: 'vesde_tutorial' })
    const model = createModel('scorenet', { shape: [28, 28, 1], sde, seed: 3 })
    const trainer = new Trainer({ model, sde, config: { lr: 1e-3, batchSize: 4, seed: 0 } })
    const backend = tf.backend() as unknown as { numDataIds(): number }
    const counts: [number, number][] = []
    const losses: number[] = []
    for (let i = 0; i < 6; i++) {
      const x = tf.randomUniform([4, 28, 28, 1], 0, 1, 'float32', i)
      losses.push((await stepAndRead(trainer, x)).loss)
      x.dispose()
      counts.push([tf.memory().numTensors, backend.numDataIds()])
    }
    expect(losses.every(Number.isFinite)).toBe(true)
    // The first step creates the optimiser's moments; from the second on nothing may grow.
    for (const c of counts.slice(2)) expect(c).toEqual(counts[1])
    trainer.dispose()
    model.dispose()
  })
})
