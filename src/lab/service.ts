// The lab service: implements every procedure of the contract on top of the engine. It
// knows nothing of Electron, Vue or transports; shells hand its handlers to createDispatch.
import os from 'node:os'
import { createRequire } from 'node:module'
import { selectBackend } from '../engine/backend/select'
import type { BackendInfo } from '../engine/backend/types'
import { API_VERSION, type SystemInfo } from '../shared/contract'
import { ensureDataDir } from './data-dir'
import { diagnose } from './doctor'
import { HandlerError, type Handlers } from './dispatch'
import { EventBus } from './events'
import { RunStore } from './runs/store'
import { RunLocks, lockOrRefuse } from './runs/run-lock'
import { JobManager } from './jobs/manager'
import { tsxWorkerFactory, type WorkerFactory } from './jobs/worker-factory'
import { catalog, checkTrainConfig } from './catalog'
import { DatasetStore } from './datasets/store'
import { datasetHandlers } from './datasets-api'
import { sampleHandlers } from './samples-api'
import { importTorchRun } from './import-torch'
import { createScoreFieldService } from './score-field'
import { checkpointHandlers } from './checkpoints-api'
import { createEstimator } from './estimate'
import { previewHandlers } from './previews-api'
import { isImageDatasetName } from './datasets/registry'

const require = createRequire(import.meta.url)

export interface LabServiceOptions {
  dataDir: string
  shell: SystemInfo['shell']
  /** Electron/Chrome versions when running inside Electron. */
  extraVersions?: { electron?: string; chrome?: string }
  /** Injected for tests; defaults to selecting the backend in this process. */
  backend?: () => Promise<BackendInfo>
  /** Backend name forced for jobs' workers (CLI --backend, SCORE_LAB_BACKEND). */
  jobBackend?: string
  /** How job workers are created (Electron passes its bundled worker; Node uses tsx). */
  workerFactory?: WorkerFactory
  /** Compute jobs running at once (default 1). */
  concurrency?: number
  /** How this process names itself to another process that finds a run locked. */
  processLabel?: string
  /** Data-set store options (tests point mirrors at a local server). */
  datasets?: ConstructorParameters<typeof DatasetStore>[1]
}

export interface LabService {
  handlers: Handlers
  events: EventBus
  dataDir: string
  runs: RunStore
  locks: RunLocks
  jobs: JobManager
  datasets: DatasetStore
  close(): Promise<void>
}

/** A positive job count from the environment, or undefined (the default applies). */
function envCount(name: string): number | undefined {
  const raw = process.env[name]
  if (raw === undefined || raw === '') return undefined
  const n = Number(raw)
  if (!Number.isInteger(n) || n < 1 || n > 16) throw new Error(`${name} must be a whole number from 1 to 16, got "${raw}"`)
  return n
}

export function appVersion(): string {
  return (require('../../package.json') as { version: string }).version
}

export function createLabService(opts: LabServiceOptions): LabService {
  const dataDir = ensureDataDir(opts.dataDir)
  const events = new EventBus()
  const runs = new RunStore(dataDir)
  const locks = new RunLocks(runs.root, opts.processLabel ?? processLabel(opts.shell))
  const jobs = new JobManager({
    workerFactory: opts.workerFactory ?? tsxWorkerFactory(),
    events,
    runs,
    concurrency: opts.concurrency ?? envCount('SCORE_LAB_TRAINING_JOBS'),
    samplingConcurrency: envCount('SCORE_LAB_SAMPLING_JOBS')
  })
  const datasets = new DatasetStore(dataDir, opts.datasets)
  // A run left "running" by a process that died (SIGKILL, power loss) is interrupted, not running.
  runs.markInterrupted(jobs.liveRunIds())
  let backendPromise: Promise<BackendInfo> | null = null
  const backend = () => (backendPromise ??= (opts.backend ?? (() => selectBackend()))())

  const scoreField = createScoreFieldService(runs)
  const estimator = createEstimator({ jobs, runs, dataDir, backend: opts.jobBackend })
  const startTraining = async (runId: string, resume: boolean) => {
    const run = runs.get(runId)
    if (jobs.activeJobForRun(runId)) throw new HandlerError({ code: 'conflict', message: `Run ${runId} is already training.` })
    // The exclusive run lock, held from queueing to the job's end: no second trainer anywhere.
    const lease = await lockOrRefuse(() => locks.exclusive(runId, 'training'), `train run "${run.name}"`)
    const job = jobs.submit({ kind: 'train', runId, dataDir, config: run.config, resume, priorTrainMs: run.trainMs, backend: opts.jobBackend }, { lease })
    return { runId, jobId: job.id }
  }

  const handlers: Handlers = {
    'system.info': async () => ({
      apiVersion: API_VERSION,
      appVersion: appVersion(),
      shell: opts.shell,
      backend: await backend(),
      versions: {
        node: process.versions.node,
        tfjs: (require('@tensorflow/tfjs-core/package.json') as { version: string }).version,
        ...opts.extraVersions
      },
      dataDir,
      platform: `${process.platform}-${process.arch}`,
      cpus: os.availableParallelism?.() ?? os.cpus().length
    }),
    'system.doctor': async () => diagnose(await backend(), dataDir),
    'system.ping': async ({ message }) => ({ message, receivedAt: Date.now() }),
    'engine.catalog': async () => catalog(),
    ...datasetHandlers(datasets, jobs),
    ...sampleHandlers(runs, jobs, locks, dataDir, opts.jobBackend),
    ...checkpointHandlers(runs, jobs, locks),
    ...previewHandlers(runs),
    'runs.list': async () => runs.list(),
    'runs.get': async ({ runId }) => ({ run: runs.get(runId), checkpoints: runs.checkpoints(runId) }),
    'runs.metrics': async ({ runId, afterStep }) => runs.metrics(runId, afterStep),
    'runs.preview': async ({ runId }) => runs.preview(runId),
    'runs.scoreField': async ({ runId, t, n, useEma }) => scoreField(runId, t, n, useEma ?? true),
    'runs.estimate': async ({ config }) => {
      checkTrainConfig(config)
      return estimator.estimate(config)
    },
    'runs.start': async ({ config, name }) => {
      checkTrainConfig(config)
      // An image batch past the backend's memory is refused here, with the batch that fits,
      // instead of failing inside a kernel (2-D toy models are far below any limit).
      if (isImageDatasetName(config.dataset)) await estimator.checkFits(config)
      const run = runs.create(config, name, null)
      events.emit({ type: 'run', run })
      return startTraining(run.id, false)
    },
    'runs.resume': async ({ runId }) => {
      const run = runs.get(runId)
      if (run.status === 'finished' && run.step >= run.config.steps) {
        throw new HandlerError({ code: 'conflict', message: `Run ${runId} already finished all ${run.config.steps} steps.` })
      }
      return startTraining(runId, true)
    },
    'runs.update': async ({ runId, ...patch }) => {
      const run = runs.update(runId, patch)
      events.emit({ type: 'run', run })
      return run
    },
    'runs.delete': async ({ runId }) => {
      // A run whose run.json is damaged can still be deleted; it is then named by its id.
      let name = runId
      try {
        name = runs.get(runId).name
      } catch (err) {
        if (err instanceof HandlerError && err.code === 'not_found') throw err
      }
      const active = jobs.activeJobForRun(runId)
      // A run that only waits in the queue is taken out of it; one that trains must be stopped first.
      if (active?.state === 'queued') await jobs.cancelQueued(active.id)
      else if (active) throw new HandlerError({ code: 'conflict', message: `Run "${name}" is training; stop it before deleting it.` })
      const lease = await lockOrRefuse(() => locks.forDelete(runId), `delete run "${name}"`)
      try {
        runs.delete(runId)
      } finally {
        await lease.release()
      }
      events.emit({ type: 'run-deleted', runId })
      return { ok: true as const }
    },
    'runs.importTorch': async ({ path, dataset, name }) => {
      const run = await importTorchRun(runs, path, dataset, name)
      events.emit({ type: 'run', run })
      return run
    },
    'jobs.list': async () => jobs.list(),
    'jobs.pause': async ({ jobId }) => jobs.pause(jobId),
    'jobs.resume': async ({ jobId }) => jobs.resume(jobId),
    'jobs.stop': async ({ jobId }) => jobs.stop(jobId),
    'jobs.cancel': async ({ jobId }) => jobs.cancel(jobId),
    'jobs.move': async ({ jobId, direction }) => jobs.move(jobId, direction)
  }

  return { handlers, events, dataDir, runs, locks, jobs, datasets, close: () => jobs.shutdown() }
}

function processLabel(shell: SystemInfo['shell']): string {
  if (shell === 'cli') return 'score-lab'
  return shell === 'electron' ? 'the Score Lab window' : 'Score Lab in browser mode'
}
