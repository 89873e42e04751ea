// "Trained for" is the time of every session: a resume continues the count from its checkpoint,
// and the run record keeps it up to date while training (so a crash loses only the time after
// the last write).
import { afterAll, describe, expect, it } from 'vitest'
import { createLabService } from '../../src/lab/service'
import { createDispatch } from '../../src/lab/dispatch'
import { PRESETS } from '../../src/lab/catalog'
import { resultOf, type CheckpointInfo, type LabEvent, type RunSummary, type TrainConfig } from '../../src/shared/contract'
import { EventRecorder } from '../helpers/events'
import { tempDir } from '../helpers/service'

const service = createLabService({ dataDir: tempDir(), shell: 'cli' })
const call = createDispatch(service.handlers)
const rec = new EventRecorder(service.events)
afterAll(() => service.close())
const toy = PRESETS.find((p) => p.name === 'toy-quick')!.config

async function ok<T>(method: string, input: unknown): Promise<T> {
  const env = await call(method, input)
  if (!env.ok) throw new Error(env.error.message)
  return env.result as T
}

describe('training time', () => {
  it('accumulates across a stop and a resume, and each checkpoint records the count so far', async () => {
    const config: TrainConfig = { ...toy, steps: 150, batchSize: 64, checkpointEvery: 50, keepLast: 5, previewEvery: 0 }
    const { runId, jobId, run } = await ok<{ runId: string; jobId: string; run: RunSummary }>('runs.start', { config })
    // runs.start answers with the created run as it now is: waiting for (or already in) its job.
    expect(run).toMatchObject({ id: runId, jobId, config: { steps: 150 } })
    expect(['queued', 'running']).toContain(run.status)
    await rec.jobState(jobId, 'finished')
    const first = service.runs.get(runId).trainMs
    expect(first).toBeGreaterThan(0)
    expect(resultOf(service.jobs.get(jobId), 'train')).toMatchObject({ kind: 'train', outcome: 'finished', step: 150 })
    const cks = (await ok<{ checkpoints: CheckpointInfo[] }>('runs.get', { runId })).checkpoints
    // Each checkpoint event carried the kept list: the last one is the list the run reads from disk.
    const events = rec.events.filter((e): e is Extract<LabEvent, { type: 'checkpoint' }> => e.type === 'checkpoint' && e.runId === runId)
    expect(events.map((e) => e.checkpoints.length)).toEqual([1, 2, 3])
    expect(events.at(-1)!.checkpoints.map((c) => c.file)).toEqual([...cks].sort((a, b) => b.step - a.step).map((c) => c.file))
    const times = cks.map((c) => c.trainMs!)
    expect(times.every((t) => t > 0)).toBe(true)
    expect(times).toEqual([...times].sort((a, b) => a - b))

    // A short second session: the total must include the first one.
    service.runs.update(runId, { config: { ...config, steps: 170 } })
    const second = await ok<{ jobId: string }>('runs.resume', { runId })
    await rec.jobState(second.jobId, 'finished')
    const total = service.runs.get(runId).trainMs
    expect(total).toBeGreaterThan(first)
    expect(total).toBeGreaterThanOrEqual(times.at(-1)!)
  })
})
