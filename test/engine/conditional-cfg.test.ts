// Classifier-free guidance (Ho & Salimans 2022): class-conditional networks (`classes` option),
// label dropout in the trainer, and the guided score cfgScore / cfgCombine with every sampler.
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { tf } from '../../src/engine/tf'
import { selectBackend } from '../../src/engine/backend/select'
import { createSde } from '../../src/engine/sde'
import { createModel } from '../../src/engine/nets'
import type { ScoreModel } from '../../src/engine/nets/types'
import { Trainer } from '../../src/engine/train'
import { stepAndRead } from '../helpers/trainer-steps'
import { batchLabels } from '../../src/engine/train/labels'
import { GmmToy } from '../../src/engine/toy'
import { Rng } from '../../src/engine/rng'
import { runSampler } from '../../src/engine/samplers'
import { cfgCombine, cfgScore } from '../../src/engine/samplers/controllable'
import { loadCheckpoint, saveCheckpoint } from '../../src/engine/checkpoint'
import { fastScore } from '../samplers/helpers'

let dir: string
beforeAll(async () => {
  await selectBackend({ force: 'cpu' })
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'score-lab-cfg-'))
})
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }))

const sde = createSde({ name: 'vpsde' })
/** Three well-separated classes (pairwise distance ≥ 3.6, std 0.3): class = nearest mean. */
const gmm = new GmmToy({ means: [[-2, -1.2], [2, -1.2], [0, 2]], stds: [0.3, 0.3, 0.3] })

const models: ScoreModel[] = []
afterEach(() => models.splice(0).forEach((m) => m.dispose()))
const make = (name: string, shape: number[], options: Record<string, unknown>, seed = 3) => {
  const m = createModel(name, { shape, sde, seed, options })
  models.push(m)
  return m
}
const ids = (...v: number[]) => tf.tensor1d(v, 'int32')
const values = (m: ScoreModel, x: tf.Tensor, t: tf.Tensor1D, y?: number[]) => tf.tidy(() => Array.from(m.score(x, t, y && ids(...y)).dataSync()))
/** Runs fn inside tf.tidy, so the label tensors of refused calls are freed too. */
const tidyCall = (fn: () => unknown) => () => tf.tidy(() => void fn())
const share = (x: tf.Tensor, k: number) => gmm.nearestComponent(x.dataSync()).filter((c) => c === k).length / x.shape[0]!

describe('class-conditional networks', () => {
  it('leave unconditional models as they were (weights, outputs, config)', () => {
    // Recorded before `classes` existed: mlp seed 3 on vpsde, and a small scorenet.
    const x = tf.tensor2d([[0.3, -0.2], [1.5, 0.7]])
    const t = tf.tensor1d([0.1, 0.7])
    const mlp = make('mlp', [2], { hidden: 16, layers: 2, embedDim: 8 })
    expect(mlp.classes).toBe(0)
    expect(mlp.numParams()).toBe(1042)
    expect(mlp.config).not.toHaveProperty('classes')
    expect(values(mlp, x, t)).toEqual([0.3509071469306946, 0.49060148000717163, 0.12815989553928375, 0.05934557691216469])
    expect(values(make('mlp', [2], { hidden: 16, layers: 2, embedDim: 8, classes: 0 }), x, t)).toEqual(values(mlp, x, t))
    const small = { channels: [8, 8, 16, 16], groups: [4, 4, 4, 4, 4, 4, 4], embedDim: 16 }
    const net = make('scorenet', [28, 28, 1], small)
    const xi = tf.randomUniform([2, 28, 28, 1], 0, 1, 'float32', 7)
    expect(net.numParams()).toBe(11801)
    expect(tf.tidy(() => tf.sum(net.score(xi, t)).dataSync()[0])).toBe(1313.689453125)
    expect(tidyCall(() => net.score(xi, t, ids(0, 1)))).toThrow(/unconditional/)
    expect(() => make('mlp', [2], { classes: 1 })).toThrow(/at least 2/)
    tf.dispose([x, t, xi])
  })

  const cases: [string, number[], Record<string, unknown>, number][] = [
    ['mlp', [2], { hidden: 16, layers: 2, embedDim: 8 }, 16],
    ['scorenet', [28, 28, 1], {}, 256],
    ['scorenet_color', [32, 32, 3], {}, 256]
  ]
  it.each(cases)('%s with classes: label-dependent scores, null label, range checks, gradients into the table', (name, shape, options, width) => {
    const K = 3
    const base = make(name, shape, options)
    const m = make(name, shape, { ...options, classes: K })
    expect(m.classes).toBe(K)
    expect(m.config.classes).toBe(K)
    expect(m.params.get('label_embed.weight')!.shape).toEqual([K + 1, width])
    expect(m.numParams()).toBe(base.numParams() + (K + 1) * width)
    // The table's spec comes last, so every other weight is the unconditional model's.
    for (const [n, v] of base.params) expect(tf.tidy(() => tf.max(tf.abs(tf.sub(m.params.get(n)!, v))).dataSync()[0]), n).toBe(0)

    const x = tf.randomNormal([2, ...shape], 0, 1, 'float32', 1)
    const t = tf.tensor1d([0.3, 0.3])
    const before = tf.memory().numTensors
    const y = tf.tidy(() => m.score(x, t, ids(0, 0)))
    expect(y.shape).toEqual(x.shape)
    y.dispose()
    const a = values(m, x, t, [0, 0])
    const b = values(m, x, t, [1, 1])
    expect(a).not.toEqual(b)
    expect(values(m, x, t, [K, K])).toEqual(values(m, x, t)) // missing labels = ∅
    expect(tidyCall(() => m.score(x, t, ids(0, K + 1)))).toThrow(/out of range/)
    expect(tidyCall(() => m.score(x, t, ids(-1, 0)))).toThrow(/out of range/)
    expect(tidyCall(() => m.score(x, t, tf.tensor1d([0, 1])))).toThrow(/int32/)
    expect(tidyCall(() => m.score(x, t, ids(0)))).toThrow(/labels must be \[2\]/)
    expect(tf.memory().numTensors).toBe(before)

    // Only the rows of the labels used get a gradient.
    const table = m.params.get('label_embed.weight')!
    const { value, grads } = tf.variableGrads(() => tf.sum(tf.square(m.score(x, t, ids(0, 2)))) as tf.Scalar, [table])
    const rows = tf.tidy(() => Array.from(tf.sum(tf.abs(grads[table.name]!), 1).dataSync()))
    expect(rows[0]).toBeGreaterThan(0)
    expect(rows[2]).toBeGreaterThan(0)
    expect(rows[1]).toBe(0)
    expect(rows[K]).toBe(0)
    tf.dispose([value, ...Object.values(grads), x, t])
  })
})

describe('training with label dropout', () => {
  it('drops each label to ∅ with probability p, reproducibly from the Rng', () => {
    const labels = new Int32Array(20_000).map((_, i) => i % 3)
    const a = batchLabels(labels, 3, labels.length, 0.1, new Rng(1))!
    const nulls = a.filter((y) => y === 3).length / a.length
    expect(nulls).toBeGreaterThan(0.09)
    expect(nulls).toBeLessThan(0.11)
    a.forEach((y, i) => y !== 3 && expect(y).toBe(labels[i]))
    expect(batchLabels(labels, 3, labels.length, 0.1, new Rng(1))).toEqual(a)
    expect(batchLabels(labels, 3, labels.length, 0, new Rng(1))).toEqual(labels)
  })

  function conditionalTrainer(config: Record<string, unknown> = {}) {
    const model = createModel('mlp', { shape: [2], sde, seed: 1, options: { hidden: 16, layers: 1, embedDim: 8, classes: 3 } })
    return new Trainer({ model, sde, config: { lr: 1e-3, seed: 5, ...config } })
  }
  const batches = (n: number) => {
    const rng = new Rng(2)
    return Array.from({ length: n }, () => gmm.sampleWithLabels(16, rng))
  }

  it('checks labels, keeps numTensors flat, and a checkpoint keeps classes and resumes bit for bit', async () => {
    const tr = conditionalTrainer({ emaDecay: 0.99 })
    expect(tr.config.labelDropout).toBe(0.1)
    const data = batches(61)
    const x = data.map((d) => tf.tensor2d(d.x, [16, 2]))
    expect(() => tr.step(x[0]!)).toThrow(/class-conditional .* needs one label per sample/)
    expect(() => tr.step(x[0]!, data[0]!.labels.slice(1))).toThrow(/15 labels for a batch of 16/)
    expect(() => tr.step(x[0]!, new Int32Array(16).fill(3))).toThrow(/not a class id/)
    let at10 = 0
    for (let i = 0; i < 59; i++) {
      const labels = i % 2 ? data[i]!.labels : Array.from(data[i]!.labels) // any ArrayLike
      await stepAndRead(tr, x[i]!, labels)
      if (i === 9) at10 = tf.memory().numTensors
    }
    expect(tf.memory().numTensors).toBe(at10)

    const file = path.join(dir, 'cond.safetensors')
    await saveCheckpoint(file, tr)
    const next = await stepAndRead(tr, x[59]!, data[59]!.labels)
    const back = Trainer.fromState(await loadCheckpoint(file))
    expect(back.model.classes).toBe(3)
    expect(back.model.config.classes).toBe(3)
    expect(back.config.labelDropout).toBe(0.1)
    expect((await stepAndRead(back, x[59]!, data[59]!.labels)).loss).toBe(next.loss)

    const plain = new Trainer({ model: createModel('mlp', { shape: [2], sde, seed: 1, options: { hidden: 16, layers: 1, embedDim: 8 } }), sde })
    expect(plain.config).not.toHaveProperty('labelDropout')
    expect(() => plain.step(x[0]!, data[0]!.labels)).toThrow(/unconditional/)
    for (const t of [tr, back, plain]) {
      t.dispose()
      t.model.dispose()
    }
    tf.dispose(x)
  })

  it('the dropout rate changes the losses; the same seed repeats them', async () => {
    const losses = async (p: number) => {
      const tr = conditionalTrainer({ labelDropout: p })
      for (const d of batches(5)) {
        const x = tf.tensor2d(d.x, [16, 2])
        tr.step(x, d.labels)
        x.dispose()
      }
      const out = (await tr.readPending()).map((m) => m.loss)
      tr.dispose()
      tr.model.dispose()
      return out
    }
    expect(await losses(0.5)).toEqual(await losses(0.5))
    expect(await losses(0.5)).not.toEqual(await losses(0))
  })
})

describe('cfgScore / cfgCombine', () => {
  it('cfgScore = (1 + w)·s(x, t, y) − w·s(x, t, ∅), validated', () => {
    const m = make('mlp', [2], { hidden: 16, layers: 2, embedDim: 8, classes: 3 })
    const x = tf.randomNormal([4, 2], 0, 1, 'float32', 2)
    const t = tf.tensor1d([0.2, 0.4, 0.6, 0.8])
    const cond = values(m, x, t, [1, 1, 1, 1])
    const uncond = values(m, x, t)
    const before = tf.memory().numTensors
    const guided = tf.tidy(() => Array.from(cfgScore(m, 1, 2)(x, t).dataSync()))
    guided.forEach((v, i) => expect(v).toBeCloseTo(3 * cond[i]! - 2 * uncond[i]!, 4))
    expect(tf.tidy(() => Array.from(cfgScore(m, 1, 0)(x, t).dataSync()))).toEqual(cond)
    // Per-sample labels: row 1 is guided towards class 1; row 3 has ∅, where guidance cancels out.
    const perSample = tf.tidy(() => Array.from(cfgScore(m, [0, 1, 2, 3], 2)(x, t).dataSync()))
    for (const i of [2, 3]) expect(perSample[i]).toBeCloseTo(guided[i]!, 4)
    for (const i of [6, 7]) expect(perSample[i]).toBeCloseTo(uncond[i]!, 4)
    expect(tf.memory().numTensors).toBe(before)
    expect(() => cfgScore(m, 1, -1)).toThrow(/≥ 0/)
    expect(() => cfgScore(m, 1, NaN)).toThrow(/finite/)
    expect(() => cfgScore(m, 4, 1)).toThrow(/out of range/)
    expect(() => cfgScore(m, 0.5, 1)).toThrow(/out of range/)
    expect(() => cfgScore(m, [0, 1], 1)(x, t)).toThrow(/2 class labels for a batch of 4/)
    expect(() => cfgScore(make('mlp', [2], {}), 0, 1)).toThrow(/not class-conditional/)
    expect(() => cfgCombine(fastScore(gmm, sde), fastScore(gmm, sde), Infinity)).toThrow(/finite/)
    tf.dispose([x, t])
  })

  // Exact scores: s(x, t, k) of component k alone, s(x, t, ∅) of the whole mixture.
  const QUICK: Record<string, Record<string, unknown>> = {
    euler_maruyama: { n: 100 },
    pc: { n: 50 },
    ode: {},
    ddim: { n: 20 },
    heun: { n: 15 },
    dpmpp_2m: { n: 20 },
    dpmpp_3m_sde: { n: 20 },
    adaptive_sde: { rtol: 0.05 }
  }
  it.each(Object.keys(QUICK))('%s samples the requested component with the exact guided score (w = 0, 2)', async (name) => {
    const uncond = fastScore(gmm, sde)
    for (const [k, w] of [[2, 0], [0, 2]] as const) {
      const score = cfgCombine(fastScore(gmm.component(k), sde), uncond, w)
      const r = await runSampler(name, score, sde, { batchSize: 200, seed: 11, ...QUICK[name] }, { shape: [2] })
      const rate = share(r.samples, k)
      r.samples.dispose()
      expect(rate, `${name} w=${w} class ${k}`).toBeGreaterThan(0.95)
    }
  })
})

describe('learning', () => {
  it('a conditional mlp trained with label dropout samples the requested class under cfgScore (w = 1)', async () => {
    const model = make('mlp', [2], { hidden: 32, layers: 2, embedDim: 16, classes: 3 }, 1)
    const tr = new Trainer({ model, sde, config: { lr: 3e-3, seed: 3, warmup: 50, labelDropout: 0.1 } })
    const rng = new Rng(2)
    const start = performance.now()
    let loss = 0
    for (let i = 0; i < 600; i++) {
      const { x, labels } = gmm.sampleWithLabels(64, rng)
      const b = tf.tensor2d(x, [64, 2])
      tr.step(b, labels)
      b.dispose()
    }
    loss = (await tr.readPending()).slice(500).reduce((s, m) => s + m.loss / 100, 0)
    const trainS = (performance.now() - start) / 1000
    tr.dispose()
    const rates: Record<string, number> = {}
    for (const [sampler, label] of [['euler_maruyama', 0], ['euler_maruyama', 2], ['ode', 1]] as const) {
      const r = await runSampler(sampler, cfgScore(model, label, 1), sde, { batchSize: 300, seed: 7, ...(sampler === 'ode' ? {} : { n: 100 }) }, { shape: [2] })
      rates[`${sampler} y=${label}`] = share(r.samples, label)
      r.samples.dispose()
    }
    // The null label alone (w = 0) samples the whole mixture: dropout taught s(x, t, ∅).
    const r = await runSampler('euler_maruyama', cfgScore(model, 3, 0), sde, { batchSize: 300, seed: 7, n: 100 }, { shape: [2] })
    const prior = [0, 1, 2].map((k) => share(r.samples, k))
    r.samples.dispose()
    console.log(`cfg learning: 600 steps in ${trainS.toFixed(1)} s, final loss ${loss.toFixed(3)}; share of the requested class at w = 1:`, rates, '; null label shares:', prior)
    for (const [key, rate] of Object.entries(rates)) expect(rate, key).toBeGreaterThan(0.8)
    for (const p of prior) expect(p).toBeGreaterThan(0.15)
  })
})
