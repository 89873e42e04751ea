// A real training job in a worker thread on a tiny 2-D configuration: events, pause/resume,
// stop, resume from checkpoint, and a complete run folder.
import fs from 'node:fs'
import path from 'node:path'
import os from 'node:os'
import { afterAll, describe, expect, it } from 'vitest'
import { createLabService } from '../../src/lab/service'
import { createDispatch } from '../../src/lab/dispatch'
import { PRESETS } from '../../src/lab/catalog'
import type { TrainConfig } from '../../src/shared/contract'
import { readMetrics } from '../../src/lab/runs/metrics-log'
import { EventRecorder } from '../helpers/events'
import { tempDir } from '../helpers/service'

// Jobs use the default backend (the fastest that works here), as a user's would.
const service = createLabService({ dataDir: tempDir(), shell: 'cli' })
const call = createDispatch(service.handlers)
const rec = new EventRecorder(service.events)
afterAll(() => service.close())

const toy = PRESETS.find((p) => p.name === 'toy-quick')!.config
const tiny = (over: Partial<TrainConfig> = {}): TrainConfig => ({ ...toy, steps: 400, batchSize: 64, checkpointEvery: 100, keepLast: 2, ...over })

async function ok<T>(method: string, input: unknown): Promise<T> {
  const env = await call(method, input)
  if (!env.ok) throw new Error(env.error.message)
  return env.result as T
}

describe('training jobs in worker threads', () => {
  it('trains, streams metrics, pauses, resumes and finishes with a complete run folder', async () => {
    const { runId, jobId } = await ok<{ runId: string; jobId: string }>('runs.start', { config: tiny({ previewEvery: 200 }), name: 'toy run' })
    await rec.waitFor((e) => e.type === 'metrics' && e.runId === runId)
    await ok('jobs.pause', { jobId })
    await rec.jobState(jobId, 'paused')
    const pausedAt = (await ok<{ step: number }[]>('runs.metrics', { runId })).at(-1)!.step
    await new Promise((r) => setTimeout(r, 400))
    const stillAt = (await ok<{ step: number }[]>('runs.metrics', { runId })).at(-1)!.step
    expect(stillAt).toBe(pausedAt) // no steps while paused
    await ok('jobs.resume', { jobId })
    await rec.jobState(jobId, 'finished')

    const { run, checkpoints } = await ok<{ run: any; checkpoints: any[] }>('runs.get', { runId })
    expect(run.status).toBe('finished')
    expect(run.step).toBe(400)
    expect(run.backend).toMatch(/^(native|wasm|cpu|webgpu|tensorflow) \(/)
    expect(run.bestLoss).toBeGreaterThan(0)
    // keep-last 2 plus the best one
    expect(checkpoints.map((c) => c.step)).toEqual(expect.arrayContaining([300, 400]))
    expect(checkpoints.length).toBeLessThanOrEqual(3)
    expect(checkpoints.filter((c) => c.best)).toHaveLength(1)
    const dir = path.join(service.dataDir, 'runs', runId)
    for (const c of checkpoints) expect(fs.statSync(path.join(dir, 'checkpoints', c.file)).size).toBe(c.bytes)
    const metrics = readMetrics(path.join(dir, 'metrics.jsonl'))
    expect(metrics.map((m) => m.step)).toEqual(Array.from({ length: 400 }, (_, i) => i + 1))
    // The loss falls on this easy problem.
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length
    expect(mean(metrics.slice(-50).map((m) => m.loss!))).toBeLessThan(mean(metrics.slice(0, 50).map((m) => m.loss!)))
    expect(metrics[0]!.buckets).toHaveLength(10)
    // Previews every 200 steps: as events, and the latest on disk for late viewers.
    const previews = rec.events.filter((e) => e.type === 'preview' && e.runId === runId)
    expect(previews.map((e) => (e.type === 'preview' ? e.step : 0))).toEqual([200, 400])
    const latest = await ok<{ step: number; dataUrl: string }>('runs.preview', { runId })
    expect(latest.step).toBe(400)
    expect(latest.dataUrl).toMatch(/^data:image\/png;base64,/)
    // Progress events carry a fraction and an ETA.
    const progress = rec.events.filter((e) => e.type === 'progress' && e.jobId === jobId)
    expect(progress.length).toBeGreaterThan(0)
    // Metrics were batched: far fewer events than steps.
    const batches = rec.events.filter((e) => e.type === 'metrics' && e.runId === runId).length
    expect(batches).toBeLessThan(400)
  })

  it('stops with a checkpoint and resumes exactly where it stopped', async () => {
    const { runId, jobId } = await ok<{ runId: string; jobId: string }>('runs.start', { config: tiny({ steps: 5000, checkpointEvery: 1000 }) })
    await rec.waitFor((e) => e.type === 'metrics' && e.runId === runId)
    await ok('jobs.stop', { jobId })
    await rec.jobState(jobId, 'finished')
    const stopped = (await ok<{ run: any; checkpoints: any[] }>('runs.get', { runId }))
    expect(stopped.run.status).toBe('stopped')
    const stopStep = stopped.run.step
    expect(stopped.checkpoints.at(-1).step).toBe(stopStep)

    const again = await ok<{ jobId: string }>('runs.resume', { runId })
    await rec.waitFor((e) => e.type === 'metrics' && e.runId === runId && e.points[0]!.step === stopStep + 1)
    await ok('jobs.cancel', { jobId: again.jobId })
    await rec.jobState(again.jobId, 'cancelled')
    const steps = (await ok<{ step: number }[]>('runs.metrics', { runId })).map((m) => m.step)
    expect(new Set(steps).size).toBe(steps.length) // no duplicated steps after the resume
  })

  it('refuses bad settings with one clear error naming each field', async () => {
    const env = await call('runs.start', { config: { ...tiny(), model: 'resnet', weighting: 'magic', batchSize: 0 } })
    expect(env.ok).toBe(false)
    if (!env.ok) expect(env.error.message).toMatch(/batchSize/)
    const names = await call('runs.start', { config: { ...tiny(), model: 'resnet', weighting: 'magic', sde: { name: 'vesde', params: { sigmaMax: -1 } } } })
    expect(names.ok).toBe(false)
    const nan = await call('runs.start', { config: { ...tiny(), lr: Number.NaN } })
    expect(nan).toMatchObject({ ok: false, error: { code: 'bad_request' } })
    const unknown = await call('runs.start', { config: { ...tiny(), model: 'resnet', weighting: 'magic' } })
    expect(unknown.ok).toBe(false)
    if (!unknown.ok) {
      expect(unknown.error.message).toMatch(/unknown model "resnet"/)
      expect(unknown.error.message).toMatch(/unknown weighting "magic"/)
    }
  })

  it('marks a run left "running" by a dead process as interrupted at start', () => {
    const dataDir = tempDir()
    const first = createLabService({ dataDir, shell: 'cli' })
    const run = first.runs.create(tiny(), 'ghost', null)
    first.runs.update(run.id, { status: 'running' })
    const second = createLabService({ dataDir, shell: 'cli' })
    expect(second.runs.get(run.id).status).toBe('interrupted')
  })

  it('leaves alone a run that another live process on this machine is training', () => {
    const dataDir = tempDir()
    const first = createLabService({ dataDir, shell: 'cli' })
    const alive = first.runs.create(tiny(), 'trained by the GUI', null)
    first.runs.update(alive.id, { status: 'running', owner: { pid: process.ppid, host: os.hostname() } })
    const dead = first.runs.create(tiny(), 'killed', null)
    first.runs.update(dead.id, { status: 'running', owner: { pid: 2 ** 22 + 12345, host: os.hostname() } })
    const cli = createLabService({ dataDir, shell: 'cli' }) // e.g. `score-lab runs list` meanwhile
    expect(cli.runs.get(alive.id).status).toBe('running')
    expect(cli.runs.get(dead.id)).toMatchObject({ status: 'interrupted', owner: null })
  })

  it('a queued run can be cancelled or deleted while another run trains', async () => {
    const a = await ok<{ runId: string; jobId: string }>('runs.start', { config: tiny({ steps: 1_000_000 }), name: 'long' })
    const b = await ok<{ runId: string; jobId: string }>('runs.start', { config: tiny(), name: 'waiting' })
    const c = await ok<{ runId: string; jobId: string }>('runs.start', { config: tiny(), name: 'also waiting' })
    expect((await ok<{ run: { status: string; jobId: string } }>('runs.get', { runId: b.runId })).run).toMatchObject({ status: 'queued', jobId: b.jobId })
    // Delete takes a waiting run out of the queue (refused only for one that trains).
    await ok('runs.delete', { runId: b.runId })
    expect(fs.existsSync(path.join(service.dataDir, 'runs', b.runId))).toBe(false)
    const del = await call('runs.delete', { runId: a.runId })
    expect(!del.ok && del.error.message).toMatch(/is training; stop it before deleting it/)
    await ok('jobs.cancel', { jobId: c.jobId })
    expect((await ok<{ run: { status: string } }>('runs.get', { runId: c.runId })).run.status).toBe('stopped')
    await ok('jobs.cancel', { jobId: a.jobId })
    await rec.jobState(a.jobId, 'cancelled')
  })
})
