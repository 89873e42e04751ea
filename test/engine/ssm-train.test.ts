// Sliced score matching trains a toy model about as well as denoising score matching: the same
// mlp, SDE, data, optimiser and step count under each objective, scored by the cosine between
// the learned and the exact score field of the 8-Gaussian mixture on a grid.
import { beforeAll, expect, it } from 'vitest'
import { tf } from '../../src/engine/tf'
import { selectBackend } from '../../src/engine/backend/select'
import { createSde } from '../../src/engine/sde'
import { createModel } from '../../src/engine/nets'
import { Trainer, type TrainerConfigInput } from '../../src/engine/train'
import { GmmToy } from '../../src/engine/toy'
import { Rng } from '../../src/engine/rng'

beforeAll(async () => {
  await selectBackend({ force: 'cpu' })
})

const toy = new GmmToy({})
const sde = createSde({ name: 'vesde', sigmaMin: 0.05, sigmaMax: 3 })
const STEPS = 200

/** Mean cosine between learned and exact score over a 12×12 grid on [−3.5, 3.5]², at each t. */
function fieldCosine(trainer: Trainer, ts: number[]): number {
  const n = 12
  const pts = new Float32Array(n * n * 2)
  for (let k = 0; k < n * n; k++) {
    pts[2 * k] = -3.5 + (7 * ((k % n) + 0.5)) / n
    pts[2 * k + 1] = -3.5 + (7 * (Math.floor(k / n) + 0.5)) / n
  }
  let sum = 0
  for (const t of ts) {
    const learned = trainer.withEmaWeights((m) => tf.tidy(() => m.score(tf.tensor2d(pts, [n * n, 2]), tf.fill([n * n], t) as tf.Tensor1D).dataSync()))
    const truth = toy.score(pts, sde, t)
    for (let k = 0; k < n * n; k++) {
      const [a, b, c, d] = [learned[2 * k]!, learned[2 * k + 1]!, truth[2 * k]!, truth[2 * k + 1]!]
      sum += (a * c + b * d) / (Math.hypot(a, b) * Math.hypot(c, d) + 1e-12)
    }
  }
  return sum / (ts.length * n * n)
}

async function train(config: TrainerConfigInput): Promise<{ cosine: number; seconds: number }> {
  const model = createModel('mlp', { shape: [2], sde, seed: 0, options: { hidden: 64, layers: 2 } })
  const trainer = new Trainer({ model, sde, config: { lr: 2e-3, batchSize: 64, emaDecay: 0.99, seed: 1, ...config } })
  const rng = new Rng(2)
  const start = performance.now()
  for (let i = 0; i < STEPS; i++) {
    const x = tf.tensor2d(toy.sample(64, rng), [64, 2])
    trainer.step(x)
    x.dispose()
  }
  await trainer.readPending() // the steps' metrics, once (a non-finite step would throw here)
  const seconds = (performance.now() - start) / 1000
  const cosine = fieldCosine(trainer, [0.3, 0.5, 0.8])
  trainer.dispose()
  model.dispose()
  return { cosine, seconds }
}

it(`an mlp trained ${STEPS} steps with ssm learns the toy score about as well as with dsm`, async () => {
  const dsm = await train({ objective: 'dsm' })
  const ssm = await train({ objective: 'ssm' })
  const ssmGauss = await train({ objective: 'ssm', projections: 'gaussian' })
  console.log(
    `score-field cosine after ${STEPS} steps (t 0.3/0.5/0.8): dsm ${dsm.cosine.toFixed(3)} (${dsm.seconds.toFixed(1)} s), ` +
      `ssm rademacher ${ssm.cosine.toFixed(3)} (${ssm.seconds.toFixed(1)} s), ssm gaussian ${ssmGauss.cosine.toFixed(3)} (${ssmGauss.seconds.toFixed(1)} s)`
  )
  expect(dsm.cosine).toBeGreaterThan(0.5) // the yardstick itself learned something
  expect(ssm.cosine).toBeGreaterThan(0.8 * dsm.cosine)
  expect(ssmGauss.cosine).toBeGreaterThan(0.8 * dsm.cosine)
})
