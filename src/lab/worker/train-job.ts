// A training job inside its worker thread: builds (or resumes) the trainer, loops over steps,
// streams metrics in batches (every point is appended to metrics.jsonl first), writes
// checkpoints atomically with keep-last-N / keep-best retention, and honours pause, stop
// and cancel between steps. Nothing here touches worker_threads: entry.ts does.
import fs from 'node:fs'
import path from 'node:path'
import { selectBackend, parseBackendName } from '../../engine/backend/select'
import { createModel } from '../../engine/nets'
import { createSde } from '../../engine/sde'
import { Trainer, NonFiniteLossError } from '../../engine/train'
import { loadCheckpoint, saveCheckpoint } from '../../engine/checkpoint/checkpoint'
import { DEFAULT_LABEL_DROPOUT } from '../../shared/contract'
import type { CheckpointInfo, MetricPoint } from '../../shared/contract'
import type { StepMetrics, TrainerState } from '../../engine/train/trainer'
import { DatasetStore } from '../datasets/store'
import { appendMetrics, lossLookup, truncateMetricsAfter } from '../runs/metrics-log'
import { checkpointFileName, dropCheckpoints, quarantineCheckpoint, reconcileCheckpoints, DAMAGED_DIR } from '../runs/checkpoint-folder'
import type { FromWorker, JobControl, TrainJobSpec } from '../jobs/protocol'
import { runPaths } from '../runs/run-layout'
import { backendTimingsPath } from '../data-dir'
import { openDataSource } from './data-source'
import { retain } from './retention'
import { previewPng } from './preview'
import { writePreview } from '../runs/preview-files'

const FLUSH_MS = 250
/** Steps left unread at most: bounds the device memory their metrics hold when steps are fast. */
const MAX_UNREAD_STEPS = 256

export async function runTrainJob(spec: TrainJobSpec, post: (msg: FromWorker) => void, control: JobControl): Promise<void> {
  const { dir: runDir, checkpoints: ckDir, metrics: metricsFile } = runPaths(spec.dataDir, spec.runId)
  const { config } = spec
  // The lab holds this run's exclusive lock, so this job alone writes the folder: make the
  // manifest agree with the files first (a lost or damaged manifest is rebuilt, never trusted
  // as "no checkpoints").
  const reconciled = reconcileCheckpoints(ckDir, lossLookup(metricsFile))
  for (const note of reconciled.notes) post({ type: 'log', level: 'warn', message: `Checkpoints: ${note}.` })

  const backend = await selectBackend({ force: parseBackendName(spec.backend), timingsFile: backendTimingsPath(spec.dataDir) })
  post({ type: 'backend', name: backend.name, device: backend.device })

  const data = await openDataSource(config, new DatasetStore(spec.dataDir))
  let trainer: Trainer
  let resumedFrom: CheckpointInfo | null = null
  let checkpoints = reconciled.checkpoints
  const trainConfig = {
    lr: config.lr,
    warmup: config.warmup,
    gradClip: config.gradClip,
    emaDecay: config.ema > 0 ? config.ema : null,
    batchSize: config.batchSize,
    seed: config.seed,
    weighting: config.weighting,
    reduction: config.reduction,
    // Absent in runs from before objectives: dsm, the engine's default too.
    objective: config.objective ?? 'dsm',
    ...(config.projections ? { projections: config.projections } : {}),
    ...(config.conditional ? { labelDropout: config.labelDropout ?? DEFAULT_LABEL_DROPOUT } : {})
  }
  if (config.conditional && data.classes < 2) throw new Error(`${config.dataset} has no classes, so it cannot train a class-conditional model (image sets and toy-gmm can).`)
  if (spec.resume && checkpoints.length > 0) {
    // Newest first; one that fails verification is set aside (damaged/) and the next is tried.
    let state: TrainerState | null = null
    let from: CheckpointInfo | null = null
    const skipped: string[] = []
    for (const c of [...checkpoints].sort((a, b) => b.step - a.step)) {
      try {
        state = await loadCheckpoint(path.join(ckDir, c.file))
        from = c
        break
      } catch (err) {
        skipped.push(`${c.file} (${(err as Error).message.replace(path.join(ckDir, c.file), 'file')})`)
        checkpoints = quarantineCheckpoint(ckDir, c.file, checkpoints)
      }
    }
    if (!state || !from) {
      throw new Error(`Cannot resume: no checkpoint of this run verifies. Skipped ${skipped.join('; ')}. They were moved to ${path.join(ckDir, DAMAGED_DIR)}; nothing was deleted.`)
    }
    if (skipped.length > 0) post({ type: 'log', level: 'warn', message: `Skipped damaged checkpoint${skipped.length > 1 ? 's' : ''} ${skipped.join('; ')}, moved to ${DAMAGED_DIR}/. Resuming from the newest one that verifies.` })
    trainer = Trainer.fromState(state)
    resumedFrom = from
    // Steps after the checkpoint are redone: drop their metrics so the curve has no duplicates.
    truncateMetricsAfter(metricsFile, trainer.stepCount)
    post({ type: 'log', level: 'info', message: `Resumed from ${from.file} at step ${trainer.stepCount}.` })
  } else {
    if (spec.resume && fs.existsSync(metricsFile)) {
      // Trained before, but killed before its first checkpoint: those steps are redone from 0.
      // Their metrics are kept beside the run, not deleted.
      const aside = path.join(runDir, `metrics-before-restart-${Date.now()}.jsonl`)
      fs.renameSync(metricsFile, aside)
      post({ type: 'log', level: 'warn', message: `No checkpoint to resume from; starting from step 0 (the earlier metrics are kept in ${path.basename(aside)}).` })
    } else if (spec.resume) {
      post({ type: 'log', level: 'warn', message: 'No checkpoint to resume from; starting from step 0.' })
    }
    const sde = createSde({ name: config.sde.name, ...config.sde.params })
    const model = createModel(config.model, { shape: data.shape, sde, seed: config.seed, ...(config.conditional ? { options: { classes: data.classes } } : {}) })
    trainer = new Trainer({ model, sde, config: trainConfig, dataShape: data.shape })
  }

  const startStep = trainer.stepCount
  const t0 = performance.now()
  let pending: MetricPoint[] = []
  let lastFlush = performance.now()
  // A checkpoint's loss (and so the "best" one) is the smoothed training loss, not one batch's:
  // an exponential average over ~50 steps, debiased as TensorBoard's smoothing is.
  const smoothed = new SmoothedLoss(0.98)
  // Training time counts across sessions: a resume continues from its checkpoint's count (time
  // after that checkpoint was lost with the steps it trained).
  let trainMs = spec.resume ? (resumedFrom?.trainMs ?? spec.priorTrainMs ?? 0) : 0
  let sessionStart = performance.now()
  const elapsedTrain = () => trainMs + (performance.now() - sessionStart)

  const done = (outcome: 'finished' | 'stopped' | 'cancelled') => {
    const step = trainer.stepCount
    const ms = elapsedTrain()
    post({ type: 'done', outcome, step, trainMs: ms, result: { kind: 'train', outcome, step, trainMs: ms } })
  }

  // Steps only enqueue work (trainer.ts): their metrics are read here, all in one device read
  // per flush, with the wall time each step was enqueued at.
  const wallTimes = new Map<number, number>()
  const addPoints = (ms: StepMetrics[]) => {
    for (const m of ms) {
      smoothed.add(m.loss)
      pending.push({
        step: m.step,
        wallTime: wallTimes.get(m.step) ?? Date.now(),
        loss: m.loss,
        gradNorm: m.gradNorm,
        lr: m.lr,
        imagesPerSec: m.imagesPerSec,
        buckets: m.bucketLoss.map((v) => (Number.isFinite(v) ? v : null))
      })
      wallTimes.delete(m.step)
    }
  }
  const write = () => {
    if (pending.length === 0) return
    appendMetrics(metricsFile, pending) // stored before it is shown
    post({ type: 'metrics', points: pending, trainMs: elapsedTrain() })
    pending = []
  }
  /** Reads the unread steps (throwing NonFiniteLossError at a bad one) and writes their points. */
  const flush = async () => {
    lastFlush = performance.now()
    addPoints(await trainer.readPending())
    write()
  }

  const checkpoint = async () => {
    await flush() // a non-finite step throws here, before its weights could be saved
    const step = trainer.stepCount
    const file = checkpointFileName(step)
    await saveCheckpoint(path.join(ckDir, file), trainer)
    const bytes = fs.statSync(path.join(ckDir, file)).size
    const info: CheckpointInfo = { file, step, loss: smoothed.value(), time: Date.now(), bytes, best: false, hasEma: config.ema > 0, trainMs: elapsedTrain() }
    const kept = retain([...checkpoints.filter((c) => c.file !== file), info], { keepLast: config.keepLast, keepBest: config.keepBest })
    checkpoints = dropCheckpoints(ckDir, kept.drop.map((c) => c.file), kept.keep)
    post({ type: 'checkpoint', checkpoint: kept.keep.find((c) => c.file === file) ?? info, checkpoints })
  }

  try {
    while (trainer.stepCount < config.steps) {
      if (control.cancelRequested()) {
        await flush()
        done('cancelled')
        return
      }
      if (control.stopRequested()) {
        await checkpoint()
        done('stopped')
        return
      }
      const wasPaused = await pauseIfAsked(control, post, async () => {
        await flush()
        trainMs += performance.now() - sessionStart
      })
      if (wasPaused) {
        sessionStart = performance.now()
        continue
      }
      const { x: batch, labels } = config.conditional ? data.labelledBatch(trainer.stepCount) : { x: data.batch(trainer.stepCount), labels: undefined }
      try {
        wallTimes.set(trainer.step(batch, labels).step, Date.now())
      } finally {
        batch.dispose()
      }
      if (performance.now() - lastFlush >= FLUSH_MS || trainer.pendingCount >= MAX_UNREAD_STEPS) {
        await flush()
        const now = performance.now()
        const done = trainer.stepCount - startStep
        const rate = done / ((now - t0) / 1000)
        const left = config.steps - trainer.stepCount
        const budgetLeft = config.maxMinutes ? Math.max(0, config.maxMinutes * 60 - elapsedTrain() / 1000) : Infinity
        // A time budget ends the run too: progress is whichever end is nearer.
        const fraction = Math.max(trainer.stepCount / config.steps, config.maxMinutes ? elapsedTrain() / (config.maxMinutes * 60_000) : 0)
        post({ type: 'progress', fraction: Math.min(1, fraction), etaSeconds: rate > 0 ? Math.min(left / rate, budgetLeft) : null, rate, unit: 'steps/s' })
      }
      if (trainer.stepCount % config.checkpointEvery === 0) await checkpoint()
      if (config.previewEvery > 0 && trainer.stepCount % config.previewEvery === 0) {
        await flush() // no preview from weights past a non-finite step
        const png = await previewPng(trainer.model, trainer.sde, data.shape, config.centered, trainer.stepCount)
        // Kept on disk (the latest, and a capped history for the strip under it).
        writePreview(runDir, trainer.stepCount, png)
        post({ type: 'preview', step: trainer.stepCount, dataUrl: `data:image/png;base64,${Buffer.from(png).toString('base64')}` })
      }
      if (config.maxMinutes && elapsedTrain() >= config.maxMinutes * 60_000) {
        post({ type: 'log', level: 'info', message: `Time budget of ${config.maxMinutes} min spent at step ${trainer.stepCount}; the run ends here (resume to train on).` })
        break
      }
      // Yield so pause/stop messages are received between steps.
      await new Promise((r) => setImmediate(r))
    }
    if (!checkpoints.some((c) => c.step === trainer.stepCount)) await checkpoint()
    post({ type: 'progress', fraction: trainer.stepCount / config.steps, etaSeconds: 0, rate: null, unit: 'steps/s' })
    done('finished')
  } catch (err) {
    let step = trainer.stepCount
    if (err instanceof NonFiniteLossError) {
      // The finite steps read before the bad one are logged; the run stands at the last of them.
      addPoints(err.goodSteps)
      step = err.step - 1
    } else {
      // The steps before a failure still get their points, unless reading them fails too.
      try {
        addPoints(await trainer.readPending())
      } catch (readErr) {
        if (readErr instanceof NonFiniteLossError) {
          addPoints(readErr.goodSteps)
          step = readErr.step - 1
        }
      }
    }
    write()
    const message = err instanceof NonFiniteLossError ? `${err.message} The last good checkpoint is kept.` : (err as Error).message
    post({ type: 'failed', error: message, step, trainMs: elapsedTrain() })
  } finally {
    trainer.dispose()
    trainer.model.dispose()
  }
}

async function pauseIfAsked(control: JobControl, post: (m: FromWorker) => void, onPause: () => Promise<void>): Promise<boolean> {
  if (!control.isPaused()) return false
  await onPause()
  post({ type: 'state', state: 'paused' })
  await control.gate()
  post({ type: 'state', state: 'running' })
  return true
}

/** Exponential moving average with TensorBoard's debiasing (divided by 1 − wⁿ); skips non-finite values. */
export class SmoothedLoss {
  private last = 0
  private n = 0
  constructor(private readonly w: number) {}
  add(x: number): void {
    if (!Number.isFinite(x)) return
    this.last = this.last * this.w + (1 - this.w) * x
    this.n++
  }
  value(): number | null {
    return this.n === 0 ? null : this.last / (1 - this.w ** this.n)
  }
}
