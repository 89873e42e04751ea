// The FID Inception-v3 against PyTorch without its weights: test/fixtures/inception-fid/reference.py
// builds pytorch-fid's network (torchvision's Inception3 with the FID blocks) with every tensor
// from a formula of (name, flat index) and stores the pool3 features of formula images, and samples
// of pytorch-fid's 299×299 resize; this test makes the same tensors, encodes them as the converter
// would, loads them and compares. Also: the state_dict names and shapes, unit/centred/byte and gray
// inputs, the load errors, and no leaked tensors.
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import { tf } from '../../src/engine/tf'
import { selectBackend } from '../../src/engine/backend/select'
import { encodeSafetensors, type SafeTensor } from '../../src/engine/io/safetensors'
import { FID_INCEPTION_DIM, FidInception, fidInceptionInput, fidInceptionTensors } from '../../src/engine/metrics/inception-fid'
import type { ImageArray } from '../../src/engine/metrics/image-array'
import { formulaTensor, formulaUniform } from '../helpers/fid-formula'

interface Expected {
  tensors: [string, number[]][]
  features: { image: string; shape: [number, number, number, number]; values: number[][]; max_abs: number; torch_f32_max_abs_err: number }[]
  resize: { image: string; shape: [number, number, number, number]; indices: number[]; values: number[]; torch_f32_max_abs_err: number }[]
}

const expected = JSON.parse(readFileSync(path.join(import.meta.dirname, '..', 'fixtures', 'inception-fid', 'expected.json'), 'utf8')) as Expected
const SOURCE = '/data/fid/pt_inception-2015-12-05.safetensors'

function formulaImage(name: string, shape: [number, number, number, number]): ImageArray {
  const n = shape.reduce((a, b) => a * b, 1)
  return { data: Float32Array.from(formulaUniform(name, n)), shape, range: 'unit' }
}

// ------------------------------------------------------------------------------ helpers

let weights: Record<string, SafeTensor>
let bytes: Uint8Array

function encodeWith(changes: Record<string, SafeTensor | null>): Uint8Array {
  const t = { ...weights }
  for (const [name, v] of Object.entries(changes)) {
    if (v) t[name] = v
    else delete t[name]
  }
  return encodeSafetensors(t)
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]))
  return m
}

beforeAll(async () => {
  await selectBackend({ force: 'cpu' })
  const t0 = performance.now()
  weights = {}
  for (const { name, shape } of fidInceptionTensors()) weights[name] = { dtype: 'F32', shape, data: formulaTensor(name, shape) }
  // What pytorch-fid's .pth also holds: fc (1008 classes) and, from newer torch, BN step counters.
  weights['fc.weight'] = { dtype: 'F32', shape: [1008, 2048], data: new Float32Array(1008 * 2048) }
  weights['fc.bias'] = { dtype: 'F32', shape: [1008], data: new Float32Array(1008) }
  weights['Conv2d_1a_3x3.bn.num_batches_tracked'] = { dtype: 'I64', shape: [], data: new BigInt64Array(1) }
  bytes = encodeSafetensors(weights, { format: 'pt' })
  console.log(`formula weights: ${(performance.now() - t0).toFixed(0)} ms for ${(bytes.length / 2 ** 20).toFixed(0)} MiB`)
})

describe('FidInception', () => {
  it("reads exactly pytorch-fid's state_dict: 94 BasicConv2d, names and PyTorch shapes", () => {
    const ours = fidInceptionTensors()
    expect(ours.length).toBe(94 * 5)
    const torch = expected.tensors.filter(([name]) => !name.startsWith('fc.'))
    expect(ours.map((t) => [t.name, t.shape])).toEqual(torch)
  })

  it('gives PyTorch’s pool3 features (no resize: 2 images of 139×160 in one batch, 1 of 75×75)', async () => {
    const before = tf.memory().numTensors
    const net = FidInception.fromSafetensors(bytes, SOURCE)
    expect(net.metadata).toEqual({ format: 'pt' })
    for (const ref of expected.features) {
      const t0 = performance.now()
      const f = await net.features(formulaImage(ref.image, ref.shape), { resize: false, batchSize: 2 })
      const ms = performance.now() - t0
      expect(f.length).toBe(ref.shape[0] * FID_INCEPTION_DIM)
      const err = maxAbsDiff(f, ref.values.flat())
      console.log(`${ref.image}: ${ms.toFixed(0)} ms, max |f − torch float64| = ${err.toExponential(2)} (feature max ${ref.max_abs.toFixed(3)}; torch's own float32: ${ref.torch_f32_max_abs_err.toExponential(2)})`)
      // Float32 rounding through 94 layers: PyTorch's own float32 run is ~3e-6 off its float64
      // run (≈ 4e-7 of the largest feature); tfjs' cpu kernels sum in another order, so allow
      // 2e-5 of the largest feature (measured: ~8e-7 of it), still ~10⁴× below what one wrong
      // detail does (a spatially transposed kernel, count_include_pad=True, Mixed_7c's max pool
      // as an average: max errors of 1.3–3).
      expect(err).toBeLessThan(2e-5 * ref.max_abs)
    }
    // Batches of 2 over 3 images: the second pass is a partial batch, and each row is its image's.
    const ref = expected.features.find((f) => f.image === 'image75')!
    const one = formulaImage(ref.image, ref.shape)
    const three: ImageArray = { data: new Float32Array(3 * one.data.length), shape: [3, 75, 75, 3], range: 'unit' }
    for (let i = 0; i < 3; i++) three.data.set(one.data, i * one.data.length)
    const progress: number[] = []
    const f3 = await net.features(three, { resize: false, batchSize: 2, onProgress: (p) => progress.push(p) })
    expect(progress).toEqual([2 / 3, 1])
    for (let i = 0; i < 3; i++) expect(maxAbsDiff(f3.subarray(i * FID_INCEPTION_DIM, (i + 1) * FID_INCEPTION_DIM), ref.values[0])).toBeLessThan(2e-5 * ref.max_abs)
    net.dispose()
    expect(tf.memory().numTensors).toBe(before)
    await expect(net.features(formulaImage('x', [1, 75, 75, 3]), { resize: false })).rejects.toThrow(/after dispose/)
  })

  it('prepares images as pytorch-fid: 299×299 bilinear (align_corners=False, no antialias), then 2x − 1', () => {
    for (const ref of expected.resize) {
      const x = tf.tidy(() => fidInceptionInput(formulaImage(ref.image, ref.shape), 0, 1))
      expect(x.shape).toEqual([1, 299, 299, 3])
      const values = x.dataSync()
      x.dispose()
      const err = maxAbsDiff(ref.indices.map((i) => values[i]), ref.values)
      console.log(`resize ${ref.image} → 299×299: max abs error ${err.toExponential(2)} (torch's own float32: ${ref.torch_f32_max_abs_err.toExponential(2)})`)
      // Against PyTorch in float64: values in [−1, 1], tfjs takes the sampling grid in double and
      // rounds the blend to float32, so only ~1e-7 is expected (PyTorch's own float32 run is
      // ~2e-6 off when enlarging 32 → 299 and ~4e-5 when shrinking 331 → 299, from its float32
      // coordinates). One pixel of grid offset would be off by ~0.1–1 here.
      expect(err).toBeLessThan(1e-6)
    }
  })

  it('reads unit floats, centred floats and bytes alike, and repeats gray to RGB', () => {
    const bytes8 = Uint8Array.from({ length: 2 * 9 * 8 * 1 }, (_, i) => (i * 37) % 256)
    const input = (images: ImageArray): Float32Array => {
      const x = tf.tidy(() => fidInceptionInput(images, 0, 2))
      expect(x.shape).toEqual([2, 299, 299, 3])
      const data = x.dataSync() as Float32Array
      x.dispose()
      return data
    }
    const ref = input({ data: bytes8, shape: [2, 9, 8, 1] })
    const unit = Float32Array.from(bytes8, (v) => v / 255)
    for (const other of [input({ data: unit, shape: [2, 9, 8, 1], range: 'unit' }), input({ data: unit.map((v) => 2 * v - 1), shape: [2, 9, 8, 1], range: 'centered' })]) {
      expect(maxAbsDiff(other, ref)).toBeLessThan(1e-6)
    }
    for (let p = 0; p < ref.length; p += 3) {
      if (ref[p] !== ref[p + 1] || ref[p] !== ref[p + 2]) throw new Error(`gray pixel ${p / 3} is not repeated to RGB: ${ref.subarray(p, p + 3).join(', ')}`)
    }
    const kept = tf.tidy(() => fidInceptionInput({ data: unit, shape: [2, 9, 8, 1] }, 1, 1, false))
    expect(kept.shape).toEqual([1, 9, 8, 3])
    kept.dispose()
  })

  it('names the file and every problem when the weights do not fit', () => {
    const before = tf.memory().numTensors
    expect(() => FidInception.fromSafetensors(new TextEncoder().encode('PK\u0003\u0004 not this'), SOURCE)).toThrow(SOURCE)
    // One file with five problems (each file is 90 MB to write and read): all are reported at once.
    const w = weights['Mixed_6b.branch7x7_2.conv.weight']
    const broken = encodeWith({
      'Mixed_6c.branch7x7_2.bn.running_var': null,
      // A 7×1 kernel where the 1×7 belongs (the transposition a hand port gets wrong).
      'Mixed_6b.branch7x7_2.conv.weight': { ...w, shape: [128, 128, 7, 1] },
      'Conv2d_1a_3x3.bn.bias': { dtype: 'I32', shape: [32], data: new Int32Array(32) },
      'Mixed_8a.conv.weight': { dtype: 'F32', shape: [1], data: new Float32Array(1) },
      'fc.weight': { dtype: 'F32', shape: [1000, 2048], data: new Float32Array(1000 * 2048) }
    })
    let message = ''
    try {
      FidInception.fromSafetensors(broken, SOURCE)
    } catch (err) {
      message = (err as Error).message
    }
    expect(message).toContain(`${SOURCE} is not the FID Inception-v3 weights: missing 1 tensor(s): Mixed_6c.branch7x7_2.bn.running_var`)
    expect(message).toContain('"Mixed_6b.branch7x7_2.conv.weight" has shape [128, 128, 7, 1], expected [128, 128, 1, 7]')
    expect(message).toContain('"Conv2d_1a_3x3.bn.bias" is I32, expected a float tensor')
    expect(message).toContain('unexpected 1 tensor(s): Mixed_8a.conv.weight')
    expect(message).toContain("1000 classes, not 1008: this looks like torchvision's ImageNet Inception-v3")
    expect(tf.memory().numTensors).toBe(before)
  })

  it('takes half-precision weights (features within F16 rounding of the F32 ones)', async () => {
    const half: Record<string, SafeTensor> = {}
    const f32 = new Float32Array(1)
    const u32 = new Uint32Array(f32.buffer)
    // Round-to-nearest-even float → half; values below half's normal range (< 6e-5) become 0, which is noise here.
    const toHalf = (v: number): number => {
      f32[0] = v
      const b = u32[0]
      const sign = (b >>> 16) & 0x8000
      const e = ((b >>> 23) & 0xff) - 127 + 15
      if (v === 0 || e <= 0) return sign
      let h = sign | (e << 10) | ((b >>> 13) & 0x3ff)
      if (b & 0x1000 && (b & 0x2fff) !== 0) h++ // round half to even
      return h
    }
    for (const { name, shape } of fidInceptionTensors()) {
      const src = weights[name].data as Float32Array
      const data = new Uint16Array(src.length)
      for (let i = 0; i < src.length; i++) data[i] = toHalf(src[i])
      half[name] = { dtype: 'F16', shape, data }
    }
    const ref = expected.features.find((f) => f.image === 'image75')!
    const net = FidInception.fromSafetensors(encodeSafetensors(half), SOURCE)
    const f = await net.features(formulaImage(ref.image, ref.shape), { resize: false })
    net.dispose()
    // F16 keeps 11 significant bits (relative rounding ≤ 2^-11 ≈ 5e-4 per weight).
    const err = maxAbsDiff(f, ref.values.flat())
    expect(err).toBeGreaterThan(0)
    expect(err).toBeLessThan(1e-2 * ref.max_abs)
  })

  it('refuses inputs it cannot take', async () => {
    const net = FidInception.fromSafetensors(bytes, SOURCE)
    try {
      await expect(net.features(formulaImage('small', [1, 74, 80, 3]), { resize: false })).rejects.toThrow(/at least 75×75 .* got 74×80/)
      await expect(net.features(formulaImage('rgba', [1, 8, 8, 4]))).rejects.toThrow(/1 \(gray\) or 3 \(RGB\) channels, got 4/)
      await expect(net.features(formulaImage('rgb', [1, 8, 8, 3]), { batchSize: 0 })).rejects.toThrow(/batchSize/)
      expect(await net.features({ data: new Float32Array(0), shape: [0, 32, 32, 3] })).toEqual(new Float32Array(0))
    } finally {
      net.dispose()
    }
  })
})
