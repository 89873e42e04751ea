// score-lab train-classifier --for RUN as a tracked training: with an unfinished training of the
// same steps and seed in the run's folder it says it resumes (and where), --fresh starts over,
// and the --json result stays the classifier's info. The unfinished trainings are made in
// process (a job cancelled mid-way), then the CLI runs as a user runs it. Tiny: 40 steps.
import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { createLabService } from '../../src/lab/service'
import { createDispatch } from '../../src/lab/dispatch'
import { PRESETS } from '../../src/lab/catalog'
import { isLiveJobState, type GuidanceState } from '../../src/shared/contract'
import { EventRecorder } from '../helpers/events'
import { tempDir } from '../helpers/service'

const FASHION = fs.existsSync('/usr/share/datasets/fashion-mnist')
const CLI = path.resolve(__dirname, '../../bin/score-lab.mjs')
const dataDir = tempDir('score-lab-cli-classifier-')
const STEPS = 40
afterAll(() => fs.rmSync(dataDir, { recursive: true, force: true }))

function cli(...args: string[]) {
  const r = spawnSync(process.execPath, [CLI, ...args, '--data-dir', dataDir], { encoding: 'utf8', timeout: 300_000 })
  let json: Record<string, unknown> | null = null
  try {
    json = JSON.parse(r.stdout.trim().split('\n').at(-1) ?? '') as Record<string, unknown>
  } catch {
    /* not JSON */
  }
  return { code: r.status, stdout: r.stdout, stderr: r.stderr, json }
}

/** A lab service on the shared data folder for one step of setup, closed after it (the CLI opens its own). */
async function inProcess<T>(body: (ok: <R>(method: string, input: unknown) => Promise<R>, rec: EventRecorder) => Promise<T>): Promise<T> {
  const service = createLabService({ dataDir, shell: 'cli' })
  const call = createDispatch(service.handlers)
  const rec = new EventRecorder(service.events)
  const ok = async <R,>(method: string, input: unknown): Promise<R> => {
    const env = await call(method, input)
    if (!env.ok) throw new Error(env.error.message)
    return env.result as R
  }
  try {
    return await body(ok, rec)
  } finally {
    rec.stop()
    service.close()
  }
}

const ended = (rec: EventRecorder, jobId: string) => rec.waitFor((e) => e.type === 'job' && e.job.id === jobId && !isLiveJobState(e.job.state), 300_000)

/** Trains the run's guidance classifier in process and cancels it past a quarter; its partial step. */
function unfinishedTraining(runId: string): Promise<number> {
  return inProcess(async (ok, rec) => {
    const { jobId } = await ok<{ jobId: string }>('classifiers.trainGuidance', { runId, steps: STEPS, seed: 2, fresh: true })
    await rec.waitFor((e) => e.type === 'progress' && e.jobId === jobId && e.fraction > 0.9 * 0.25, 120_000)
    await ok('jobs.cancel', { jobId })
    await ended(rec, jobId)
    return (await ok<GuidanceState>('classifiers.guidance', { runId })).partial!.step
  })
}

describe.skipIf(!FASHION)('score-lab train-classifier --for RUN', () => {
  it('says it resumes an unfinished training, starts over with --fresh, and keeps the --json result', async () => {
    const runId = await inProcess(async (ok, rec) => {
      await ended(rec, (await ok<{ jobId: string }>('datasets.get', { name: 'fashion-mnist' })).jobId)
      const base = PRESETS.find((p) => p.name === 'fashion-mnist-tutorial')!.config
      const started = await ok<{ runId: string; jobId: string }>('runs.start', { config: { ...base, steps: 2, batchSize: 8, checkpointEvery: 2, previewEvery: 0 } })
      await ended(rec, started.jobId)
      return started.runId
    })

    const first = await unfinishedTraining(runId)
    expect(first).toBeGreaterThan(0)
    const fresh = cli('train-classifier', '--for', runId, '--steps', String(STEPS), '--seed', '2', '--fresh', '--json')
    expect(fresh.code, fresh.stderr).toBe(0)
    expect(fresh.stderr).not.toMatch(/Resuming/)
    expect(fresh.json).toMatchObject({ steps: STEPS, seed: 2, guidance: { runId } })

    const k = await unfinishedTraining(runId)
    const resumed = cli('train-classifier', '--for', runId, '--steps', String(STEPS), '--seed', '2')
    expect(resumed.code, resumed.stderr).toBe(0)
    expect(resumed.stdout).toMatch(new RegExp(`Resuming the guidance classifier of run .+ at step ${k} of ${STEPS}\\n`))
    expect(resumed.stdout).toMatch(new RegExp(`test accuracy [0-9.]+ % at t = 0\\.05, [0-9.]+ % at t = 0\\.5, [0-9.]+ % at t = 1 after ${STEPS} steps`))

    const misuse = cli('train-classifier', '--dataset', 'fashion-mnist', '--fresh')
    expect(misuse.code).not.toBe(0)
    expect(misuse.stderr.trim().split('\n').at(-1)).toMatch(/^score-lab: --fresh goes with --for RUN/)
  }, 600_000)
})
