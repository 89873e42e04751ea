// What training does to a run: the one owner of a run's status, step, losses, training time,
// backend and owner (run.json), and of the events that say so (run, metrics, checkpoint,
// preview). The job manager only queues workers and tells its observers what happened; this
// module turns a training job's life into the run's, and takes the run's exclusive lock for it.
//
//   queued ──launch──▶ running ⇄ paused ──done──▶ finished | stopped
//      │                  │ └──────failed / crash──▶ failed
//      └─cancel─▶ stopped └──lab closes──▶ interrupted (resumable from its last checkpoint)
import os from 'node:os'
import { isLiveRunStatus, type CheckpointInfo, type JobInfo, type RunSummary, type TrainConfig } from '../../shared/contract'
import { HandlerError } from '../dispatch'
import type { EventBus } from '../events'
import type { JobEnd, JobManager, JobObserver } from '../jobs/manager'
import type { FromWorker } from '../jobs/protocol'
import { lockOrRefuse, type RunLocks } from './run-lock'
import type { RunStore } from './store'

/** run.json is rewritten at most this often for metrics (metrics.jsonl already holds every point). */
const RUN_WRITE_MS = 3000

export interface TrainingStarted {
  runId: string
  jobId: string
  /** The run as it now is: queued, its job set. */
  run: RunSummary
}

export class RunLifecycle implements JobObserver {
  private lastRunWrite = new Map<string, number>()

  constructor(
    private readonly runs: RunStore,
    private readonly jobs: JobManager,
    private readonly locks: RunLocks,
    private readonly events: EventBus,
    /** Backend name forced for training workers (CLI --backend), if any. */
    private readonly backend?: string
  ) {
    jobs.observe(this)
  }

  /** Creates a run and queues its training. */
  async create(config: TrainConfig, name: string | undefined): Promise<TrainingStarted> {
    const run = this.runs.create(config, name, null)
    this.events.emit({ type: 'run', run })
    return this.train(run.id, false)
  }

  /**
   * Queues a run's training (from its last checkpoint with `resume`) under its exclusive lock.
   * A run that trains elsewhere (exported to PyTorch) is refused unless `here` takes it back.
   */
  async train(runId: string, resume: boolean, opts: { here?: boolean; steps?: number } = {}): Promise<TrainingStarted> {
    let run = this.runs.get(runId)
    if (run.trainsElsewhere) {
      const where = run.attachedDir ?? run.trainsElsewhere.where
      if (!opts.here) {
        throw new HandlerError({
          code: 'conflict',
          message: `this run trains elsewhere (${where}); to continue it in this lab from its newest checkpoint, resume it here (score-lab train --resume ${runId} --here).`
        })
      }
      if (this.jobs.activeJobForRun(runId)) throw new HandlerError({ code: 'conflict', message: `Run ${runId} is already training.` })
      // Deliberately taken back: from now on the lab trains it (in its own folder, attached or not).
      run = this.runs.update(runId, { trainsElsewhere: null, status: 'stopped' })
      this.events.emit({ type: 'run', run })
    }
    if (this.jobs.activeJobForRun(runId)) throw new HandlerError({ code: 'conflict', message: `Run ${runId} is already training.` })
    if (opts.steps !== undefined && opts.steps !== run.config.steps) {
      if (opts.steps <= run.step) throw new HandlerError({ code: 'bad_request', message: `Run ${runId} is at step ${run.step}; train it to more steps than that (got ${opts.steps}).` })
      run = this.runs.update(runId, { config: { ...run.config, steps: opts.steps } })
    }
    if (resume && run.status === 'finished' && run.step >= run.config.steps) {
      throw new HandlerError({ code: 'conflict', message: `Run ${runId} already finished all ${run.config.steps} steps.` })
    }
    // Held from queueing to the job's end: no second trainer anywhere, in any process.
    const lease = await lockOrRefuse(() => this.locks.exclusive(runId, 'training'), `train run "${run.name}"`)
    const job = this.jobs.submit({ kind: 'train', runId, dataDir: this.dataDir(), config: run.config, resume, priorTrainMs: run.trainMs, backend: this.backend }, { lease })
    return { runId, jobId: job.id, run: this.runs.get(runId) }
  }

  /**
   * At start-up: runs that claim to be live with no job here died with their process (SIGKILL,
   * power loss) and are interrupted. A run owned by another live process on this machine (the GUI
   * while the CLI lists runs, say) is left alone.
   */
  recoverInterrupted(): RunSummary[] {
    const live = this.jobs.liveRunIds()
    const changed: RunSummary[] = []
    for (const run of this.runs.list()) {
      // A run that trains elsewhere says "running" in its own folder; it is that trainer's to change.
      if (!isLiveRunStatus(run.status) || live.has(run.id) || run.trainsElsewhere) continue
      if (run.owner && run.owner.pid !== process.pid && run.owner.host === os.hostname() && processAlive(run.owner.pid)) continue
      changed.push(this.runs.update(run.id, { status: 'interrupted', jobId: null, owner: null }))
    }
    return changed
  }

  // ---- what the job manager reports (training jobs only) ----

  queued(job: JobInfo): void {
    if (isTraining(job)) this.update(job.runId, { status: 'queued', jobId: job.id, error: null })
  }

  started(job: JobInfo): void {
    if (isTraining(job)) this.update(job.runId, { status: 'running', jobId: job.id, error: null, owner: { pid: process.pid, host: os.hostname() } })
  }

  message(job: JobInfo, msg: FromWorker): void {
    const runId = job.runId
    if (!runId) return
    const training = job.kind === 'train'
    switch (msg.type) {
      case 'backend':
        // The run records the backend it trains on; a sampling job's backend is its own.
        if (training) this.update(runId, { backend: `${msg.name} (${msg.device})` })
        break
      case 'state':
        if (training) this.update(runId, { status: msg.state })
        break
      case 'metrics': {
        if (msg.points.length === 0) break
        this.events.emit({ type: 'metrics', runId, points: msg.points })
        const last = msg.points[msg.points.length - 1]!
        if (Date.now() - (this.lastRunWrite.get(job.id) ?? 0) > RUN_WRITE_MS) {
          this.lastRunWrite.set(job.id, Date.now())
          this.update(runId, { step: last.step, lastLoss: last.loss, trainMs: msg.trainMs })
        }
        break
      }
      case 'checkpoint':
        this.events.emit({ type: 'checkpoint', runId, checkpoint: msg.checkpoint, checkpoints: newestFirst(msg.checkpoints) })
        this.update(runId, {
          step: msg.checkpoint.step,
          bestLoss: minLoss(msg.checkpoints),
          ...(msg.checkpoint.trainMs === undefined ? {} : { trainMs: msg.checkpoint.trainMs })
        })
        break
      case 'preview':
        this.events.emit({ type: 'preview', runId, step: msg.step, dataUrl: msg.dataUrl })
        break
      case 'done':
        if (training) this.update(runId, { status: msg.outcome === 'finished' ? 'finished' : 'stopped', step: msg.step, jobId: null, owner: null, trainMs: msg.trainMs })
        break
      case 'failed':
        // A job that failed before it loaded anything (step null) leaves the run's step as it was.
        if (training) this.update(runId, { status: 'failed', error: msg.error, jobId: null, owner: null, ...(msg.step === null ? {} : { step: msg.step, trainMs: msg.trainMs ?? 0 }) })
        break
    }
  }

  ended(job: JobInfo, end: JobEnd): void {
    this.lastRunWrite.delete(job.id)
    if (!isTraining(job)) return
    switch (end.cause) {
      case 'crash':
        this.update(job.runId, { status: 'failed', error: end.error, jobId: null, owner: null })
        break
      case 'never-started':
        // It never trained in this queue: the run is as it was before it was queued.
        this.update(job.runId, { status: 'stopped', jobId: null, owner: null })
        break
      case 'shutdown':
        this.update(job.runId, { status: 'interrupted', jobId: null, owner: null })
        break
      case 'worker':
        break // its done/failed message said it all
    }
  }

  private dataDir(): string {
    return this.runs.dataDir
  }

  private update(runId: string, patch: Partial<RunSummary>): void {
    try {
      const run = this.runs.update(runId, patch)
      this.events.emit({ type: 'run', run })
    } catch (err) {
      this.events.emit({ type: 'log', level: 'error', message: `Could not update run ${runId}: ${(err as Error).message}`, time: Date.now() })
    }
  }
}

function isTraining(job: JobInfo): job is JobInfo & { runId: string } {
  return job.kind === 'train' && job.runId !== null
}

function newestFirst(cks: CheckpointInfo[]): CheckpointInfo[] {
  return [...cks].sort((a, b) => b.step - a.step)
}

function minLoss(cks: { loss: number | null }[]): number | null {
  const losses = cks.map((c) => c.loss).filter((l): l is number => l !== null && Number.isFinite(l))
  return losses.length ? Math.min(...losses) : null
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM' // alive, owned by another user
  }
}
