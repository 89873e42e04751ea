// A training job inside its worker thread: builds (or resumes) the trainer, loops over steps,
// streams metrics in batches (every point is appended to metrics.jsonl first), writes
// checkpoints atomically with keep-last-N / keep-best retention, and honours pause, stop
// and cancel between steps. Nothing here touches worker_threads: entry.ts does.
import fs from 'node:fs'
import path from 'node:path'
import { tf } from '../../engine/tf'
import { selectBackend, parseBackendName } from '../../engine/backend/select'
import { createModel } from '../../engine/nets'
import { createSde } from '../../engine/sde'
import { Trainer, NonFiniteLossError } from '../../engine/train'
import { loadCheckpoint, saveCheckpoint } from '../../engine/checkpoint/checkpoint'
import type { CheckpointInfo, MetricPoint } from '../../shared/contract'
import { DatasetStore } from '../datasets/store'
import { appendMetrics, truncateMetricsAfter } from '../runs/metrics-log'
import { readManifest, writeManifest } from '../runs/store'
import type { FromWorker, TrainJobSpec } from '../jobs/protocol'
import { openDataSource } from './data-source'
import { retain } from './retention'
import { previewPng } from './preview'
import { writeFileAtomicSync } from '../../engine/io/atomic-write'

export interface JobControl {
  isPaused(): boolean
  /** Resolves when the job may continue (immediately unless paused). */
  gate(): Promise<void>
  stopRequested(): boolean
  cancelRequested(): boolean
}

const FLUSH_MS = 250

export async function runTrainJob(spec: TrainJobSpec, post: (msg: FromWorker) => void, control: JobControl): Promise<void> {
  const runDir = path.join(spec.dataDir, 'runs', spec.runId)
  const ckDir = path.join(runDir, 'checkpoints')
  const metricsFile = path.join(runDir, 'metrics.jsonl')
  fs.mkdirSync(ckDir, { recursive: true })
  removeLeftovers(ckDir)
  const { config } = spec

  const backend = await selectBackend({ force: parseBackendName(spec.backend) })
  post({ type: 'backend', name: backend.name, device: backend.device })

  const data = await openDataSource(config, new DatasetStore(spec.dataDir))
  let trainer: Trainer
  let checkpoints = readManifest(ckDir)
  const trainConfig = {
    lr: config.lr,
    warmup: config.warmup,
    gradClip: config.gradClip,
    emaDecay: config.ema > 0 ? config.ema : null,
    batchSize: config.batchSize,
    seed: config.seed,
    weighting: config.weighting,
    reduction: config.reduction
  }
  if (spec.resume && checkpoints.length > 0) {
    const last = checkpoints.reduce((a, b) => (b.step > a.step ? b : a))
    const state = await loadCheckpoint(path.join(ckDir, last.file))
    trainer = Trainer.fromState(state)
    // Steps after the checkpoint are redone: drop their metrics so the curve has no duplicates.
    truncateMetricsAfter(metricsFile, trainer.stepCount)
    post({ type: 'log', level: 'info', message: `Resumed from ${last.file} at step ${trainer.stepCount}.` })
  } else {
    if (spec.resume) post({ type: 'log', level: 'warn', message: 'No checkpoint to resume from; starting from step 0.' })
    const sde = createSde({ name: config.sde.name, ...config.sde.params })
    const model = createModel(config.model, { shape: data.shape, sde, seed: config.seed })
    trainer = new Trainer({ model, sde, config: trainConfig, dataShape: data.shape })
    checkpoints = []
    fs.rmSync(metricsFile, { force: true })
  }

  const startStep = trainer.stepCount
  const t0 = performance.now()
  let pending: MetricPoint[] = []
  let lastFlush = performance.now()
  let lastLoss: number | null = null
  let trainMs = 0
  let sessionStart = performance.now()

  const flush = () => {
    if (pending.length === 0) return
    appendMetrics(metricsFile, pending) // stored before it is shown
    post({ type: 'metrics', points: pending })
    pending = []
    lastFlush = performance.now()
  }

  const checkpoint = async () => {
    flush()
    const step = trainer.stepCount
    const file = `ckpt-${String(step).padStart(8, '0')}.safetensors`
    await saveCheckpoint(path.join(ckDir, file), trainer.exportState())
    const bytes = fs.statSync(path.join(ckDir, file)).size
    const info: CheckpointInfo = { file, step, loss: lastLoss, time: Date.now(), bytes, best: false, hasEma: config.ema > 0 }
    const kept = retain([...checkpoints.filter((c) => c.file !== file), info], { keepLast: config.keepLast, keepBest: config.keepBest })
    writeManifest(ckDir, kept.keep)
    for (const c of kept.drop) fs.rmSync(path.join(ckDir, c.file), { force: true })
    checkpoints = kept.keep
    post({ type: 'checkpoint', checkpoint: kept.keep.find((c) => c.file === file) ?? info, checkpoints })
  }

  const elapsedTrain = () => trainMs + (performance.now() - sessionStart)
  try {
    while (trainer.stepCount < config.steps) {
      if (control.cancelRequested()) {
        flush()
        post({ type: 'done', outcome: 'cancelled', step: trainer.stepCount, trainMs: elapsedTrain() })
        return
      }
      if (control.stopRequested()) {
        await checkpoint()
        post({ type: 'done', outcome: 'stopped', step: trainer.stepCount, trainMs: elapsedTrain() })
        return
      }
      const wasPaused = await pauseIfAsked(control, post, () => {
        flush()
        trainMs += performance.now() - sessionStart
      })
      if (wasPaused) {
        sessionStart = performance.now()
        continue
      }
      const batch = data.batch(trainer.stepCount)
      let m
      try {
        m = trainer.step(batch)
      } finally {
        batch.dispose()
      }
      lastLoss = m.loss
      pending.push({
        step: m.step,
        wallTime: Date.now(),
        loss: m.loss,
        gradNorm: m.gradNorm,
        lr: m.lr,
        imagesPerSec: m.imagesPerSec,
        buckets: m.bucketLoss.map((v) => (Number.isFinite(v) ? v : null))
      })
      const now = performance.now()
      if (now - lastFlush >= FLUSH_MS) {
        flush()
        const done = trainer.stepCount - startStep
        const rate = done / ((now - t0) / 1000)
        const left = config.steps - trainer.stepCount
        post({ type: 'progress', fraction: trainer.stepCount / config.steps, etaSeconds: rate > 0 ? left / rate : null, rate, unit: 'steps/s' })
      }
      if (trainer.stepCount % config.checkpointEvery === 0) await checkpoint()
      if (config.previewEvery > 0 && trainer.stepCount % config.previewEvery === 0) {
        const png = await previewPng(trainer.model, trainer.sde, data.shape, config.centered, trainer.stepCount)
        // Kept on disk so a window that opens later still shows the latest one.
        writeFileAtomicSync(path.join(runDir, 'preview.png'), png)
        post({ type: 'preview', step: trainer.stepCount, dataUrl: `data:image/png;base64,${Buffer.from(png).toString('base64')}` })
      }
      // Yield so pause/stop messages are received between steps.
      await new Promise((r) => setImmediate(r))
    }
    if (!checkpoints.some((c) => c.step === trainer.stepCount)) await checkpoint()
    post({ type: 'progress', fraction: 1, etaSeconds: 0, rate: null, unit: 'steps/s' })
    post({ type: 'done', outcome: 'finished', step: trainer.stepCount, trainMs: elapsedTrain() })
  } catch (err) {
    flush()
    const message = err instanceof NonFiniteLossError ? `${err.message} The last good checkpoint is kept.` : (err as Error).message
    post({ type: 'failed', error: message, step: trainer.stepCount, trainMs: elapsedTrain() })
  } finally {
    trainer.dispose()
    trainer.model.dispose()
    void tf
  }
}

async function pauseIfAsked(control: JobControl, post: (m: FromWorker) => void, onPause: () => void): Promise<boolean> {
  if (!control.isPaused()) return false
  onPause()
  post({ type: 'state', state: 'paused' })
  await control.gate()
  post({ type: 'state', state: 'running' })
  return true
}

/** A process killed mid-write leaves temp files and, rarely, a checkpoint the manifest never listed. */
function removeLeftovers(ckDir: string): void {
  const listed = new Set(readManifest(ckDir).map((c) => c.file))
  for (const f of fs.readdirSync(ckDir)) {
    if ((f.startsWith('.') && f.endsWith('.tmp')) || (f.endsWith('.safetensors') && !listed.has(f))) fs.rmSync(path.join(ckDir, f), { force: true })
  }
}
