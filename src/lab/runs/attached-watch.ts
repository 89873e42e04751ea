// Live view of attached runs that train elsewhere: the lab trains nothing there, so nothing in this
// process reports their progress. This polls their folders (run.json, metrics.jsonl, the
// checkpoint manifest) and turns what changed into the same events a local training job sends
// (run, metrics, checkpoint), so curves and checkpoint lists update as for a local run. Polling
// (not fs.watch): a folder synced by rsync or on a network file system gives no reliable events.
import fs from 'node:fs'
import path from 'node:path'
import type { CheckpointInfo } from '../../shared/contract'
import type { EventBus } from '../events'
import { MANIFEST } from './checkpoint-folder'
import { readMetrics } from './metrics-log'
import type { RunStore } from './store'

const POLL_MS = 1000

interface Seen {
  run: number
  metrics: number
  manifest: number
  lastStep: number
  newestCheckpoint: string | null
}

/** mtime and size as one number that changes when either does (0: absent). */
function stamp(file: string): number {
  try {
    const st = fs.statSync(file)
    return st.mtimeMs * 1e3 + (st.size % 1000)
  } catch {
    return 0
  }
}

export class AttachedRunWatch {
  private readonly seen = new Map<string, Seen>()
  private timer: NodeJS.Timeout | null = null

  constructor(
    private readonly runs: RunStore,
    private readonly events: EventBus,
    private readonly pollMs = POLL_MS
  ) {}

  watch(runId: string): void {
    if (this.seen.has(runId)) return
    const p = this.runs.paths(runId)
    const points = readMetrics(p.metrics)
    const cks = this.runs.checkpoints(runId)
    this.seen.set(runId, { run: stamp(p.runFile), metrics: stamp(p.metrics), manifest: manifestStamp(p.checkpoints), lastStep: points.at(-1)?.step ?? 0, newestCheckpoint: newest(cks)?.file ?? null })
    this.timer ??= setInterval(() => this.poll(), this.pollMs)
    this.timer.unref()
  }

  /** One pass over every watched run (the timer calls it; tests may too). */
  poll(): void {
    for (const [runId, seen] of this.seen) {
      try {
        this.pollRun(runId, seen)
      } catch {
        // Mid-sync or detached: try again next time (a detached run is dropped below).
        if (!this.runs.attached().has(runId)) this.seen.delete(runId)
      }
    }
  }

  private pollRun(runId: string, seen: Seen): void {
    const p = this.runs.paths(runId)
    const runStamp = stamp(p.runFile)
    const run = this.runs.get(runId)
    if (runStamp !== seen.run) {
      seen.run = runStamp
      this.events.emit({ type: 'run', run })
    }
    // Once the lab trains it itself, its own job reports; the folder is only followed before that.
    const live = Boolean(run.trainsElsewhere)
    const metricsStamp = stamp(p.metrics)
    if (live && metricsStamp !== seen.metrics) {
      seen.metrics = metricsStamp
      const points = readMetrics(p.metrics, seen.lastStep)
      if (points.length > 0) {
        seen.lastStep = points.at(-1)!.step
        this.events.emit({ type: 'metrics', runId, points })
      } else {
        // A restart elsewhere cut the file back to its checkpoint: follow from there.
        seen.lastStep = Math.min(seen.lastStep, readMetrics(p.metrics).at(-1)?.step ?? 0)
      }
    }
    const ms = manifestStamp(p.checkpoints)
    if (ms !== seen.manifest) {
      seen.manifest = ms
      const cks = this.runs.checkpoints(runId)
      const top = newest(cks)
      if (live && top && top.file !== seen.newestCheckpoint) {
        this.events.emit({ type: 'checkpoint', runId, checkpoint: top, checkpoints: [...cks].sort((a, b) => b.step - a.step) })
      }
      seen.newestCheckpoint = top?.file ?? null
    }
  }

  close(): void {
    if (this.timer) clearInterval(this.timer)
    this.timer = null
    this.seen.clear()
  }
}

/** The checkpoints folder and its manifest: retention and new checkpoints change one or the other. */
function manifestStamp(dir: string): number {
  return stamp(dir) + stamp(path.join(dir, MANIFEST))
}

function newest(cks: CheckpointInfo[]): CheckpointInfo | null {
  return cks.reduce<CheckpointInfo | null>((a, c) => (a && a.step >= c.step ? a : c), null)
}
