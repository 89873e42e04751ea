// A training job reads its steps' metrics in batches (Trainer.step only enqueues; the job reads
// at each flush, checkpoint and the end): metrics.jsonl still has one line per step with exactly
// the values of reading each step at once, and a diverging run is reported at its first
// non-finite step with no checkpoint (and no metrics line) from that step on.
//
// Runs runTrainJob in this process on the cpu backend, against a reference that trains the same
// configuration with the Trainer directly, reading every step.
import fs from 'node:fs'
import { beforeAll, describe, expect, it } from 'vitest'
import { selectBackend } from '../../src/engine/backend/select'
import { createModel } from '../../src/engine/nets'
import { createSde } from '../../src/engine/sde'
import { NonFiniteLossError, Trainer, type StepMetrics } from '../../src/engine/train'
import { PRESETS } from '../../src/lab/catalog'
import { DatasetStore } from '../../src/lab/datasets/store'
import { readMetrics } from '../../src/lab/runs/metrics-log'
import { runPaths } from '../../src/lab/runs/run-layout'
import { openDataSource } from '../../src/lab/worker/data-source'
import { runTrainJob } from '../../src/lab/worker/train-job'
import type { FromWorker, JobControl } from '../../src/lab/jobs/protocol'
import type { TrainConfig } from '../../src/shared/contract'
import { tempDir } from '../helpers/service'
import { stepAndRead } from '../helpers/trainer-steps'

beforeAll(async () => {
  await selectBackend({ force: 'cpu' })
})

const toy = PRESETS.find((p) => p.name === 'toy-quick')!.config
const config = (over: Partial<TrainConfig>): TrainConfig => ({ ...toy, steps: 40, batchSize: 32, checkpointEvery: 10, keepLast: 100, keepBest: false, previewEvery: 0, ...over })

const control: JobControl = { isPaused: () => false, gate: async () => {}, stopRequested: () => false, cancelRequested: () => false }

async function job(cfg: TrainConfig) {
  const dataDir = tempDir()
  const msgs: FromWorker[] = []
  await runTrainJob({ kind: 'train', jobId: 'j', runId: 'r', dataDir, config: cfg, resume: false, backend: 'cpu' }, (m) => msgs.push(m), control)
  const paths = runPaths(dataDir, 'r')
  const checkpointSteps = fs
    .readdirSync(paths.checkpoints)
    .filter((f) => f.endsWith('.safetensors'))
    .map((f) => Number(/(\d+)/.exec(f)![1]))
    .sort((a, b) => a - b)
  return { msgs, metrics: fs.existsSync(paths.metrics) ? readMetrics(paths.metrics) : [], checkpointSteps, dataDir }
}

/** The same run the way a step used to be read: the trainer directly, each step read at once. */
async function reference(cfg: TrainConfig, dataDir: string): Promise<{ metrics: StepMetrics[]; badStep: number | null }> {
  const data = await openDataSource(cfg, new DatasetStore(dataDir))
  const sde = createSde({ name: cfg.sde.name, ...cfg.sde.params })
  const model = createModel(cfg.model, { shape: data.shape, sde, seed: cfg.seed })
  const trainer = new Trainer({
    model,
    sde,
    config: { lr: cfg.lr, warmup: cfg.warmup, gradClip: cfg.gradClip, emaDecay: cfg.ema > 0 ? cfg.ema : null, batchSize: cfg.batchSize, seed: cfg.seed, weighting: cfg.weighting, reduction: cfg.reduction, objective: cfg.objective ?? 'dsm' },
    dataShape: data.shape
  })
  const metrics: StepMetrics[] = []
  let badStep: number | null = null
  try {
    for (let s = 0; s < cfg.steps; s++) {
      const x = data.batch(s)
      try {
        metrics.push(await stepAndRead(trainer, x))
      } finally {
        x.dispose()
      }
    }
  } catch (e) {
    if (!(e instanceof NonFiniteLossError)) throw e
    badStep = e.step
  } finally {
    trainer.dispose()
    model.dispose()
  }
  return { metrics, badStep }
}

describe('a training job with deferred metric reads', () => {
  it('writes one metrics line per step, equal to reading each step at once', async () => {
    const cfg = config({ gradClip: 1, warmup: 5, ema: 0.99 })
    const run = await job(cfg)
    expect(run.msgs.find((m) => m.type === 'failed')).toBeUndefined()
    expect(run.msgs.at(-1)).toMatchObject({ type: 'done', outcome: 'finished', step: 40 })
    const ref = await reference(cfg, run.dataDir)
    expect(ref.badStep).toBeNull()
    expect(run.metrics.map((m) => m.step)).toEqual(ref.metrics.map((m) => m.step))
    run.metrics.forEach((m, i) => {
      const r = ref.metrics[i]!
      expect(m.loss).toBe(r.loss)
      expect(m.gradNorm).toBe(r.gradNorm)
      expect(m.lr).toBe(r.lr)
      expect(m.buckets).toEqual(r.bucketLoss.map((v) => (Number.isFinite(v) ? v : null)))
      expect(m.imagesPerSec).toBeGreaterThan(0)
      expect(m.wallTime).toBeGreaterThan(0)
    })
    expect(run.checkpointSteps).toEqual([10, 20, 30, 40])
  })

  for (const checkpointEvery of [1, 1000]) {
    it(`a diverging run fails at its first non-finite step, with no checkpoint or metrics line from it on (checkpoint every ${checkpointEvery})`, async () => {
      // lr 1e30: step 1's update throws the weights to ~1e30, so a later loss overflows.
      const cfg = config({ lr: 1e30, checkpointEvery, steps: 12 })
      const run = await job(cfg)
      const ref = await reference(cfg, run.dataDir)
      expect(ref.badStep).not.toBeNull()
      const bad = ref.badStep!
      expect(bad).toBeGreaterThanOrEqual(2)
      const failed = run.msgs.find((m) => m.type === 'failed') as Extract<FromWorker, { type: 'failed' }> | undefined
      expect(failed?.error).toMatch(new RegExp(`diverged at step ${bad}:.*The last good checkpoint is kept`))
      expect(failed?.step).toBe(bad - 1)
      expect(run.msgs.some((m) => m.type === 'done')).toBe(false)
      // Every finite step before it is logged, exactly as read step by step.
      expect(run.metrics.map((m) => m.step)).toEqual(ref.metrics.map((m) => m.step))
      expect(run.metrics.map((m) => m.loss)).toEqual(ref.metrics.map((m) => m.loss))
      // Checkpoints only from before the bad step: all of them when one is due every step.
      expect(run.checkpointSteps.every((s) => s < bad)).toBe(true)
      expect(run.checkpointSteps).toEqual(checkpointEvery === 1 ? Array.from({ length: bad - 1 }, (_, i) => i + 1) : [])
    })
  }
})
