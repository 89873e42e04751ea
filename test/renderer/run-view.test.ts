// Derived run facts shown in the Runs table and the Training header.
import { describe, expect, it } from 'vitest'
import type { JobInfo, RunSummary } from '@shared/contract'
import { runDurationMs } from '../../src/renderer/src/lib/run-view'

describe('runDurationMs', () => {
  it('a live run shows its stored time plus only the time since the lab last wrote it, and nothing while paused', () => {
    const run = { status: 'running', trainMs: 60_000, updatedAt: 1_000_000 } as RunSummary
    const job = { state: 'running', startedAt: 0 } as JobInfo
    expect(runDurationMs(run, job, 1_002_000)).toBe(62_000)
    expect(runDurationMs({ ...run, status: 'paused' }, { ...job, state: 'paused' }, 1_002_000)).toBe(60_000)
  })
})
