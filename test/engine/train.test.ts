import { beforeAll, describe, expect, it } from 'vitest'
import { tf } from '../../src/engine/tf'
import { selectBackend } from '../../src/engine/backend/select'
import { createSde } from '../../src/engine/sde'
import { createModel } from '../../src/engine/nets'
import { Adam, clipFactor, clipFactorTensor, Ema, NonFiniteLossError, Trainer, warmupLr, type TrainerConfigInput } from '../../src/engine/train'
import { GmmToy } from '../../src/engine/toy'
import { Rng } from '../../src/engine/rng'
import { stepAndRead } from '../helpers/trainer-steps'

beforeAll(async () => {
  await selectBackend({ force: 'cpu' })
})

const gmm = new GmmToy({ means: [[-1.5, -1], [1.5, -1], [0, 1.5]], stds: [0.35, 0.35, 0.35] })

function tinyTrainer(config: TrainerConfigInput = {}, sdeName = 'vpsde', options: Record<string, unknown> = { hidden: 16, layers: 1, embedDim: 8 }) {
  const sde = createSde({ name: sdeName })
  const model = createModel('mlp', { shape: [2], sde, seed: 1, options })
  return new Trainer({ model, sde, config: { lr: 1e-3, seed: 5, ...config } })
}

function batchOf(n: number, rng: Rng): tf.Tensor2D {
  return tf.tensor2d(gmm.sample(n, rng), [n, 2])
}

/** `steps` steps, their metrics read once at the end (as a job reads them per flush). */
async function run(trainer: Trainer, steps: number, n = 16, dataSeed = 2) {
  const rng = new Rng(dataSeed)
  for (let i = 0; i < steps; i++) {
    const b = batchOf(n, rng)
    trainer.step(b)
    b.dispose()
  }
  return trainer.readPending()
}

describe('optimiser pieces', () => {
  it('Adam matches the PyTorch update (first step moves each weight by lr·sign(g))', async () => {
    const p = tf.variable(tf.tensor1d([1, -2]))
    const adam = new Adam(new Map([['p', p]]))
    const g = tf.tensor1d([2, -0.5])
    adam.apply({ p: g }, 0.01)
    const v = p.dataSync()
    expect(v[0]).toBeCloseTo(0.99, 6)
    expect(v[1]).toBeCloseTo(-1.99, 6)
    expect((await adam.getState()).step).toBe(1)
    tf.dispose([p, g])
    adam.dispose()
  })

  it('EMA uses decay_eff = min(decay, (1+n)/(10+n))', () => {
    const p = tf.variable(tf.scalar(0))
    const ema = new Ema(new Map([['p', p]]), 0.999)
    p.assign(tf.scalar(1))
    ema.update()
    expect(ema.shadow.get('p')!.dataSync()[0]).toBeCloseTo(1 - 2 / 11, 6)
    ema.update()
    expect(ema.shadow.get('p')!.dataSync()[0]).toBeCloseTo(1 - (2 / 11) * (3 / 12), 6)
    tf.dispose(p)
    ema.dispose()
  })

  it('warm-up and clipping follow score_sde / PyTorch', () => {
    expect(warmupLr(2e-4, 5000, 0)).toBe(0)
    expect(warmupLr(2e-4, 5000, 2500)).toBeCloseTo(1e-4, 12)
    expect(warmupLr(2e-4, 5000, 9000)).toBe(2e-4)
    expect(warmupLr(2e-4, 0, 0)).toBe(2e-4)
    expect(clipFactor(4, 1)).toBeCloseTo(0.25, 6)
    expect(clipFactor(0.5, 1)).toBe(1)
    expect(clipFactor(100, 0)).toBe(1)
    // The device's factor is the same formula in float32.
    for (const norm of [4, 0.5, 1e-3, 37.25]) {
      const f = clipFactorTensor(tf.scalar(norm), 1)!
      expect(f.dataSync()[0]).toBeCloseTo(clipFactor(norm, 1), 6)
      f.dispose()
    }
    expect(clipFactorTensor(tf.scalar(100), 0)).toBeNull()
  })
})

describe('Trainer', () => {
  it('reports metrics; the same seed gives the same losses, another seed other losses', async () => {
    const a = tinyTrainer({ warmup: 4, gradClip: 1, emaDecay: 0.999 })
    const b = tinyTrainer({ warmup: 4, gradClip: 1, emaDecay: 0.999 })
    const c = tinyTrainer({ warmup: 4, gradClip: 1, emaDecay: 0.999, seed: 6 })
    const ma = await run(a, 5)
    const mb = await run(b, 5)
    const mc = await run(c, 5)
    expect(ma.map((m) => m.loss)).toEqual(mb.map((m) => m.loss))
    expect(ma.map((m) => m.loss)).not.toEqual(mc.map((m) => m.loss))
    expect(ma.map((m) => m.step)).toEqual([1, 2, 3, 4, 5])
    expect(ma.map((m) => m.lr)).toEqual([0, 2.5e-4, 5e-4, 7.5e-4, 1e-3])
    for (const m of ma) {
      expect(m.bucketLoss).toHaveLength(10)
      expect(m.bucketLoss.some(Number.isFinite)).toBe(true)
      expect(m.gradNorm).toBeGreaterThan(0)
      expect(m.imagesPerSec).toBeGreaterThan(0)
    }
    for (const t of [a, b, c]) {
      t.dispose()
      t.model.dispose()
    }
  })

  it('a model with its optimizer and EMA leaves no tensor behind once disposed (variables take over their initial values)', () => {
    const before = tf.memory().numTensors
    const tr = tinyTrainer({ emaDecay: 0.99 }, 'vpsde', { hidden: 8, layers: 2, embedDim: 4 })
    // Weights, Adam's m and v, and the EMA shadow: four tensors per parameter, nothing else.
    const params = tr.model.params.size
    expect(tf.memory().numTensors - before).toBeLessThanOrEqual(4 * params + 4)
    tr.dispose()
    tr.model.dispose()
    expect(tf.memory().numTensors).toBe(before)
  })

  it('step enqueues only: reading once after many steps gives exactly the metrics of reading after each', async () => {
    const cfg = { warmup: 2, gradClip: 0.5, emaDecay: 0.99 }
    const eager = tinyTrainer(cfg)
    const rng = new Rng(2)
    const each = []
    for (let i = 0; i < 6; i++) {
      const b = batchOf(16, rng)
      each.push(await stepAndRead(eager, b))
      b.dispose()
    }
    const lazy = tinyTrainer(cfg)
    const stepsBefore = tf.memory().numTensors
    const rng2 = new Rng(2)
    const handles = []
    for (let i = 0; i < 6; i++) {
      const b = batchOf(16, rng2)
      handles.push(lazy.step(b))
      b.dispose()
    }
    expect(lazy.pendingCount).toBe(6)
    expect(handles.map((h) => h.step)).toEqual([1, 2, 3, 4, 5, 6])
    await expect(lazy.exportState()).rejects.toThrow(/6 step\(s\) not read yet/) // no checkpoint before the read
    const once = await lazy.readPending()
    expect(tf.memory().numTensors).toBe(stepsBefore) // the read freed the steps' metric tensors
    expect(lazy.pendingCount).toBe(0)
    const strip = (ms: typeof once) => ms.map(({ imagesPerSec, ...m }) => m)
    expect(strip(once)).toEqual(strip(each))
    expect(once.map((m) => m.lr)).toEqual(handles.map((h) => h.lr))
    // Clipping (on the device) did engage: the factor is below 1 on these gradients.
    expect(once.some((m) => m.gradNorm > 0.5)).toBe(true)
    // exportState reads asynchronously: a step enqueued before it settles would tear the state.
    const exporting = lazy.exportState()
    const extra = batchOf(16, rng2)
    lazy.step(extra)
    extra.dispose()
    await expect(exporting).rejects.toThrow(/a step ran while the state was being read/)
    await lazy.readPending()
    expect((await lazy.exportState()).step).toBe(7)
    for (const t of [eager, lazy]) {
      t.dispose()
      t.model.dispose()
    }
  })

  it('leaks no tensors: tf.memory().numTensors is the same after step 10 and step 200', async () => {
    const tr = tinyTrainer({ emaDecay: 0.99, gradClip: 1, warmup: 5 }, 'vesde_tutorial', { hidden: 8, layers: 1, embedDim: 4 })
    const rng = new Rng(1)
    let at10 = -1
    for (let i = 1; i <= 200; i++) {
      const b = batchOf(8, rng)
      tr.step(b)
      b.dispose()
      if (i % 10 === 0) await tr.readPending()
      if (i === 10) at10 = tf.memory().numTensors
    }
    expect(tf.memory().numTensors).toBe(at10)
    tr.dispose()
    tr.model.dispose()
  })

  it('a NaN step is found at the read: NonFiniteLossError names it, keeps the steps before it, and blocks further steps and checkpoints', async () => {
    const tr = tinyTrainer({ emaDecay: 0.99, gradClip: 1 })
    await run(tr, 2)
    const count = tf.memory().numTensors
    const rng = new Rng(9)
    const good = batchOf(16, rng)
    const bad = tf.tensor2d([[NaN, 0], [1, 1]])
    tr.step(good) // step 3
    tr.step(bad) // step 4: NaN loss; enqueued like any other, nothing read yet
    tr.step(good) // step 5
    const err = await tr.readPending().then(
      () => null,
      (e: unknown) => e
    )
    expect(err).toBeInstanceOf(NonFiniteLossError)
    const e = err as NonFiniteLossError
    expect(e.step).toBe(4)
    expect(e.message).toMatch(/diverged at step 4/)
    expect(Number.isNaN(e.loss)).toBe(true)
    expect(e.goodSteps.map((m) => m.step)).toEqual([3])
    expect(Number.isFinite(e.goodSteps[0]!.loss)).toBe(true)
    tf.dispose([good, bad])
    expect(tf.memory().numTensors).toBe(count) // the pending steps' tensors are freed with the error
    // The weights are past the bad update: no further step, read or export.
    expect(() => tr.step(batchOf(16, rng))).toThrow(/diverged at step 4/)
    await expect(tr.readPending()).rejects.toThrow(NonFiniteLossError)
    await expect(tr.exportState()).rejects.toThrow(NonFiniteLossError)
    tr.dispose()
    tr.model.dispose()
  })

  it('rejects vp_exp weighting on a VE SDE at construction', () => {
    expect(() => tinyTrainer({ weighting: 'vp_exp' }, 'vesde')).toThrow(/vp_exp/)
  })

  it('a small mlp trained on toy-gmm learns the true score (cosine similarity > 0.9 where the density lives)', () => {
    const sde = createSde({ name: 'vpsde' })
    const model = createModel('mlp', { shape: [2], sde, seed: 1, options: { hidden: 32, layers: 2 } })
    const tr = new Trainer({ model, sde, config: { lr: 4e-3, seed: 3, emaDecay: 0.99 } })
    const start = performance.now()
    run(tr, 500, 128, 11)
    const trainSeconds = (performance.now() - start) / 1000
    // Points drawn from p_t itself, so every one sits where the perturbed density is not negligible.
    const rng = new Rng(99)
    const n = 500
    const perT: string[] = []
    let total = 0
    const ts = [0.05, 0.1, 0.2, 0.4, 0.7, 1]
    const liveBefore = Array.from(model.params.get('fc1.weight')!.dataSync())
    const tensorsBefore = tf.memory().numTensors
    for (const t of ts) {
      const x0 = gmm.sample(n, rng)
      const m = sde.marginalMeanCoeffAt(t)
      const s = sde.marginalStdAt(t)
      const x = x0.map((v) => m * v + s * rng.normal())
      const truth = gmm.score(x, sde, t)
      const pred = tr.withEmaWeights((mdl) => tf.tidy(() => mdl.score(tf.tensor2d(x, [n, 2]), tf.fill([n], t) as tf.Tensor1D).dataSync()))
      let c = 0
      for (let i = 0; i < n; i++) {
        const [a, b, u, v] = [pred[2 * i], pred[2 * i + 1], truth[2 * i], truth[2 * i + 1]]
        c += (a * u + b * v) / (Math.hypot(a, b) * Math.hypot(u, v))
      }
      perT.push(`t=${t}: ${(c / n).toFixed(3)}`)
      total += c / n
      expect(c / n, `cosine at t=${t}`).toBeGreaterThan(0.8)
    }
    console.log(`toy-gmm score learning (${trainSeconds.toFixed(1)} s training): mean cosine ${(total / ts.length).toFixed(3)}; ${perT.join(', ')}`)
    expect(total / ts.length).toBeGreaterThan(0.9)
    // withEmaWeights puts the live weights back and leaks nothing.
    expect(Array.from(model.params.get('fc1.weight')!.dataSync())).toEqual(liveBefore)
    expect(tf.memory().numTensors).toBe(tensorsBefore)
    tr.dispose()
    model.dispose()
  })
})
