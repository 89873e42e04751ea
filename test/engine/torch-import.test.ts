import { readFileSync } from 'node:fs'
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { tf } from '../../src/engine/tf'
import { decodeSafetensors, encodeSafetensors, type SafeTensor } from '../../src/engine/io/safetensors'
import { createScoreNet, type ScoreNet } from '../../src/engine/nets/scorenet'
import {
  encodeTorchSafetensors,
  exportTorchStateDict,
  importTorchScoreNet,
  loadTorchStateDict,
  scoreNetOptionsFromTorch,
  stripModulePrefix,
  TorchImportError
} from '../../src/engine/nets/torch-import'
import { tutorialVe } from './helpers/tutorial-ve'

const sde = tutorialVe()
const weightsPath = path.join(import.meta.dirname, '..', 'fixtures', 'parity', 'weights.safetensors')
const weights = new Uint8Array(readFileSync(weightsPath))
const torchSd = () => decodeSafetensors(weights, 'weights.safetensors').tensors

const models: { dispose(): void }[] = []
afterEach(() => models.splice(0).forEach((m) => m.dispose()))
const fresh = (seed = 1): ScoreNet => {
  const m = createScoreNet({ shape: [28, 28, 1], sde, seed })
  models.push(m)
  return m
}
const same = (a: SafeTensor, b: SafeTensor) => {
  expect(a.shape).toEqual(b.shape)
  expect(Buffer.from((a.data as Float32Array).buffer).equals(Buffer.from((b.data as Float32Array).buffer))).toBe(true)
}

describe('PyTorch state_dict import/export', () => {
  it('imports the tutorial state_dict and exports it back bit for bit (layouts are exact inverses)', async () => {
    const m = fresh()
    const sd = torchSd()
    loadTorchStateDict(m, sd)
    const out = await exportTorchStateDict(m)
    expect(Object.keys(out)).toEqual(Object.keys(sd)) // the tutorial's state_dict order
    for (const name of Object.keys(sd)) same(out[name]!, sd[name]!)
    // tfjs layouts after import, e.g. ConvTranspose2d [256,128,3,3] → [3,3,128,256]
    expect(m.params.get('tconv4.weight')!.shape).toEqual([3, 3, 128, 256])
    expect(m.params.get('dense1.dense.weight')!.shape).toEqual([256, 32])
    // the frozen Fourier W is loaded, not re-sampled
    expect(Array.from(m.buffers.get('embed.0.W')!.dataSync())).toEqual(Array.from(sd['embed.0.W']!.data as Float32Array))
  })

  it('places elements where the layout mapping says (conv, tconv, linear)', () => {
    const m = fresh()
    loadTorchStateDict(m, torchSd())
    const sd = torchSd()
    const at = (name: string, idx: number[]) => m.params.get(name)!.bufferSync().get(...idx)
    const torchAt = (name: string, idx: number[]) => {
      const t = sd[name]!
      let flat = 0
      idx.forEach((v, i) => (flat = flat * t.shape[i]! + v))
      return (t.data as Float32Array)[flat]
    }
    expect(at('conv2.weight', [2, 1, 5, 7])).toBe(torchAt('conv2.weight', [7, 5, 2, 1])) // [kh,kw,in,out] ← [out,in,kh,kw]
    expect(at('tconv3.weight', [0, 2, 9, 200])).toBe(torchAt('tconv3.weight', [200, 9, 0, 2])) // [kh,kw,out,in] ← [in,out,kh,kw]
    expect(at('embed.1.weight', [3, 250])).toBe(torchAt('embed.1.weight', [250, 3])) // [in,out] ← [out,in]
  })

  it("accepts DataParallel's module. prefix, and can write it", async () => {
    const sd = torchSd()
    const prefixed = Object.fromEntries(Object.entries(sd).map(([k, v]) => [`module.${k}`, v]))
    const m = fresh()
    loadTorchStateDict(m, prefixed)
    const out = await exportTorchStateDict(m, { modulePrefix: true })
    expect(Object.keys(out)).toEqual(Object.keys(prefixed))
    expect(() => stripModulePrefix({ ...sd, 'module.conv1.weight': sd['conv1.weight']! }, 'mixed.safetensors')).toThrow(/mixed\.safetensors: some keys have DataParallel's "module\." prefix/)
  })

  it('names missing, unexpected and mis-shaped tensors, and assigns nothing when refusing', () => {
    const sd = torchSd()
    const m = fresh()
    const before = m.params.get('conv1.weight')!.dataSync().slice()
    const bad: Record<string, SafeTensor> = { ...sd, 'extra.weight': sd['conv1.bias' as string] ?? sd['tconv1.bias']!, 'conv2.weight': { ...sd['conv3.weight']! } }
    delete bad['gnorm3.bias']
    let msg = ''
    try {
      loadTorchStateDict(m, bad, 'ckpt.safetensors')
    } catch (e) {
      expect(e).toBeInstanceOf(TorchImportError)
      msg = (e as Error).message
    }
    expect(msg).toMatch(/^ckpt\.safetensors does not fit scorenet/)
    expect(msg).toMatch(/missing 1 tensor\(s\): gnorm3\.bias/)
    expect(msg).toMatch(/unexpected 1 tensor\(s\): extra\.weight/)
    expect(msg).toMatch(/"conv2\.weight" has shape \[128, 64, 3, 3\], expected \[64, 32, 3, 3\] \(PyTorch conv2d layout\)/)
    expect(Array.from(m.params.get('conv1.weight')!.dataSync())).toEqual(Array.from(before))
  })

  it('converts F64 and F16 weights, refuses integer ones', () => {
    const sd = torchSd()
    const w = sd['gnorm1.weight']!
    const f64 = { ...sd, 'gnorm1.weight': { dtype: 'F64' as const, shape: w.shape, data: Float64Array.from(w.data as Float32Array) } }
    const m = fresh()
    loadTorchStateDict(m, f64)
    expect(Array.from(m.params.get('gnorm1.weight')!.dataSync())).toEqual(Array.from(w.data as Float32Array))
    // 1.0, -2.0, 0.5 as IEEE half
    const f16 = { ...sd, 'tconv1.bias': { dtype: 'F16' as const, shape: [1], data: Uint16Array.from([0xc000]) } }
    loadTorchStateDict(m, f16)
    expect(m.params.get('tconv1.bias')!.dataSync()[0]).toBe(-2)
    const i32 = { ...sd, 'tconv1.bias': { dtype: 'I32' as const, shape: [1], data: Int32Array.from([1]) } }
    expect(() => loadTorchStateDict(m, i32)).toThrow(/"tconv1\.bias" is I32, expected a float tensor/)
  })

  it('builds a scorenet straight from the file, reading channels from the shapes', () => {
    expect(scoreNetOptionsFromTorch(torchSd())).toEqual({ channels: [32, 64, 128, 256], embedDim: 256, imageChannels: 1, classes: 0 })
    const { model, metadata } = importTorchScoreNet(weights, { sde, source: 'w.safetensors' })
    models.push(model)
    expect(model.numParams()).toBe(1_115_297)
    expect(metadata).toEqual({ format: 'pt', model: 'tutorial-scorenet', sigma: '25' })
    const notScoreNet = encodeSafetensors({ 'fc.weight': { dtype: 'F32', shape: [2, 2], data: new Float32Array(4) } })
    expect(() => importTorchScoreNet(notScoreNet, { sde, source: 'other.safetensors' })).toThrow(/other\.safetensors: not a tutorial ScoreNet state_dict \(no "conv1\.weight"\)/)
  })

  it('exported bytes re-import into an identical network (our checkpoints are readable as PyTorch state_dicts)', async () => {
    const a = fresh(3)
    const bytes = await encodeTorchSafetensors(a, { note: 'test' })
    const meta = decodeSafetensors(bytes).metadata
    expect(meta.format).toBe('pt')
    expect(JSON.parse(meta.config!).channels).toEqual([32, 64, 128, 256])
    const { model: b } = importTorchScoreNet(bytes, { sde })
    models.push(b)
    const x = tf.randomUniform([1, 28, 28, 1], 0, 1, 'float32', 9)
    const t = tf.tensor1d([0.3])
    const [ya, yb] = tf.tidy(() => [a.score(x, t), b.score(x, t)])
    expect(Array.from(yb!.dataSync())).toEqual(Array.from(ya!.dataSync()))
    tf.dispose([x, t, ya!, yb!])
  })
})
