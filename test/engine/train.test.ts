import { beforeAll, describe, expect, it } from 'vitest'
import { tf } from '../../src/engine/tf'
import { selectBackend } from '../../src/engine/backend/select'
import { createSde } from '../../src/engine/sde'
import { createModel } from '../../src/engine/nets'
import { Adam, clipFactor, Ema, NonFiniteLossError, Trainer, warmupLr, type TrainerConfigInput } from '../../src/engine/train'
import { GmmToy } from '../../src/engine/toy'
import { Rng } from '../../src/engine/rng'

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

function run(trainer: Trainer, steps: number, n = 16, dataSeed = 2) {
  const rng = new Rng(dataSeed)
  const out = []
  for (let i = 0; i < steps; i++) {
    const b = batchOf(n, rng)
    out.push(trainer.step(b))
    b.dispose()
  }
  return out
}

describe('optimiser pieces', () => {
  it('Adam matches the PyTorch update (first step moves each weight by lr·sign(g))', () => {
    const p = tf.variable(tf.tensor1d([1, -2]))
    const adam = new Adam(new Map([['p', p]]))
    const g = tf.tensor1d([2, -0.5])
    adam.apply({ p: g }, 0.01)
    const v = p.dataSync()
    expect(v[0]).toBeCloseTo(0.99, 6)
    expect(v[1]).toBeCloseTo(-1.99, 6)
    expect(adam.getState().step).toBe(1)
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
  })
})

describe('Trainer', () => {
  it('reports metrics; the same seed gives the same losses, another seed other losses', () => {
    const a = tinyTrainer({ warmup: 4, gradClip: 1, emaDecay: 0.999 })
    const b = tinyTrainer({ warmup: 4, gradClip: 1, emaDecay: 0.999 })
    const c = tinyTrainer({ warmup: 4, gradClip: 1, emaDecay: 0.999, seed: 6 })
    const ma = run(a, 5)
    const mb = run(b, 5)
    const mc = run(c, 5)
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

  it('leaks no tensors: tf.memory().numTensors is the same after step 10 and step 200', () => {
    const tr = tinyTrainer({ emaDecay: 0.99, gradClip: 1, warmup: 5 }, 'vesde_tutorial', { hidden: 8, layers: 1, embedDim: 4 })
    const rng = new Rng(1)
    let at10 = -1
    for (let i = 1; i <= 200; i++) {
      const b = batchOf(8, rng)
      tr.step(b)
      b.dispose()
      if (i === 10) at10 = tf.memory().numTensors
    }
    expect(tf.memory().numTensors).toBe(at10)
    tr.dispose()
    tr.model.dispose()
  })

  it('throws NonFiniteLossError before updating when the loss is NaN, leaving weights and tensors as they were', () => {
    const tr = tinyTrainer({ emaDecay: 0.99 })
    run(tr, 2)
    const before = new Map([...tr.model.params].map(([n, v]) => [n, Array.from(v.dataSync())]))
    const count = tf.memory().numTensors
    const bad = tf.tensor2d([[NaN, 0], [1, 1]])
    expect(() => tr.step(bad)).toThrow(NonFiniteLossError)
    expect(() => tr.step(bad)).toThrow(/diverged at step 3/)
    bad.dispose()
    expect(tf.memory().numTensors).toBe(count)
    expect(tr.stepCount).toBe(2)
    for (const [n, v] of tr.model.params) expect(Array.from(v.dataSync())).toEqual(before.get(n))
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
