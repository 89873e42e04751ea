import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll } from 'vitest'
import { createLabService, type LabService } from '../../src/lab/service'
import { createDispatch } from '../../src/lab/dispatch'
import { isLiveJobState, type JobInfo } from '../../src/shared/contract'
import { EventRecorder } from './events'
import type { BackendInfo } from '../../src/engine/backend/types'

export const FAKE_BACKEND: BackendInfo = {
  name: 'cpu',
  device: 'CPU (test double)',
  forced: true,
  attempts: [{ name: 'cpu', ok: true }]
}

export function tempDir(prefix = 'score-lab-test-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix))
}

/** A lab service over a fresh temp data folder; the backend is a stub unless `real` is set. */
export function testService(opts: { real?: boolean; shell?: 'browser' | 'electron' | 'cli' } = {}): LabService {
  return createLabService({
    dataDir: tempDir(),
    shell: opts.shell ?? 'browser',
    backend: opts.real ? undefined : async () => FAKE_BACKEND
  })
}

/**
 * A real lab service (real backend, in-process dispatch, every event recorded) over a fresh temp
 * data folder, closed and removed after the file's tests: the setup the lab job tests share.
 */
export function labHarness(opts: { dataDir?: string; jobTimeoutMs?: number } = {}) {
  const dataDir = opts.dataDir ?? tempDir()
  const service = createLabService({ dataDir, shell: 'cli' })
  const call = createDispatch(service.handlers)
  const rec = new EventRecorder(service.events)
  const timeout = opts.jobTimeoutMs ?? 300_000
  afterAll(() => {
    service.close()
    fs.rmSync(dataDir, { recursive: true, force: true })
  })
  /** A procedure's result; its error message as a thrown Error. */
  async function ok<T>(method: string, input: unknown): Promise<T> {
    const env = await call(method, input)
    if (!env.ok) throw new Error(env.error.message)
    return env.result as T
  }
  /** The job once it ended, however it ended. */
  async function ended(jobId: string): Promise<JobInfo> {
    await rec.waitFor((e) => e.type === 'job' && e.job.id === jobId && !isLiveJobState(e.job.state), timeout)
    return service.jobs.get(jobId)
  }
  /** The job once it finished; anything else throws with its state and error. */
  async function finished(jobId: string): Promise<JobInfo> {
    const job = await ended(jobId)
    if (job.state !== 'finished') throw new Error(`job ${jobId} ended ${job.state}: ${job.error}`)
    return job
  }
  return { dataDir, service, call, rec, ok, ended, finished }
}
