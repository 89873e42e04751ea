// What every sampling-type job in a worker does around its body: pick the backend (and say
// which), read its run, turn cancel/stop into an AbortSignal the engine checks between steps,
// report failure or cancellation, and free the model whatever happens.
import { parseBackendName, selectBackend } from '../../engine/backend/select'
import type { RunSummary } from '../../shared/contract'
import { backendTimingsPath } from '../data-dir'
import type { FromWorker, JobControl } from '../jobs/protocol'
import { RunStore } from '../runs/store'
import type { RunPaths } from '../runs/run-layout'
import type { LoadedModel } from './model-loader'

export type Post = (msg: FromWorker) => void

/** The lab's backend choice in a job's worker: the same kept timings, so no second measurement. */
export async function selectJobBackend(spec: { backend?: string; dataDir: string }, post: Post): Promise<void> {
  const backend = await selectBackend({ force: parseBackendName(spec.backend), timingsFile: backendTimingsPath(spec.dataDir) })
  post({ type: 'backend', name: backend.name, device: backend.device })
}

/** The job's run, as its run.json says, and its folder's paths. */
export function openRun(spec: { dataDir: string; runId: string }): { run: RunSummary; paths: RunPaths } {
  const runs = new RunStore(spec.dataDir)
  return { run: runs.get(spec.runId), paths: runs.paths(spec.runId) }
}

/** Runs a job body that may be cancelled; `hold` registers the model to free at the end. */
export async function cancellable(post: Post, control: JobControl, body: (signal: AbortSignal, hold: (m: LoadedModel) => LoadedModel) => Promise<void>): Promise<void> {
  const abort = new AbortController()
  const poll = setInterval(() => (control.cancelRequested() || control.stopRequested() ? abort.abort(new Error('cancelled')) : undefined), 50)
  let loaded: LoadedModel | null = null
  try {
    await body(abort.signal, (m) => (loaded = m))
  } catch (err) {
    if (abort.signal.aborted) post({ type: 'done', outcome: 'cancelled', step: 0, trainMs: 0 })
    else post({ type: 'failed', error: (err as Error).message, step: 0, trainMs: 0 })
  } finally {
    clearInterval(poll)
    ;(loaded as LoadedModel | null)?.dispose()
  }
}

/**
 * A training loop's progress as job progress (its steps filling `share` of the bar), with ETA and
 * rate, at most every 250 ms (and always at the last step).
 */
export function stepProgress(post: Post, share: number): (p: { step: number; steps: number; seconds: number }) => void {
  let lastPost = 0
  return (p) => {
    const now = performance.now()
    if (now - lastPost < 250 && p.step < p.steps) return
    lastPost = now
    const f = p.step / p.steps
    post({ type: 'progress', fraction: share * f, etaSeconds: f > 0 ? (p.seconds * (1 - f)) / f : null, rate: p.step / Math.max(1e-9, p.seconds), unit: 'steps/s' })
  }
}
