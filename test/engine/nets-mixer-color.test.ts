import { afterEach, describe, expect, it } from 'vitest'
import { tf } from '../../src/engine/tf'
import { createModel, MODELS } from '../../src/engine/nets/index'
import type { ScoreModel } from '../../src/engine/nets/types'
import type { ScoreNet } from '../../src/engine/nets/scorenet'
import { exportTorchStateDict } from '../../src/engine/nets/torch-import'
import type { Mixer } from '../../src/engine/nets/mixer'
import { gelu } from '../../src/engine/nets/layers'
import { tutorialVe } from './helpers/tutorial-ve'

const sde = tutorialVe()
const models: ScoreModel[] = []
afterEach(() => models.splice(0).forEach((m) => m.dispose()))
const make = <T extends ScoreModel>(name: string, shape: number[], options?: Record<string, unknown>) => {
  const m = createModel(name, { shape, sde, seed: 0, options }) as T
  models.push(m)
  return m
}

/** Gradients of Σ score² for the given variables (default: all trainable), checked non-zero and shaped. */
function expectGradients(m: ScoreModel, x: tf.Tensor, t: tf.Tensor1D, only?: string[]) {
  const names = only ?? [...m.params.keys()]
  const vars = names.map((n) => m.params.get(n)!)
  const { value, grads } = tf.variableGrads(() => tf.sum(tf.square(m.score(x, t))) as tf.Scalar, vars)
  expect(Number.isFinite(value.dataSync()[0])).toBe(true)
  for (const n of names) {
    const v = m.params.get(n)!
    const g = grads[v.name]
    expect(g, n).toBeDefined()
    expect(g!.shape, n).toEqual(v.shape)
    expect(tf.sum(tf.abs(g!)).dataSync()[0], n).toBeGreaterThan(0)
  }
  tf.dispose([value, ...Object.values(grads)])
}

describe('registry', () => {
  it('lists the networks of this module', () => {
    expect(Object.keys(MODELS)).toEqual(expect.arrayContaining(['scorenet', 'scorenet_color', 'mixer']))
  })
})

describe('mixer (time-conditional MLP-Mixer)', () => {
  it('defaults to patch 4, hidden 64, mix sizes 512, 4 blocks; 49 tokens at 28×28', () => {
    const m = make<Mixer>('mixer', [28, 28, 1])
    expect(m.cfg).toMatchObject({ patch: 4, hidden: 64, tokenMix: 512, channelMix: 512, blocks: 4 })
    expect(m.params.get('blocks.0.token_mix.0.weight')!.shape).toEqual([49, 512])
    expect(m.params.get('blocks.3.channel_mix.2.weight')!.shape).toEqual([512, 64])
    expect(m.numParams()).toBe(602_245)
    expect(m.buffers.get('embed.0.W')!.size).toBe(128)
  })

  it('runs forward with the right shape and every parameter gets a gradient (28×28×1)', () => {
    const m = make<Mixer>('mixer', [28, 28, 1])
    const x = tf.randomUniform([2, 28, 28, 1], 0, 1, 'float32', 1)
    const t = tf.tensor1d([0.05, 0.9])
    const before = tf.memory().numTensors
    const y = tf.tidy(() => m.score(x, t))
    expect(y.shape).toEqual([2, 28, 28, 1])
    y.dispose()
    expect(tf.memory().numTensors).toBe(before)
    expectGradients(m, x, t)
    tf.dispose([x, t])
  })

  it('divides by std(t) and handles 32×32×3', () => {
    const m = make<Mixer>('mixer', [32, 32, 3], { blocks: 1 })
    const x = tf.randomNormal([1, 32, 32, 3], 0, 1, 'float32', 2)
    const [a, b] = tf.tidy(() => [tf.mul(m.score(x, tf.tensor1d([0.5])), sde.marginalStdAt(0.5)), m.score(x, tf.tensor1d([0.5]))])
    expect(a!.shape).toEqual([1, 32, 32, 3])
    expect(Math.abs(a!.dataSync()[5]! - b!.dataSync()[5]! * sde.marginalStdAt(0.5))).toBeLessThan(1e-4)
    tf.dispose([x, a!, b!])
  })

  it('refuses images not divisible into patches', () => {
    expect(() => make('mixer', [30, 30, 1])).toThrow(/not divisible into 4×4 patches/)
  })

  it('exports in PyTorch layouts', async () => {
    const sd = await exportTorchStateDict(make<Mixer>('mixer', [28, 28, 1]))
    expect(sd['stem.weight']!.shape).toEqual([64, 1, 4, 4]) // Conv2d [out, in, kh, kw]
    expect(sd['head.weight']!.shape).toEqual([64, 1, 4, 4]) // ConvTranspose2d [in, out, kh, kw]
    expect(sd['blocks.0.token_mix.0.weight']!.shape).toEqual([512, 49]) // Linear [out, in]
  })

  it('gelu is the tanh form', () => {
    const y = tf.tidy(() => gelu(tf.tensor1d([-1, 0, 2])).dataSync())
    const ref = (v: number) => 0.5 * v * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (v + 0.044715 * v ** 3)))
    ;[-1, 0, 2].forEach((v, i) => expect(y[i]).toBeCloseTo(ref(v), 6))
  })
})

describe('scorenet_color (CIFAR-10, 32×32×3)', () => {
  it('is the U-Net with 3 channels, output_padding on tconv4 and channels [64,128,256,512]', () => {
    const m = make<ScoreNet>('scorenet_color', [32, 32, 3])
    expect(m.name).toBe('scorenet_color')
    expect(m.cfg.channels).toEqual([64, 128, 256, 512])
    expect(m.cfg.outputPadding.tconv4).toEqual([1, 1])
    expect(m.params.get('tconv1.weight')!.shape).toEqual([3, 3, 3, 128])
    expect(m.numParams()).toBe(3_900_867)
  })

  it('runs forward + gradient on a 2-image batch (full width; gradient of the output block; weight gradients of the wide convs take a minute on the cpu backend)', () => {
    const m = make<ScoreNet>('scorenet_color', [32, 32, 3])
    const x = tf.randomUniform([2, 32, 32, 3], 0, 1, 'float32', 3)
    const t = tf.tensor1d([0.01, 0.7])
    const y = tf.tidy(() => m.score(x, t))
    expect(y.shape).toEqual([2, 32, 32, 3])
    expect(y.dataSync().every(Number.isFinite)).toBe(true)
    y.dispose()
    expectGradients(m, x, t, ['tconv1.bias', 'tgnorm2.weight', 'tgnorm2.bias', 'dense7.dense.weight', 'dense7.dense.bias'])
    tf.dispose([x, t])
  })

  it('every parameter gets a gradient at 32×32×3 (narrow variant of the same architecture)', () => {
    const m = make<ScoreNet>('scorenet_color', [32, 32, 3], { channels: [8, 16, 16, 32], groups: [4, 8, 8, 8, 8, 8, 4], embedDim: 16 })
    const x = tf.randomUniform([2, 32, 32, 3], 0, 1, 'float32', 4)
    const t = tf.tensor1d([0.01, 0.7])
    expectGradients(m, x, t)
    tf.dispose([x, t])
  })
})
