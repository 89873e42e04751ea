import { beforeAll, describe, expect, it } from 'vitest'
import { tf } from '../../src/engine/tf'
import { selectBackend } from '../../src/engine/backend/select'
import { createSde } from '../../src/engine/sde'
import { createModel, MODELS } from '../../src/engine/nets'

beforeAll(async () => {
  await selectBackend({ force: 'cpu' })
})

describe('mlp', () => {
  it('is registered, has stable parameter names and counts, and is seeded', () => {
    expect(MODELS).toHaveProperty('mlp')
    const sde = createSde({ name: 'vpsde' })
    const m = createModel('mlp', { shape: [2], sde, seed: 3, options: { hidden: 16, layers: 2, embedDim: 8 } })
    expect([...m.params.keys()]).toEqual([
      'embed.dense.weight', 'embed.dense.bias',
      'fc0.weight', 'fc0.bias', 'temb0.weight', 'temb0.bias',
      'fc1.weight', 'fc1.bias', 'temb1.weight', 'temb1.bias',
      'out.weight', 'out.bias'
    ])
    expect([...m.buffers.keys()]).toEqual(['embed.W'])
    // embed 8·16+16, fc0 2·16+16, temb0 16·16+16, fc1 16·16+16, temb1 16·16+16, out 16·2+2
    expect(m.numParams()).toBe(144 + 48 + 272 * 3 + 34)
    const again = createModel('mlp', { shape: [2], sde, seed: 3, options: m.config })
    expect(Array.from(again.params.get('fc0.weight')!.dataSync())).toEqual(Array.from(m.params.get('fc0.weight')!.dataSync()))
    m.dispose()
    again.dispose()
  })

  it('returns a score of the input shape divided by std(t) of its SDE, without leaking', () => {
    // Same seed → same weights; with the input left unscaled only the final 1/std(t) differs.
    const sde = createSde({ name: 'vesde_tutorial' })
    const other = createSde({ name: 'vesde' })
    const m = createModel('mlp', { shape: [2], sde, seed: 1, options: { normalizeInput: false } })
    const m2 = createModel('mlp', { shape: [2], sde: other, seed: 1, options: { normalizeInput: false } })
    const before = tf.memory().numTensors
    const [shape, s1, s2] = tf.tidy(() => {
      const x = tf.tensor2d([[0.3, -0.2], [1.5, 0.7]])
      const t = tf.tensor1d([0.5, 0.5])
      const a = m.score(x, t)
      return [a.shape, Array.from(a.dataSync()), Array.from(m2.score(x, t).dataSync())]
    })
    expect(shape).toEqual([2, 2])
    const ratio = other.marginalStdAt(0.5) / sde.marginalStdAt(0.5)
    ;(s1 as number[]).forEach((v, i) => expect(v / (s2 as number[])[i]).toBeCloseTo(ratio, 5))
    expect(tf.memory().numTensors).toBe(before)
    m2.dispose()
    expect(() => createModel('mlp', { shape: [28, 28, 1], sde, seed: 0 })).toThrow(/points/)
    expect(() => createModel('mlp', { shape: [2], sde, seed: 0, options: { hiddn: 3 } })).toThrow()
    m.dispose()
  })
})
