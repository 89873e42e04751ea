// Derived facts about a run for tables and headers.
import type { JobInfo, RunSummary } from '@shared/contract'

/** Training time: stored sessions plus the live one (the lab adds it to trainMs when the session ends). */
export function runDurationMs(run: RunSummary, job: JobInfo | null, now: number): number {
  const live = job && job.startedAt && (job.state === 'running' || job.state === 'paused') ? now - job.startedAt : 0
  return run.trainMs + live
}

export const STATUS_LABEL: Record<RunSummary['status'], string> = {
  queued: 'Queued',
  running: 'Running',
  paused: 'Paused',
  finished: 'Finished',
  failed: 'Failed',
  stopped: 'Stopped',
  interrupted: 'Interrupted'
}
