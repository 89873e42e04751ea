// Derived facts about a run for tables and headers.
import type { JobInfo, RunSummary } from '@shared/contract'

/**
 * Training time over every session: the lab rewrites trainMs every few seconds while a run
 * trains (and at each checkpoint), so only the time since that write is added here, and only
 * while it runs (a pause does not count).
 */
export function runDurationMs(run: RunSummary, job: JobInfo | null, now: number): number {
  const live = job && job.state === 'running' && run.status === 'running' ? Math.max(0, now - run.updatedAt) : 0
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

/** What to do about a failed run, where the failure has a known fix. */
export function fixFor(run: RunSummary): { text: string; command?: string; after?: string } | null {
  const e = run.error ?? ''
  if (/not in the data folder|failed verification/i.test(e)) return { text: 'Get the data set in the Datasets panel (or with', command: `npx score-lab datasets get ${run.config.dataset}`, after: '), then Retry.' }
  if (/out of memory/i.test(e)) return { text: 'Start a new run from these settings with a smaller batch size or model.' }
  if (/non-finite|NaN|Infinity/i.test(e)) return { text: 'Start a new run from these settings with a lower learning rate or gradient clipping.' }
  return null
}
