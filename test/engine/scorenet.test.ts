import { afterEach, describe, expect, it } from 'vitest'
import { tf } from '../../src/engine/tf'
import { createModel } from '../../src/engine/nets/index'
import { resolveScoreNetConfig, type ScoreNet } from '../../src/engine/nets/scorenet'
import { tutorialVe } from './helpers/tutorial-ve'

const sde = tutorialVe()
const models: { dispose(): void }[] = []
afterEach(() => {
  models.splice(0).forEach((m) => m.dispose())
})
const make = (shape: number[], options?: Record<string, unknown>, seed = 0) => {
  const m = createModel('scorenet', { shape, sde, seed, options }) as ScoreNet
  models.push(m)
  return m
}

describe('scorenet (tutorial U-Net)', () => {
  it('has exactly 1,115,297 trainable parameters + 128 frozen Fourier frequencies for 28×28×1', () => {
    const m = make([28, 28, 1])
    expect(m.numParams()).toBe(1_115_297)
    expect([...m.buffers.keys()]).toEqual(['embed.0.W'])
    expect(m.buffers.get('embed.0.W')!.size).toBe(128)
    expect(m.buffers.get('embed.0.W')!.trainable).toBe(false)
    expect([...m.params.values()].every((v) => v.trainable)).toBe(true)
    // the tutorial's state_dict names, in its order
    const names = [...m.buffers.keys(), ...m.params.keys()]
    expect(names.slice(0, 7)).toEqual(['embed.0.W', 'embed.1.weight', 'embed.1.bias', 'conv1.weight', 'dense1.dense.weight', 'dense1.dense.bias', 'gnorm1.weight'])
    expect(names).toContain('tgnorm4.bias')
    expect(names.slice(-2)).toEqual(['tconv1.weight', 'tconv1.bias'])
    expect(names.filter((n) => n.endsWith('.bias') && /conv/.test(n))).toEqual(['tconv1.bias'])
    // tfjs layouts
    expect(m.params.get('conv2.weight')!.shape).toEqual([3, 3, 32, 64])
    expect(m.params.get('tconv4.weight')!.shape).toEqual([3, 3, 128, 256])
    expect(m.params.get('embed.1.weight')!.shape).toEqual([256, 256])
  })

  it('has 1,117,027 trainable parameters with 3 channels (science.md §1.1)', () => {
    expect(make([32, 32, 3]).numParams()).toBe(1_117_027)
  })

  it('derives output_padding from the shape: 28×28 → tconv3/tconv2, 32×32 → also tconv4', () => {
    expect(resolveScoreNetConfig([28, 28, 1]).outputPadding).toEqual({ tconv4: [0, 0], tconv3: [1, 1], tconv2: [1, 1] })
    expect(resolveScoreNetConfig([32, 32, 3]).outputPadding).toEqual({ tconv4: [1, 1], tconv3: [1, 1], tconv2: [1, 1] })
  })

  it('runs at 28×28×1 (batch 4) with the score shape, finite, and no leaked tensors', () => {
    const m = make([28, 28, 1])
    const before = tf.memory().numTensors
    const y = tf.tidy(() => m.score(tf.randomUniform([4, 28, 28, 1], 0, 1, 'float32', 1), tf.tensor1d([1e-5, 0.1, 0.5, 1])))
    expect(y.shape).toEqual([4, 28, 28, 1])
    expect(y.dataSync().every(Number.isFinite)).toBe(true)
    y.dispose()
    expect(tf.memory().numTensors).toBe(before)
  })

  it('runs at 32×32×3 and returns [B, 32, 32, 3]', () => {
    const m = make([32, 32, 3])
    const y = tf.tidy(() => m.score(tf.randomNormal([2, 32, 32, 3], 0, 1, 'float32', 2), tf.tensor1d([0.3, 0.9])))
    expect(y.shape).toEqual([2, 32, 32, 3])
    expect(y.dataSync().every(Number.isFinite)).toBe(true)
    y.dispose()
  })

  it('divides by std(t): at fixed input the output scales as 1/std', () => {
    const m = make([28, 28, 1])
    // same x, same t inside the net except the division: compare t and a doubled-std stand-in
    const x = tf.randomUniform([1, 28, 28, 1], 0, 1, 'float32', 3)
    const half = createModel('scorenet', {
      shape: [28, 28, 1],
      sde: { ...sde, marginalProb: (x0: tf.Tensor, t: tf.Tensor1D) => tf.tidy(() => ({ mean: tf.clone(x0), std: tf.mul(sde.marginalProb(x0, t).std, 2) as tf.Tensor1D })) },
      seed: 0
    })
    models.push(half)
    const [a, b] = tf.tidy(() => [m.score(x, tf.tensor1d([0.5])), half.score(x, tf.tensor1d([0.5]))])
    const ra = a!.dataSync()
    const rb = b!.dataSync()
    for (let i = 0; i < ra.length; i += 97) expect(rb[i]).toBeCloseTo(ra[i]! / 2, 5)
    tf.dispose([x, a!, b!])
  })

  it('is deterministic in the seed', () => {
    const a = make([28, 28, 1], undefined, 7).params.get('conv1.weight')!.dataSync()
    const b = make([28, 28, 1], undefined, 7).params.get('conv1.weight')!.dataSync()
    const c = make([28, 28, 1], undefined, 8).params.get('conv1.weight')!.dataSync()
    expect(Array.from(a)).toEqual(Array.from(b))
    expect(Array.from(a)).not.toEqual(Array.from(c))
  })

  it('gradients reach every trainable parameter and none reach the frozen W (narrow variant, fast on cpu)', () => {
    const m = make([28, 28, 1], { channels: [8, 8, 8, 8], embedDim: 16, groups: [4, 4, 4, 4, 4, 4, 4] })
    const x = tf.randomUniform([2, 28, 28, 1], 0, 1, 'float32', 4)
    const t = tf.tensor1d([0.2, 0.7])
    const { value, grads } = tf.variableGrads(() => tf.sum(tf.square(m.score(x, t))) as tf.Scalar)
    expect(Object.keys(grads).length).toBe(m.params.size)
    for (const [name, v] of m.params) {
      const g = grads[v.name]
      expect(g, name).toBeDefined()
      expect(g!.shape).toEqual(v.shape)
      expect(tf.sum(tf.abs(g!)).dataSync()[0], name).toBeGreaterThan(0)
    }
    expect(grads[m.buffers.get('embed.0.W')!.name]).toBeUndefined()
    tf.dispose([x, t, value, ...Object.values(grads)])
  })

  it('refuses wrong shapes and bad options with a clear message', () => {
    expect(() => make([28, 28])).toThrow(/image shape \[H, W, C\]/)
    expect(() => make([28, 28, 1], { channels: [30, 64, 128, 256] })).toThrow(/gnorm1 has 30 channels, not divisible by 4 groups/)
    expect(() => make([28, 28, 1], { chanels: [32, 64, 128, 256] })).toThrow(/scorenet options/)
    expect(() => make([8, 8, 1])).toThrow(/too small/)
    const m = make([28, 28, 1])
    expect(() => m.score(tf.zeros([1, 32, 32, 1]), tf.tensor1d([0.5]))).toThrow(/expects x of shape \[B, 28, 28, 1\]/)
  })

  it('rebuilds from its stored config', () => {
    const m = make([32, 32, 3], { channels: [32, 64, 128, 256] })
    const again = make(m.config.shape as number[], m.config)
    expect(again.numParams()).toBe(m.numParams())
    expect(JSON.parse(JSON.stringify(m.config))).toEqual(m.config)
  })
})
