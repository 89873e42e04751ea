// A run with objective 'ssm' (sliced score matching) through the lab: it trains in its worker,
// logs losses per step and per t bucket, and its run config and checkpoint keep the objective.
// Nets whose gradients tfjs cannot differentiate twice are refused at runs.start, with why.
import path from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { createLabService } from '../../src/lab/service'
import { createDispatch } from '../../src/lab/dispatch'
import { PRESETS } from '../../src/lab/catalog'
import { readMetrics } from '../../src/lab/runs/metrics-log'
import { loadCheckpoint } from '../../src/engine/checkpoint/checkpoint'
import { TrainConfigSchema, type TrainConfig } from '../../src/shared/contract'
import { EventRecorder } from '../helpers/events'
import { tempDir } from '../helpers/service'

const service = createLabService({ dataDir: tempDir(), shell: 'cli' })
const call = createDispatch(service.handlers)
const rec = new EventRecorder(service.events)
afterAll(() => service.close())

const toy = PRESETS.find((p) => p.name === 'toy-quick')!.config
const tiny = (over: Partial<TrainConfig> = {}): TrainConfig => ({ ...toy, steps: 40, batchSize: 64, checkpointEvery: 40, ...over })

async function ok<T>(method: string, input: unknown): Promise<T> {
  const env = await call(method, input)
  if (!env.ok) throw new Error(env.error.message)
  return env.result as T
}

describe('sliced score matching runs', () => {
  it('trains, logs losses and keeps objective and projections in the run and its checkpoint', async () => {
    const { runId, jobId } = await ok<{ runId: string; jobId: string }>('runs.start', { config: tiny({ objective: 'ssm', projections: 'gaussian' }) })
    await rec.jobState(jobId, 'finished')
    const { run, checkpoints } = await ok<{ run: { config: TrainConfig; step: number }; checkpoints: { file: string }[] }>('runs.get', { runId })
    expect(run.step).toBe(40)
    expect(run.config).toMatchObject({ objective: 'ssm', projections: 'gaussian' })
    const dir = path.join(service.dataDir, 'runs', runId)
    const metrics = readMetrics(path.join(dir, 'metrics.jsonl'))
    expect(metrics).toHaveLength(40)
    expect(metrics.every((m) => Number.isFinite(m.loss))).toBe(true)
    expect(metrics[0]!.buckets).toHaveLength(10)
    const state = await loadCheckpoint(path.join(dir, 'checkpoints', checkpoints.at(-1)!.file))
    expect(state.train).toMatchObject({ objective: 'ssm', projections: 'gaussian', projectionCount: 1 })
  })

  it('reads a config without an objective as dsm, unchanged', async () => {
    const old = tiny()
    expect('objective' in old).toBe(false)
    expect(TrainConfigSchema.parse(old)).toEqual(old)
    expect(TrainConfigSchema.safeParse({ ...old, objective: 'ism' }).success).toBe(false)
    expect(TrainConfigSchema.safeParse({ ...old, objective: 'ssm', projections: 'sphere' }).success).toBe(false)
  })

  it('refuses ssm for a net without second-order gradients, and projections without ssm, naming why', async () => {
    const image = await call('runs.start', { config: tiny({ dataset: 'mnist', model: 'scorenet', objective: 'ssm' }) })
    expect(image).toMatchObject({ ok: false, error: { code: 'bad_request' } })
    if (!image.ok) expect(image.error.message).toMatch(/objective: Objective "ssm" .*"scorenet".*GroupNorm/)
    const mixer = await call('runs.start', { config: tiny({ dataset: 'mnist', model: 'mixer', objective: 'ssm' }) })
    if (!mixer.ok) expect(mixer.error.message).toMatch(/tanh/)
    expect(mixer.ok).toBe(false)
    const stray = await call('runs.start', { config: tiny({ projections: 'rademacher' }) })
    expect(stray.ok).toBe(false)
    if (!stray.ok) expect(stray.error.message).toMatch(/projections apply only to objective "ssm"/)
  })
})
