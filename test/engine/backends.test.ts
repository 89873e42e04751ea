// The engine core runs unchanged on every backend the app can load without a GPU (cpu, wasm):
// the same seeded training gives the same losses (to float rounding), and resume is exact.
import { describe, expect, it } from 'vitest'
import { tf } from '../../src/engine/tf'
import { selectBackend } from '../../src/engine/backend/select'
import { createSde } from '../../src/engine/sde'
import { createModel } from '../../src/engine/nets'
import { Trainer } from '../../src/engine/train'
import { GmmToy } from '../../src/engine/toy'
import { Rng } from '../../src/engine/rng'
import { decodeCheckpoint, encodeCheckpoint } from '../../src/engine/checkpoint'
import { stepAndRead } from '../helpers/trainer-steps'

const gmm = new GmmToy()

async function trainLosses(sdeName: string, steps: number) {
  const sde = createSde({ name: sdeName })
  const model = createModel('mlp', { shape: [2], sde, seed: 2, options: { hidden: 16, layers: 2, embedDim: 8 } })
  const tr = new Trainer({ model, sde, config: { lr: 1e-3, seed: 4, emaDecay: 0.99, gradClip: 1, warmup: 2 } })
  const data = new Rng(8)
  const batches = Array.from({ length: steps + 1 }, () => tf.tensor2d(gmm.sample(32, data), [32, 2]))
  for (const b of batches.slice(0, steps)) tr.step(b)
  const losses = (await tr.readPending()).map((m) => m.loss) // one read for all steps
  // Resume from an in-memory checkpoint and compare the next step bit for bit.
  const resumed = Trainer.fromState(decodeCheckpoint(encodeCheckpoint(await tr.exportState())))
  const next = (await stepAndRead(tr, batches[steps]!)).loss
  const again = (await stepAndRead(resumed, batches[steps]!)).loss
  for (const t of [tr, resumed]) {
    t.dispose()
    t.model.dispose()
  }
  tf.dispose(batches)
  return { losses, next, again }
}

describe('engine core on cpu and wasm', () => {
  for (const sdeName of ['vpsde', 'vesde']) {
    it(`${sdeName}: same losses on both backends; exact resume on each`, async () => {
      await selectBackend({ force: 'cpu' })
      const cpu = await trainLosses(sdeName, 4)
      expect(Object.is(cpu.next, cpu.again)).toBe(true)
      await selectBackend({ force: 'wasm', wasmThreads: 1 })
      expect(tf.getBackend()).toBe('wasm')
      const wasm = await trainLosses(sdeName, 4)
      expect(Object.is(wasm.next, wasm.again)).toBe(true)
      cpu.losses.forEach((l, i) => expect(Math.abs(wasm.losses[i] / l - 1)).toBeLessThan(1e-3))
    })
  }
})
