// What a user does on the WebGPU backend, end to end, with no synchronous read anywhere (tfjs-
// webgpu's dataSync needs an OffscreenCanvas, which Node lacks): (a) a class-conditional MLP
// trains a few steps, exports its state, goes through a checkpoint's bytes, resumes and steps on;
// then samples with classifier-free guidance and inpaints (a mask check) — each compared with the
// same on cpu; (b) a real lab training job (runTrainJob in the child, with a preview) writes
// checkpoints and metrics, and a resumed job continues from its checkpoint.
//
// One child process on the machine's adapter, else SwiftShader (helpers/webgpu-child.ts).
import { describe, expect, test } from 'vitest'
import { runOnWebgpu, WEBGPU_CHILD_PRELUDE } from '../helpers/webgpu-child'

const B = 4
const STEPS = 3

const CHILD =
  WEBGPU_CHILD_PRELUDE +
  `
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { createModel } from './src/engine/nets/index.ts'
import { createSde } from './src/engine/sde/index.ts'
import { Trainer } from './src/engine/train/index.ts'
import { Rng } from './src/engine/rng.ts'
import { createToy } from './src/engine/toy/index.ts'
import { encodeCheckpoint, decodeCheckpoint } from './src/engine/checkpoint/index.ts'
import { runSampler } from './src/engine/samplers/index.ts'
import { cfgScore } from './src/engine/samplers/controllable/cfg.ts'
import { sampleInpaint } from './src/engine/samplers/controllable/inpaint.ts'
import { runTrainJob } from './src/lab/worker/train-job.ts'
import { runPaths } from './src/lab/runs/run-layout.ts'
import { readMetrics } from './src/lab/runs/metrics-log.ts'
import { PRESETS } from './src/lab/catalog.ts'
const out = { device: backendInfo.device }

const gmm = createToy('toy-gmm')
const dataRng = new Rng(5)
const batches = Array.from({ length: ${STEPS} + 1 }, () => gmm.sampleWithLabels(${B}, dataRng))
const sum = (a) => a.reduce((s, v) => s + v, 0)

async function engine(backend) {
  await tf.setBackend(backend)
  const sde = createSde({ name: 'vesde', sigmaMin: 0.05, sigmaMax: 3 })
  const model = createModel('mlp', { shape: [2], sde, seed: 2, options: { hidden: 16, layers: 2, embedDim: 8, classes: gmm.componentCount } })
  const trainer = new Trainer({ model, sde, config: { lr: 2e-3, seed: 4, emaDecay: 0.99, gradClip: 1, warmup: 2 } })
  const step = (tr, b) => {
    const x = tf.tensor2d(b.x, [${B}, 2])
    tr.step(x, b.labels)
    x.dispose()
  }
  for (const b of batches.slice(0, ${STEPS})) step(trainer, b)
  const losses = (await trainer.readPending()).map((m) => m.loss)
  // The premise: a weight the steps wrote lives on the device, where a synchronous read fails.
  let syncRead = 'ok'
  try { model.params.values().next().value.dataSync() } catch (e) { syncRead = String(e.message ?? e) }
  const state = await trainer.exportState()
  const resumed = Trainer.fromState(decodeCheckpoint(encodeCheckpoint(state)))
  for (const tr of [trainer, resumed]) step(tr, batches[${STEPS}])
  const [next] = await trainer.readPending()
  const [nextResumed] = await resumed.readPending()
  const again = await resumed.exportState()
  const weights = Object.values(again.params).flatMap((p) => Array.from(p.data))
  const moments = Object.values(again.optim.v).flatMap((p) => Array.from(p.data))
  const shadows = Object.values(again.ema.shadow).flatMap((p) => Array.from(p.data))
  // Sampling with the resumed weights: guided (labels built per call) and inpainting (a mask read).
  const guided = await runSampler('euler_maruyama', cfgScore(resumed.model, [0, 1, 2, 3], 1), sde, { batchSize: 4, seed: 0, n: 5 }, { shape: [2] })
  const samples = Array.from(await guided.samples.data())
  guided.samples.dispose()
  const inpaint = await sampleInpaint((x, t) => resumed.model.score(x, t), sde, { shape: [2], batchSize: 4, seed: 1, n: 5, reference: new Float32Array([0.5, -0.5]), mask: new Float32Array([1, 0]) })
  const inpainted = Array.from(await inpaint.samples.data())
  inpaint.samples.dispose()
  let badMask = ''
  try {
    await sampleInpaint((x, t) => resumed.model.score(x, t), sde, { shape: [2], batchSize: 4, seed: 1, n: 2, reference: new Float32Array([0.5, -0.5]), mask: new Float32Array([0.5, 0]) })
  } catch (e) { badMask = e.message }
  for (const tr of [trainer, resumed]) { tr.dispose(); tr.model.dispose() }
  return { losses, syncRead, stateStep: state.step, next: next.loss, nextResumed: nextResumed.loss, resumedStep: again.step, weights: sum(weights), moments: sum(moments), shadows: sum(shadows), samples, inpainted, badMask }
}
out.webgpu = await engine('webgpu')
out.cpu = await engine('cpu')
await tf.setBackend('webgpu')

// (b) The lab's training job on webgpu: a conditional toy run with a checkpoint, a preview, a resume.
const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'score-lab-webgpu-e2e-'))
const config = { ...PRESETS.find((p) => p.name === 'toy-quick').config, conditional: true, steps: 8, batchSize: 16, checkpointEvery: 4, previewEvery: 8, keepLast: 10, keepBest: false }
const control = { isPaused: () => false, gate: async () => {}, stopRequested: () => false, cancelRequested: () => false }
const job = async (steps, resume) => {
  const msgs = []
  await runTrainJob({ kind: 'train', jobId: 'j', runId: 'r', dataDir, config: { ...config, steps }, resume, backend: 'webgpu' }, (m) => msgs.push(m), control)
  return msgs
}
const summary = (msgs) => ({
  backend: msgs.find((m) => m.type === 'backend')?.name,
  failed: msgs.filter((m) => m.type === 'failed').map((m) => m.error),
  done: msgs.find((m) => m.type === 'done')?.outcome ?? null,
  checkpoints: msgs.filter((m) => m.type === 'checkpoint').map((m) => m.checkpoint.step),
  previews: msgs.filter((m) => m.type === 'preview').map((m) => m.step),
  logs: msgs.filter((m) => m.type === 'log').map((m) => m.message)
})
out.job = summary(await job(8, false))
out.resumedJob = summary(await job(10, true))
const paths = runPaths(dataDir, 'r')
out.checkpointFiles = fs.readdirSync(paths.checkpoints).filter((f) => f.endsWith('.safetensors')).sort()
out.metricSteps = readMetrics(paths.metrics).map((m) => m.step)
out.finiteLosses = readMetrics(paths.metrics).every((m) => Number.isFinite(m.loss))
fs.rmSync(dataDir, { recursive: true, force: true })
console.log('RESULT ' + JSON.stringify(out))
process.exit(0)
`

interface Engine {
  losses: number[]
  syncRead: string
  stateStep: number
  next: number
  nextResumed: number
  resumedStep: number
  weights: number
  moments: number
  shadows: number
  samples: number[]
  inpainted: number[]
  badMask: string
}
interface JobSummary {
  backend: string | undefined
  failed: string[]
  done: string | null
  checkpoints: number[]
  previews: number[]
  logs: string[]
}
interface ChildResult {
  device: string
  webgpu: Engine
  cpu: Engine
  job: JobSummary
  resumedJob: JobSummary
  checkpointFiles: string[]
  metricSteps: number[]
  finiteLosses: boolean
}

const close = (a: number, b: number, rel: number) => Math.abs(a - b) <= rel * Math.max(Math.abs(a), Math.abs(b), 1e-3)

describe('training and sampling on webgpu with no synchronous read', () => {
  test('train, export, checkpoint, resume and sample match cpu; a lab training job checkpoints, previews and resumes', (ctx) => {
    const run = runOnWebgpu<ChildResult>(CHILD)
    if (!run.ok) {
      console.log(`SKIPPED webgpu train e2e test: ${run.why}`)
      ctx.skip(run.why)
      return
    }
    const r = run.value
    const { webgpu: g, cpu: c } = r
    console.log(`[webgpu-train-e2e] ${r.device}: losses ${g.losses.map((v) => v.toFixed(5))} (cpu ${c.losses.map((v) => v.toFixed(5))})`)

    // The premise: on this backend a synchronous read of a trained weight is impossible.
    expect(g.syncRead).not.toBe('ok')
    expect(c.syncRead).toBe('ok')

    // (a) The state is exported after the read steps and resumes exactly (same backend, same bits).
    for (const e of [g, c]) {
      expect(e.stateStep).toBe(STEPS)
      expect(e.resumedStep).toBe(STEPS + 1)
      expect(e.nextResumed).toBe(e.next)
      expect(e.badMask).toMatch(/mask must hold only 0 \(unknown\) and 1 \(known\)/)
    }
    // Against cpu: the same maths in another summation order (float32).
    g.losses.forEach((v, i) => expect(close(v, c.losses[i]!, 1e-4), `loss ${i + 1}: ${v} vs ${c.losses[i]}`).toBe(true))
    expect(close(g.next, c.next, 1e-4), `resumed loss: ${g.next} vs ${c.next}`).toBe(true)
    for (const k of ['weights', 'moments', 'shadows'] as const) expect(close(g[k], c[k], 1e-4), `${k}: ${g[k]} vs ${c[k]}`).toBe(true)
    for (const k of ['samples', 'inpainted'] as const) {
      expect(g[k]).toHaveLength(8)
      g[k].forEach((v, i) => expect(close(v, c[k][i]!, 1e-3), `${k}[${i}]: ${v} vs ${c[k][i]}`).toBe(true))
    }

    // (b) The lab job: on webgpu, no failure, checkpoints at 4 and 8, a preview at 8; the resume
    // starts from step 8 and goes on to 10; one metrics line per step.
    expect(r.job).toMatchObject({ backend: 'webgpu', failed: [], done: 'finished', checkpoints: [4, 8], previews: [8] })
    expect(r.resumedJob).toMatchObject({ backend: 'webgpu', failed: [], done: 'finished', checkpoints: [10] })
    expect(r.resumedJob.logs.some((l) => /Resumed from .* at step 8/.test(l))).toBe(true)
    expect(r.checkpointFiles).toHaveLength(3)
    expect(r.metricSteps).toEqual(Array.from({ length: 10 }, (_, i) => i + 1))
    expect(r.finiteLosses).toBe(true)
  }, 200_000)
})
