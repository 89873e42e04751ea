// On real FashionMNIST, a short training of the tutorial scorenet lowers the loss steadily
// (a loose bound over a few dozen steps; the long run belongs in a benchmark).
import { describe, expect, it } from 'vitest'
import { tf } from '../../src/engine/tf'
import { selectBackend } from '../../src/engine/backend/select'
import { Batcher } from '../../src/engine/data/batcher'
import { createModel } from '../../src/engine/nets'
import { createSde } from '../../src/engine/sde'
import { Trainer } from '../../src/engine/train'
import { DatasetStore } from '../../src/lab/datasets/store'
import { FASHION_DIR, HAVE_FASHION, tmp } from '../data/helpers'

if (!HAVE_FASHION) console.log(`[fashion-train] SKIPPED: ${FASHION_DIR} is missing (apt-get install dataset-fashion-mnist)`)

describe.skipIf(!HAVE_FASHION)('scorenet on real FashionMNIST', () => {
  it('lowers the tutorial loss over 24 steps', async () => {
    const backend = await selectBackend() // the fast default, as a user gets
    const store = new DatasetStore(tmp())
    await store.import('fashion-mnist', FASHION_DIR)
    const set = await store.load('fashion-mnist', 'train')
    const sde = createSde({ name: 'vesde_tutorial' })
    const model = createModel('scorenet', { shape: [28, 28, 1], sde, seed: 0 })
    const trainer = new Trainer({ model, sde, config: { lr: 1e-3, batchSize: 8, seed: 0 } })
    const batcher = new Batcher(set, { batchSize: 8, seed: 0 })
    const epoch = batcher.epoch(0)
    for (let i = 0; i < 24; i++) {
      const b = epoch.next().value!
      trainer.step(b.x)
      tf.dispose([b.x, b.y])
    }
    const losses = (await trainer.readPending()).map((m) => m.loss) // one read for all steps
    const mean = (xs: number[]) => xs.reduce((a, c) => a + c, 0) / xs.length
    const first = mean(losses.slice(0, 6))
    const last = mean(losses.slice(-6))
    console.log(`[fashion-train] ${backend.name}: mean loss of steps 1–6 ${first.toFixed(1)}, steps 19–24 ${last.toFixed(1)}`)
    expect(losses.every(Number.isFinite)).toBe(true)
    expect(last).toBeLessThan(0.7 * first)
    trainer.dispose()
    model.dispose()
  })
})
