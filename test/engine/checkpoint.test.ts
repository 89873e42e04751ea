import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { tf } from '../../src/engine/tf'
import { selectBackend } from '../../src/engine/backend/select'
import { createSde } from '../../src/engine/sde'
import { createModel } from '../../src/engine/nets'
import { Trainer } from '../../src/engine/train'
import { GmmToy } from '../../src/engine/toy'
import { Rng } from '../../src/engine/rng'
import { stepAndRead } from '../helpers/trainer-steps'
import { CheckpointError, loadCheckpoint, saveCheckpoint } from '../../src/engine/checkpoint'
import { decodeSafetensors, encodeSafetensors } from '../../src/engine/io/safetensors'

let dir: string
beforeAll(async () => {
  await selectBackend({ force: 'cpu' })
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'score-lab-ckpt-'))
})
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }))

const gmm = new GmmToy()

function makeTrainer() {
  const sde = createSde({ name: 'vesde_tutorial' })
  const model = createModel('mlp', { shape: [2], sde, seed: 4, options: { hidden: 16, layers: 2, embedDim: 8 } })
  return new Trainer({ model, sde, config: { lr: 1e-3, seed: 9, warmup: 3, gradClip: 1, emaDecay: 0.999, batchSize: 16 } })
}

const weights = (t: Trainer) => [...t.model.params].map(([n, v]) => [n, Array.from(v.dataSync())] as const)

describe('checkpoints', () => {
  it('save → load → resume reproduces the next step bit for bit (loss, weights, EMA)', async () => {
    const data = new Rng(1)
    const batches = Array.from({ length: 5 }, () => tf.tensor2d(gmm.sample(16, data), [16, 2]))
    const a = makeTrainer()
    for (let i = 0; i < 4; i++) a.step(batches[i])
    await a.readPending()
    const file = path.join(dir, 'run.safetensors')
    await saveCheckpoint(file, a)
    expect(fs.readdirSync(dir)).toEqual(['run.safetensors']) // no temp file left behind
    const next = await stepAndRead(a, batches[4]!)

    const b = Trainer.fromState(await loadCheckpoint(file))
    expect(b.stepCount).toBe(4)
    const resumed = await stepAndRead(b, batches[4]!)
    expect(Object.is(resumed.loss, next.loss)).toBe(true)
    expect(resumed.gradNorm).toBe(next.gradNorm)
    expect(resumed.bucketLoss).toEqual(next.bucketLoss)
    expect(resumed.lr).toBe(next.lr)
    expect(weights(b)).toEqual(weights(a))
    expect([...b.samplingParams()].map(([n, v]) => Array.from(v.dataSync()))).toEqual([...a.samplingParams()].map(([n, v]) => Array.from(v.dataSync())))
    for (const t of [a, b]) {
      t.dispose()
      t.model.dispose()
    }
    tf.dispose(batches)
  })

  it('stores documented tensor names and the config in the safetensors metadata', async () => {
    const a = makeTrainer()
    const b = tf.tensor2d(gmm.sample(16, new Rng(2)), [16, 2])
    await stepAndRead(a, b)
    const file = path.join(dir, 'names.safetensors')
    await saveCheckpoint(file, a)
    const { tensors, metadata } = decodeSafetensors(new Uint8Array(fs.readFileSync(file)))
    for (const n of ['fc0.weight', 'embed.W', 'ema.fc0.weight', 'optim.m.fc0.weight', 'optim.v.out.bias']) expect(tensors).toHaveProperty([n])
    expect(tensors).not.toHaveProperty(['ema.embed.W']) // buffers are not trained, so no EMA/Adam state
    expect(metadata.format).toBe('score-lab.checkpoint')
    const config = JSON.parse(metadata.config)
    expect(config.model.name).toBe('mlp')
    expect(config.sde).toEqual({ name: 'vesde_tutorial', sigma: 25, N: 500 })
    expect(config.train.emaDecay).toBe(0.999)
    expect(metadata.step).toBe('1')
    a.dispose()
    a.model.dispose()
    b.dispose()
  })

  it('refuses truncated, foreign and non-safetensors files with an error naming the file', async () => {
    const a = makeTrainer()
    await stepAndRead(a, tf.tidy(() => tf.tensor2d(gmm.sample(16, new Rng(3)), [16, 2])))
    const good = path.join(dir, 'good.safetensors')
    await saveCheckpoint(good, a)
    const bytes = fs.readFileSync(good)

    const truncated = path.join(dir, 'truncated.safetensors')
    fs.writeFileSync(truncated, bytes.subarray(0, Math.floor(bytes.length * 0.6)))
    await expect(loadCheckpoint(truncated)).rejects.toThrow(CheckpointError)
    await expect(loadCheckpoint(truncated)).rejects.toThrow(new RegExp(`${truncated}.*truncated`))

    const foreign = path.join(dir, 'foreign.safetensors')
    fs.writeFileSync(foreign, encodeSafetensors({ 'conv1.weight': { dtype: 'F32', shape: [2], data: new Float32Array(2) } }, { format: 'pt' }))
    await expect(loadCheckpoint(foreign)).rejects.toThrow(new RegExp(`${foreign}: not a Score Lab checkpoint`))

    const junk = path.join(dir, 'notes.txt')
    fs.writeFileSync(junk, 'hello, this is not a checkpoint at all')
    await expect(loadCheckpoint(junk)).rejects.toThrow(new RegExp(junk))

    await expect(loadCheckpoint(path.join(dir, 'missing.safetensors'))).rejects.toThrow(/cannot read checkpoint .*missing\.safetensors/)
    a.dispose()
    a.model.dispose()
  })
})
