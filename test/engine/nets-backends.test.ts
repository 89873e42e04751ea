// Every network gives the same forward pass on the wasm and native backends as on the pure-JS cpu backend
// (same weights, same inputs), so nothing in them assumes one backend.
import { describe, expect, it } from 'vitest'
import { tf } from '../../src/engine/tf'
import { selectBackend } from '../../src/engine/backend/select'
import { createModel } from '../../src/engine/nets/index'
import { tutorialVe } from './helpers/tutorial-ve'

const sde = tutorialVe()
const CASES = [
  { name: 'scorenet', shape: [28, 28, 1] },
  { name: 'scorenet_color', shape: [32, 32, 3] },
  { name: 'mixer', shape: [28, 28, 1] }
]

async function forward(backend: 'cpu' | 'wasm' | 'native', name: string, shape: number[]): Promise<Float32Array> {
  await selectBackend({ force: backend })
  const m = createModel(name, { shape, sde, seed: 11 })
  try {
    const y = tf.tidy(() => m.score(tf.randomUniform([2, ...shape], 0, 1, 'float32', 5), tf.tensor1d([0.02, 0.6])))
    const out = y.dataSync() as Float32Array
    y.dispose()
    return out.slice()
  } finally {
    m.dispose()
  }
}

describe('networks on cpu, wasm and native', () => {
  for (const { name, shape } of CASES) for (const other of ['wasm', 'native'] as const) {
    it(`${name}: ${other} forward matches cpu (rel L2 < 1e-5)`, async () => {
      const a = await forward('cpu', name, shape)
      const b = await forward(other, name, shape)
      let num = 0
      let den = 0
      for (let i = 0; i < a.length; i++) {
        num += (a[i]! - b[i]!) ** 2
        den += a[i]! ** 2
      }
      expect(Math.sqrt(num / den)).toBeLessThan(1e-5)
    })
  }
})
