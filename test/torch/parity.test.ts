// Parity of the exported PyTorch package with the lab: for the same weights, batch, times t and
// noise z (written by the lab, read by the package), the package's loss and gradients equal the
// engine's (dsmLoss under tf.variableGrads, as the Trainer computes them), and its update (warm-up,
// clipping, Adam, EMA) applied to the lab's gradients equals the engine's Adam/Ema/clip. Tiny
// ScoreNets (the full one only costs time); the conditional net and three SDE/weighting/reduction
// recipes are covered. Runs the package with a Python that has torch; skips, saying why, without one.
import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { tf } from '../../src/engine/tf'
import { selectBackend } from '../../src/engine/backend/select'
import { createModel } from '../../src/engine/nets'
import { layoutPermutation } from '../../src/engine/nets/layers'
import type { TorchCompatibleModel } from '../../src/engine/nets/types'
import { createSde } from '../../src/engine/sde'
import { dsmLoss } from '../../src/engine/loss'
import { Rng } from '../../src/engine/rng'
import { Adam, clipFactor, Ema, globalNorm, Trainer, warmupLr, type TrainerConfigInput, type TrainerState } from '../../src/engine/train'
import { saveCheckpoint } from '../../src/engine/checkpoint/checkpoint'
import { decodeSafetensors, encodeSafetensors, type SafeTensor } from '../../src/engine/io/safetensors'
import { buildRecipe } from '../../src/lab/torch-export/recipe'
import { torchPackageSources } from '../../src/lab/torch-export/export'
import type { RunSummary, TrainConfig } from '../../src/shared/contract'
import { tempDir } from '../helpers/service'
import { findTorchPython } from '../helpers/torch-python'

const torch = findTorchPython()
const DRIVER = path.join(import.meta.dirname, 'parity_driver.py')
const TOL = 1e-5
const B = 6
const SHAPE = [28, 28, 1]
const TINY = { channels: [8, 16, 16, 16], embedDim: 32, groups: [2, 4, 4, 4, 4, 4, 2] }

interface Case {
  name: string
  sde: { name: string } & Record<string, unknown>
  train: TrainerConfigInput
  classes: number
}

const CASES: Case[] = [
  { name: 'tutorial VE, λ = σ², sum over pixels, unconditional', sde: { name: 'vesde_tutorial' }, train: { weighting: 'std2', reduction: 'sum', warmup: 5, gradClip: 1, emaDecay: 0.999 }, classes: 0 },
  { name: 'VP, likelihood weighting, mean, class-conditional (null labels too)', sde: { name: 'vpsde', betaMin: 0.1, betaMax: 20 }, train: { weighting: 'likelihood', reduction: 'mean', lossEps: 1e-3, gradClip: 0, emaDecay: 0.9999, labelDropout: 0.2 }, classes: 10 },
  { name: 'sub-VP, vp_exp weighting, sum, no EMA', sde: { name: 'subvpsde' }, train: { weighting: 'vp_exp', reduction: 'sum', warmup: 0, gradClip: 50, emaDecay: null }, classes: 0 },
  { name: 'VE (score_sde), uniform weighting, sum', sde: { name: 'vesde', sigmaMax: 20 }, train: { weighting: 'uniform', reduction: 'sum', lr: 3e-4 }, classes: 3 }
]

const report: string[] = []
afterAll(() => console.log(`PyTorch package parity (${torch.python ?? 'no torch'}):\n  ${report.join('\n  ')}`))

beforeAll(async () => {
  await selectBackend({ force: 'cpu' })
})

/** Relative L2 error of `a` against `ref`. */
function relErr(a: Float32Array, ref: Float32Array): number {
  let num = 0
  let den = 0
  for (let i = 0; i < ref.length; i++) {
    num += (a[i]! - ref[i]!) ** 2
    den += ref[i]! ** 2
  }
  return den === 0 ? Math.sqrt(num) : Math.sqrt(num / den)
}

const f32 = (t: SafeTensor) => t.data as Float32Array

function writePackage(dir: string, trainerState: TrainerState) {
  for (const f of fs.readdirSync(torchPackageSources())) fs.copyFileSync(path.join(torchPackageSources(), f), path.join(dir, f))
  const run = { id: 'parity', name: 'parity', config: { dataset: 'fashion-mnist' } as TrainConfig } as RunSummary
  fs.writeFileSync(path.join(dir, 'recipe.json'), JSON.stringify(buildRecipe({ run, packageRun: run, state: trainerState, startTrainMs: 0, startCheckpoint: 'start.safetensors' })))
}

describe.skipIf(!torch.python)(`exported PyTorch package against the engine${torch.python ? '' : ` (skipped: ${torch.reason})`}`, () => {
  for (const c of CASES) {
    it(`loss, gradients and one update agree within ${TOL}: ${c.name}`, async () => {
      const dir = tempDir('score-lab-parity-')
      const io = path.join(dir, 'io')
      fs.mkdirSync(io)
      const sde = createSde(c.sde)
      const model = createModel('scorenet', { shape: SHAPE, sde, seed: 7, options: { ...TINY, classes: c.classes } }) as TorchCompatibleModel
      const trainer = new Trainer({ model, sde, config: { lr: 1e-3, seed: 3, ...c.train }, dataShape: SHAPE })
      const dataRng = new Rng(11)
      const batch = () => tf.tensor4d(Float32Array.from({ length: B * 784 }, () => dataRng.float()), [B, ...SHAPE] as [number, number, number, number])
      const labels = () => Array.from({ length: B }, () => dataRng.int(c.classes))
      // Two real steps first: Adam moments, EMA and warm-up are then past their start.
      for (let i = 0; i < 2; i++) {
        const x = batch()
        trainer.step(x, c.classes ? labels() : undefined)
        x.dispose()
      }
      await trainer.readPending() // exportState refuses unread steps
      const state = await trainer.exportState()
      await saveCheckpoint(path.join(dir, 'start.safetensors'), state)
      writePackage(dir, state)

      // The batch, fixed times (spanning [eps, 1]) and the noise dsmLoss draws from its Rng.
      const x = batch()
      const t = tf.tensor1d([1e-3, 0.02, 0.2, 0.5, 0.8, 1])
      const y = c.classes ? Int32Array.from([0, 1, c.classes, 2, c.classes, 1]) : null // ∅ = K too
      const rng = new Rng(99)
      const probe = new Rng(rng.getState())
      probe.nextSeed() // t's seed (unused with fixed t), then z's
      const z = tf.randomNormal(x.shape, 0, 1, 'float32', probe.nextSeed())
      const cfg = trainer.config
      const scoreFn = y ? (xt: tf.Tensor, tt: tf.Tensor1D) => model.score(xt, tt, tf.tensor1d(y, 'int32')) : (xt: tf.Tensor, tt: tf.Tensor1D) => model.score(xt, tt)
      const names = [...model.params.keys()]
      const vars = names.map((n) => model.params.get(n)!)
      const { value, grads } = tf.variableGrads(() => dsmLoss(scoreFn, sde, x, rng, { t, eps: cfg.lossEps, weighting: cfg.weighting, reduction: cfg.reduction }).loss, vars)
      const labLoss = value.dataSync()[0]!
      const labGrads: Record<string, tf.Tensor> = {}
      names.forEach((n, i) => (labGrads[n] = grads[vars[i]!.name]!))

      // NHWC with one channel is NCHW's memory order.
      fs.writeFileSync(path.join(io, 'x.bin'), x.dataSync() as Float32Array)
      fs.writeFileSync(path.join(io, 't.bin'), t.dataSync() as Float32Array)
      fs.writeFileSync(path.join(io, 'z.bin'), z.dataSync() as Float32Array)
      if (y) fs.writeFileSync(path.join(io, 'y.bin'), y)
      fs.writeFileSync(path.join(io, 'inputs.json'), JSON.stringify({ xShape: [B, 1, 28, 28], labels: Boolean(y) }))
      const gradTensors: Record<string, SafeTensor> = {}
      for (const n of names) gradTensors[n] = { dtype: 'F32', shape: [...labGrads[n]!.shape], data: labGrads[n]!.dataSync() as Float32Array }
      fs.writeFileSync(path.join(io, 'lab_grads.safetensors'), encodeSafetensors(gradTensors))

      const r = spawnSync(torch.python!, [DRIVER, dir, io], { encoding: 'utf8', timeout: 120_000 })
      expect(r.status, r.stderr).toBe(0)
      const tg = decodeSafetensors(new Uint8Array(fs.readFileSync(path.join(io, 'torch_grads.safetensors'))))
      const torchLoss = Number(tg.metadata.loss)
      const lossErr = Math.abs(torchLoss - labLoss) / Math.abs(labLoss)
      // Per tensor, relative to its own norm; a tensor whose true gradient is 0 (a per-channel bias
      // normalised away) is compared against the whole gradient's norm instead.
      const total = Math.sqrt(names.reduce((a, n) => a + (tf.sum(tf.square(labGrads[n]!)).dataSync()[0] ?? 0), 0))
      let worst = 0
      let worstName = ''
      let allNum = 0
      for (const n of names) {
        const lab = labGrads[n]!.dataSync() as Float32Array
        const pt = f32(tg.tensors[n]!)
        expect(tg.tensors[n]!.shape, n).toEqual(labGrads[n]!.shape)
        const norm = Math.sqrt(lab.reduce((a, v) => a + v * v, 0))
        const diff = Math.sqrt(lab.reduce((a, v, i) => a + (v - pt[i]!) ** 2, 0))
        allNum += diff * diff
        const err = norm < 1e-6 * total ? diff / total : diff / norm
        if (err > worst) [worst, worstName] = [err, n]
      }
      const overall = Math.sqrt(allNum) / total

      // One update on the lab's own gradients: the engine's pieces in the Trainer's order.
      const step = state.step
      const adam = new Adam(model.params, { beta1: cfg.beta1, beta2: cfg.beta2, eps: cfg.adamEps })
      adam.setState(state.optim)
      const ema = cfg.emaDecay === null ? null : new Ema(model.params, cfg.emaDecay)
      if (ema) ema.setState(state.ema!)
      const norm = globalNorm(Object.values(labGrads)).dataSync()[0]!
      const k = clipFactor(norm, cfg.gradClip)
      const clipped = Object.fromEntries(names.map((n) => [n, k < 1 ? tf.mul(labGrads[n]!, k) : labGrads[n]!]))
      adam.apply(clipped, warmupLr(cfg.lr, cfg.warmup, step))
      ema?.update()
      const after = { ...Object.fromEntries(names.map((n) => [n, model.params.get(n)!.dataSync() as Float32Array])) } as Record<string, Float32Array>
      const st = await adam.getState()
      for (const n of names) {
        after[`optim.m.${n}`] = st.m[n]!.data
        after[`optim.v.${n}`] = st.v[n]!.data
      }
      if (ema) for (const [n, a] of Object.entries((await ema.getState()).shadow)) after[`ema.${n}`] = a.data
      const tu = decodeSafetensors(new Uint8Array(fs.readFileSync(path.join(io, 'torch_update.safetensors'))))
      expect(Object.keys(tu.tensors).sort()).toEqual(Object.keys(after).sort())
      let worstUpdate = 0
      let worstUpdateName = ''
      for (const [n, a] of Object.entries(after)) {
        const e = relErr(f32(tu.tensors[n]!), a)
        if (e > worstUpdate) [worstUpdate, worstUpdateName] = [e, n]
      }
      report.push(
        `${c.name}: loss ${labLoss.toPrecision(7)} vs ${torchLoss.toPrecision(7)} (rel ${lossErr.toExponential(2)}); gradients: overall rel L2 ${overall.toExponential(2)}, ` +
          `worst tensor ${worst.toExponential(2)} (${worstName}); update: worst ${worstUpdate.toExponential(2)} (${worstUpdateName}), grad norm ${norm.toPrecision(6)} vs ${Number(tu.metadata.norm).toPrecision(6)}`
      )
      expect(lossErr).toBeLessThan(TOL)
      expect(overall).toBeLessThan(TOL)
      expect(worst).toBeLessThan(TOL)
      expect(Math.abs(Number(tu.metadata.norm) - norm) / norm).toBeLessThan(TOL)
      expect(Number(tu.metadata.adam_step)).toBe(step + 1)
      expect(worstUpdate).toBeLessThan(TOL)
      tf.dispose([x, t, z, value, ...Object.values(grads), ...Object.values(clipped)])
      adam.dispose()
      ema?.dispose()
      trainer.dispose()
      model.dispose()
      fs.rmSync(dir, { recursive: true, force: true })
    })
  }

  it('the layout mapping the package uses is the engine\'s (a conv weight round-trips through both)', () => {
    // lab_format.py's lab_to_torch permutes conv weights (3, 2, 0, 1) and torch_to_lab (2, 3, 1, 0).
    expect(layoutPermutation('conv2d', 'toTorch')).toEqual([3, 2, 0, 1])
    expect(layoutPermutation('conv_transpose2d', 'fromTorch')).toEqual([2, 3, 1, 0])
    expect(layoutPermutation('linear', 'toTorch')).toEqual([1, 0])
  })
})
