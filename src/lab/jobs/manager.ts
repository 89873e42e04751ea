// Runs every long task in its own worker thread; the main thread only routes messages.
// A queue keeps one compute job at a time by default (two would fight for the device).
// A worker that throws, crashes or runs out of memory fails its job with the reason; the lab stays up.
// What a job means for its run (status, step, run events) is not decided here: observers
// (the run lifecycle) are told each step of a job's life and each worker message.
import type { Worker } from 'node:worker_threads'
import { isLiveJobState, type JobInfo } from '../../shared/contract'
import { newJobId } from '../../shared/ids'
import type { EventBus } from '../events'
import { HandlerError } from '../dispatch'
import type { Lease } from '../runs/run-lock'
import type { FromWorker, JobSpec, ProbeJobSpec, ProbeResult, ToWorker } from './protocol'
import type { WorkerFactory } from './worker-factory'

/** What an in-process task (a download: I/O, not compute) gets to report and to stop. */
export interface TaskContext {
  signal: AbortSignal
  progress(fraction: number, etaSeconds: number | null, rate: number | null, unit: string): void
  log(level: 'info' | 'warn' | 'error', message: string): void
}

interface Job {
  info: JobInfo
  spec: JobSpec | null
  /** In-process tasks are aborted through this instead of a worker message. */
  abort?: AbortController
  worker: Worker | null
  /** The run lock this job holds while it is queued or running; released when it ends. */
  lease?: Lease
  /** Set when the user asked to stop or cancel before the worker started. */
  abortedBeforeStart: boolean
}

/** How a job ended, for observers: its worker said so (done/failed), it crashed, it never started, or the lab closed. */
export type JobEnd = { cause: 'worker' } | { cause: 'crash'; error: string } | { cause: 'never-started' } | { cause: 'shutdown' }

/** Told of each step of every job's life (e.g. the run lifecycle, which keeps run.json). */
export interface JobObserver {
  queued?(job: JobInfo): void
  started?(job: JobInfo): void
  message?(job: JobInfo, msg: FromWorker): void
  ended?(job: JobInfo, end: JobEnd): void
}

export interface JobManagerOptions {
  workerFactory: WorkerFactory
  events: EventBus
  /** How many training jobs run at once (default 1: two would fight for the device). */
  concurrency?: number
  /** How many sampling/likelihood jobs run at once, beside training (default 1). */
  samplingConcurrency?: number
}

/** Training has its own lane so a researcher can sample a checkpoint while a run trains. */
type Lane = 'train' | 'sample'
const laneOf = (kind: JobInfo['kind']): Lane => (kind === 'train' ? 'train' : 'sample')

/** Jobs waiting in the queue at most: beyond it a submit is refused rather than piling up. */
export const MAX_QUEUED_JOBS = 64
/** Finished jobs remembered for jobs.list; older ones are forgotten (their results live on disk). */
export const MAX_FINISHED_JOBS = 200

export class JobManager {
  private jobs = new Map<string, Job>()
  private queue: string[] = []
  private running: Record<Lane, Set<string>> = { train: new Set(), sample: new Set() }
  private readonly limits: Record<Lane, number>
  private observers: JobObserver[] = []

  constructor(private readonly opts: JobManagerOptions) {
    this.limits = { train: opts.concurrency ?? 1, sample: opts.samplingConcurrency ?? 1 }
  }

  observe(observer: JobObserver): void {
    this.observers.push(observer)
  }

  private tell(fn: (o: JobObserver) => void): void {
    for (const o of this.observers) {
      try {
        fn(o)
      } catch (err) {
        this.opts.events.emit({ type: 'log', level: 'error', message: `A job observer failed: ${(err as Error).message}`, time: Date.now() })
      }
    }
  }

  list(): JobInfo[] {
    return [...this.jobs.values()].map((j) => j.info).sort((a, b) => b.createdAt - a.createdAt)
  }

  get(id: string): JobInfo {
    return this.job(id).info
  }

  /** Run ids with a live (queued, running or paused) training job. */
  liveRunIds(): Set<string> {
    return new Set([...this.jobs.values()].filter((j) => isLive(j.info.state) && j.info.runId && j.info.kind === 'train').map((j) => j.info.runId!))
  }

  activeJobForRun(runId: string, kind: JobInfo['kind'] = 'train'): JobInfo | null {
    return [...this.jobs.values()].find((j) => j.info.runId === runId && j.info.kind === kind && isLive(j.info.state))?.info ?? null
  }

  submit(spec: DistributiveOmit<JobSpec, 'jobId'>, opts: { lease?: Lease } = {}): JobInfo {
    if (this.queue.length >= MAX_QUEUED_JOBS) {
      void opts.lease?.release()
      throw new HandlerError({ code: 'conflict', message: `${MAX_QUEUED_JOBS} jobs are already waiting; cancel some or wait for them to run.` })
    }
    const id = newJobId()
    const info: JobInfo = {
      id,
      kind: spec.kind,
      state: 'queued',
      runId: spec.runId,
      createdAt: Date.now(),
      startedAt: null,
      endedAt: null,
      fraction: 0,
      etaSeconds: null,
      error: null,
      result: null
    }
    const job: Job = { info, spec: { ...spec, jobId: id } as JobSpec, worker: null, lease: opts.lease, abortedBeforeStart: false }
    this.jobs.set(id, job)
    this.queue.push(id)
    this.emitJob(job)
    this.tell((o) => o.queued?.(job.info))
    this.pump()
    return job.info
  }

  /**
   * Runs an I/O-bound task (a download or import) in this thread as a job: same states,
   * progress events and cancel as worker jobs, outside the compute queue.
   */
  submitTask(kind: JobInfo['kind'], task: (ctx: TaskContext) => Promise<void>): JobInfo {
    const id = newJobId()
    const abort = new AbortController()
    const now = Date.now()
    const job: Job = {
      info: { id, kind, state: 'running', runId: null, createdAt: now, startedAt: now, endedAt: null, fraction: 0, etaSeconds: null, error: null, result: null },
      spec: null,
      abort,
      worker: null,
      abortedBeforeStart: false
    }
    this.jobs.set(id, job)
    this.emitJob(job)
    const ctx: TaskContext = {
      signal: abort.signal,
      progress: (fraction, etaSeconds, rate, unit) => {
        job.info = { ...job.info, fraction, etaSeconds }
        this.opts.events.emit({ type: 'progress', jobId: id, fraction, etaSeconds, rate, unit })
      },
      log: (level, message) => this.opts.events.emit({ type: 'log', level, message, jobId: id, time: Date.now() })
    }
    void task(ctx).then(
      () => this.finish(job, abort.signal.aborted ? 'cancelled' : 'finished', null),
      (err: Error) => this.finish(job, abort.signal.aborted ? 'cancelled' : 'failed', abort.signal.aborted ? null : err.message)
    )
    return job.info
  }

  /** Moves a queued job one place earlier or later among the queued jobs of its lane. */
  move(id: string, direction: 'earlier' | 'later'): JobInfo[] {
    const job = this.job(id)
    if (job.info.state !== 'queued' || !this.queue.includes(id)) throw new HandlerError({ code: 'conflict', message: `Job ${id} is ${job.info.state}, not waiting in the queue.` })
    const lane = laneOf(job.info.kind)
    const same = this.queue.filter((q) => laneOf(this.jobs.get(q)!.info.kind) === lane)
    const k = same.indexOf(id)
    const other = same[direction === 'earlier' ? k - 1 : k + 1]
    if (other) {
      const a = this.queue.indexOf(id)
      const b = this.queue.indexOf(other)
      this.queue[a] = other
      this.queue[b] = id
      this.refreshPositions()
    }
    return this.queue.map((q) => this.jobs.get(q)!.info)
  }

  /** Cancels a job that has not started yet and waits until its run lock is free again. */
  async cancelQueued(id: string): Promise<void> {
    const job = this.job(id)
    if (job.info.state !== 'queued' || job.worker) throw new HandlerError({ code: 'conflict', message: `Job ${id} has already started.` })
    const released = job.lease?.release()
    job.lease = undefined
    this.end(id, 'cancel')
    await released
  }

  /**
   * Runs the cost probe of a run's settings in a worker of its own, outside the queue and the
   * job list (it takes a second or two). Rejects with the worker's reason.
   */
  probe(spec: Omit<ProbeJobSpec, 'jobId' | 'kind' | 'runId'>): Promise<ProbeResult> {
    return new Promise((resolve, reject) => {
      let worker: Worker
      try {
        worker = this.opts.workerFactory()
      } catch (err) {
        reject(new Error(`Could not start a worker thread: ${(err as Error).message}`))
        return
      }
      const end = (fn: () => void) => {
        void worker.terminate()
        fn()
      }
      worker.on('message', (msg: FromWorker) => {
        if (msg.type === 'probed') end(() => resolve(msg.result))
        else if (msg.type === 'failed') end(() => reject(new Error(msg.error)))
      })
      worker.on('error', (err) => end(() => reject(new Error(describeCrash(err)))))
      worker.on('exit', (code) => reject(new Error(`The probe's worker exited (code ${code}).`)))
      worker.postMessage({ type: 'start', spec: { ...spec, kind: 'probe', jobId: 'probe', runId: null } } satisfies ToWorker)
    })
  }

  pause(id: string): JobInfo {
    const job = this.job(id)
    if (job.info.kind !== 'train') throw new HandlerError({ code: 'conflict', message: 'Only training jobs can be paused; cancel this one instead.' })
    if (job.info.state !== 'running') throw new HandlerError({ code: 'conflict', message: `Job ${id} is ${job.info.state}, not running.` })
    this.post(job, { type: 'pause' })
    return job.info
  }

  resume(id: string): JobInfo {
    const job = this.job(id)
    if (job.info.state !== 'paused') throw new HandlerError({ code: 'conflict', message: `Job ${id} is ${job.info.state}, not paused.` })
    this.post(job, { type: 'resume' })
    return job.info
  }

  /** Training: save a checkpoint and end. Other kinds: same as cancel. */
  stop(id: string): JobInfo {
    return this.end(id, 'stop')
  }

  cancel(id: string): JobInfo {
    return this.end(id, 'cancel')
  }

  /**
   * Ends every job because the lab is closing: a training run is *interrupted* (resumable from
   * its last checkpoint), not failed, and queued work is dropped.
   */
  async shutdown(): Promise<void> {
    const live = [...this.jobs.values()].filter((j) => isLive(j.info.state))
    const workers = live.map((j) => j.worker).filter((w): w is Worker => w !== null)
    this.queue = []
    for (const job of live) this.finish(job, 'cancelled', null, { cause: 'shutdown' })
    await Promise.all(workers.map((w) => w.terminate()))
  }

  private end(id: string, how: 'stop' | 'cancel'): JobInfo {
    const job = this.job(id)
    if (!isLive(job.info.state)) throw new HandlerError({ code: 'conflict', message: `Job ${id} has already ${job.info.state}.` })
    if (job.abort) {
      job.abort.abort()
      return job.info
    }
    if (job.info.state === 'queued' && !job.worker) {
      // Cancelled while waiting (or while starting): it never runs.
      this.queue = this.queue.filter((q) => q !== id)
      job.abortedBeforeStart = true
      this.finish(job, 'cancelled', null, { cause: 'never-started' })
      this.refreshPositions()
      return job.info
    }
    this.post(job, { type: how })
    return job.info
  }

  /** Gives each queued job its place in its lane's line, emitting the jobs whose place changed. */
  private refreshPositions(): void {
    const next: Record<Lane, number> = { train: 1, sample: 1 }
    for (const id of this.queue) {
      const job = this.jobs.get(id)!
      const position = next[laneOf(job.info.kind)]++
      if (job.info.position !== position) {
        job.info = { ...job.info, position }
        this.emitJob(job)
      }
    }
  }

  private pump(): void {
    // First come, first served within each lane; a full lane does not hold up the other.
    for (const id of [...this.queue]) {
      const job = this.jobs.get(id)!
      const lane = laneOf(job.info.kind)
      if (job.abortedBeforeStart) {
        this.queue = this.queue.filter((q) => q !== id)
        continue
      }
      if (this.running[lane].size >= this.limits[lane]) continue
      this.queue = this.queue.filter((q) => q !== id)
      this.running[lane].add(id)
      this.launch(job)
    }
    this.refreshPositions()
  }

  private launch(job: Job): void {
    job.info = { ...job.info, state: 'running', startedAt: Date.now(), position: null }
    this.emitJob(job)
    this.tell((o) => o.started?.(job.info))
    let worker: Worker
    try {
      worker = this.opts.workerFactory()
    } catch (err) {
      this.fail(job, `Could not start a worker thread: ${(err as Error).message}`)
      return
    }
    job.worker = worker
    worker.on('message', (msg: FromWorker) => this.onMessage(job, msg))
    worker.on('error', (err) => this.fail(job, describeCrash(err)))
    worker.on('exit', (code) => {
      if (isLive(job.info.state)) this.fail(job, `The worker thread exited unexpectedly (code ${code}).`)
    })
    this.post(job, { type: 'start', spec: job.spec! })
  }

  private onMessage(job: Job, msg: FromWorker): void {
    if (!isLive(job.info.state)) return // a late message from a worker already ended
    switch (msg.type) {
      case 'state':
        job.info = { ...job.info, state: msg.state }
        this.emitJob(job)
        break
      case 'progress':
        job.info = { ...job.info, fraction: msg.fraction, etaSeconds: msg.etaSeconds }
        this.opts.events.emit({ type: 'progress', jobId: job.info.id, fraction: msg.fraction, etaSeconds: msg.etaSeconds, rate: msg.rate, unit: msg.unit })
        break
      case 'log':
        this.opts.events.emit({ type: 'log', level: msg.level, message: msg.message, jobId: job.info.id, time: Date.now() })
        break
      case 'done':
        if (msg.result) job.info = { ...job.info, result: msg.result }
        break
    }
    this.tell((o) => o.message?.(job.info, msg))
    if (msg.type === 'done') this.finish(job, msg.outcome === 'cancelled' ? 'cancelled' : 'finished', null, { cause: 'worker' })
    else if (msg.type === 'failed') this.finish(job, 'failed', msg.error, { cause: 'worker' })
  }

  /** The worker could not start, crashed or exited without a word. */
  private fail(job: Job, error: string): void {
    if (!isLive(job.info.state)) return
    this.finish(job, 'failed', error, { cause: 'crash', error })
  }

  private finish(job: Job, state: 'finished' | 'failed' | 'cancelled', error: string | null, end: JobEnd = { cause: 'worker' }): void {
    const lane = this.running[laneOf(job.info.kind)]
    const wasRunning = lane.delete(job.info.id)
    job.info = { ...job.info, state, error, endedAt: Date.now(), fraction: state === 'finished' ? 1 : job.info.fraction, etaSeconds: null, position: null }
    this.tell((o) => o.ended?.(job.info, end))
    this.emitJob(job)
    if (job.worker) {
      const w = job.worker
      job.worker = null
      void w.terminate()
    }
    if (job.lease) {
      void job.lease.release()
      job.lease = undefined
    }
    this.forgetOldJobs()
    if (wasRunning) this.pump()
  }

  private forgetOldJobs(): void {
    const ended = [...this.jobs.values()].filter((j) => !isLive(j.info.state)).sort((a, b) => (a.info.endedAt ?? 0) - (b.info.endedAt ?? 0))
    for (const j of ended.slice(0, Math.max(0, ended.length - MAX_FINISHED_JOBS))) this.jobs.delete(j.info.id)
  }

  private post(job: Job, msg: ToWorker): void {
    job.worker?.postMessage(msg)
  }

  private emitJob(job: Job): void {
    this.opts.events.emit({ type: 'job', job: job.info })
  }

  private job(id: string): Job {
    const job = this.jobs.get(id)
    if (!job) throw new HandlerError({ code: 'not_found', message: `No job "${id}".` })
    return job
  }
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never

const isLive = isLiveJobState

function describeCrash(err: Error): string {
  if (/ERR_WORKER_OUT_OF_MEMORY|out of memory/i.test(`${(err as NodeJS.ErrnoException).code} ${err.message}`)) {
    return 'The job ran out of memory. Try a smaller batch size or model.'
  }
  return `The job crashed: ${err.message}`
}
