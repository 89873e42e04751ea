// The lab service: implements every procedure of the contract on top of the engine. It
// knows nothing of Electron, Vue or transports; shells hand its handlers to createDispatch.
import { groupMembers, groupTag, memberName } from './run-groups'
import os from 'node:os'
import { createRequire } from 'node:module'
import type { BackendInfo } from '../engine/backend/types'
import { API_VERSION, type SystemInfo, type TrainConfig } from '../shared/contract'
import { backendTimingsPath, ensureDataDir } from './data-dir'
import { diagnose } from './doctor'
import { HandlerError, type Handlers } from './dispatch'
import { EventBus } from './events'
import { RunStore } from './runs/store'
import { RunLocks, lockOrRefuse } from './runs/run-lock'
import { RunLifecycle } from './runs/run-lifecycle'
import { AttachedRunWatch } from './runs/attached-watch'
import { JobManager } from './jobs/manager'
import { tsxWorkerFactory, type WorkerFactory } from './jobs/worker-factory'
import { DatasetStore } from './datasets/store'
import { datasetHandlers } from './datasets-api'
import { sampleHandlers } from './samples-api'
import { classifierHandlers } from './classifiers-api'
import { checkpointHandlers } from './checkpoints-api'
import { createEstimator } from './estimate'
import { previewHandlers } from './previews-api'
import { isImageDatasetName } from './datasets/registry'

const require = createRequire(import.meta.url)

// The engine (TensorFlow.js, the backends, the model/SDE/sampler registries) loads on first
// use, so `score-lab runs list` and the like never pay for it (test/cli/lazy-load.test.ts).
const engineCatalog = () => import('./catalog')
/** Checks a training config's names against the engine's registries (loads them on first use). */
async function checkTrainConfig(config: TrainConfig): Promise<void> {
  ;(await engineCatalog()).checkTrainConfig(config)
}

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
  lifecycle: RunLifecycle
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
    concurrency: opts.concurrency ?? envCount('SCORE_LAB_TRAINING_JOBS'),
    samplingConcurrency: envCount('SCORE_LAB_SAMPLING_JOBS')
  })
  const datasets = new DatasetStore(dataDir, opts.datasets)
  const lifecycle = new RunLifecycle(runs, jobs, locks, events, opts.jobBackend)
  // A run left "running" by a process that died (SIGKILL, power loss) is interrupted, not running.
  lifecycle.recoverInterrupted()
  // Attached runs that train elsewhere change on disk: their new points, checkpoints and state become events.
  const attachedWatch = new AttachedRunWatch(runs, events)
  for (const id of runs.attached().keys()) attachedWatch.watch(id)
  let backendPromise: Promise<BackendInfo> | null = null
  const backend = () => (backendPromise ??= (opts.backend ?? (async () => (await import('../engine/backend/select')).selectBackend({ timingsFile: backendTimingsPath(dataDir) })))())

  // One score-field service (it caches the loaded model), created on the first request.
  let scoreFieldPromise: Promise<ReturnType<typeof import('./score-field').createScoreFieldService>> | null = null
  const scoreField = () => (scoreFieldPromise ??= import('./score-field').then((m) => m.createScoreFieldService(runs)))
  const estimator = createEstimator({ jobs, runs, dataDir, backend: opts.jobBackend })
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
    'system.remeasureBackends': async () => {
      const { timing } = await backend()
      if (!timing?.file) {
        return { forgotten: false, file: null, message: 'Nothing is kept to forget: the backend was forced, only one backend loads here, or no timings file is in use.' }
      }
      // This process keeps its backend (the score field uses it); the next start or job's worker measures.
      const { forgetTimings } = await import('../engine/backend/timings-cache')
      const forgotten = forgetTimings(timing.file, timing.key)
      const message = forgotten
        ? 'The kept backend timings of this machine were forgotten: the next start (or job) measures the backends again.'
        : 'No timings were kept for this machine (already forgotten): the next start (or job) measures the backends again.'
      return { forgotten, file: timing.file, message }
    },
    'system.ping': async ({ message }) => ({ message, receivedAt: Date.now() }),
    'engine.catalog': async () => (await engineCatalog()).catalog(),
    ...datasetHandlers(datasets, jobs),
    ...classifierHandlers(datasets, jobs, dataDir, opts.jobBackend, runs),
    ...sampleHandlers(runs, jobs, locks, dataDir, opts.jobBackend),
    ...checkpointHandlers(runs, jobs, locks),
    ...previewHandlers(runs),
    'runs.list': async () => runs.list(),
    'runs.get': async ({ runId }) => ({ run: runs.get(runId), checkpoints: runs.checkpoints(runId) }),
    'runs.metrics': async ({ runId, afterStep }) => runs.metrics(runId, afterStep),
    'runs.preview': async ({ runId }) => runs.preview(runId),
    'runs.scoreField': async ({ runId, t, n, useEma }) => (await scoreField())(runId, t, n, useEma ?? true),
    'runs.estimate': async ({ config }) => {
      await checkTrainConfig(config)
      return estimator.estimate(config)
    },
    'runs.start': async ({ config, name }) => {
      await checkTrainConfig(config)
      // An image batch past the backend's memory is refused here, with the batch that fits,
      // instead of failing inside a kernel (2-D toy models are far below any limit).
      if (isImageDatasetName(config.dataset)) await estimator.checkFits(config)
      return lifecycle.create(config, name)
    },
    'runs.startGroup': async ({ config, name, vary }) => {
      let members
      try {
        members = groupMembers(config, vary.setting, vary.values)
      } catch (err) {
        throw new HandlerError({ code: 'bad_request', message: (err as Error).message })
      }
      // Every recipe is checked (names, memory) before the first run exists: all or nothing.
      for (const m of members) {
        await checkTrainConfig(m.config)
        if (isImageDatasetName(m.config.dataset)) await estimator.checkFits(m.config)
      }
      const started = []
      for (const m of members) {
        const { runId, jobId } = await lifecycle.create(m.config, memberName(name, vary.setting, m.value))
        events.emit({ type: 'run', run: runs.update(runId, { tags: [groupTag(name), `${vary.setting}=${m.value}`] }) })
        started.push({ runId, jobId, value: m.value })
      }
      return { group: name, runs: started }
    },
    'runs.resume': async ({ runId, here, steps }) => lifecycle.train(runId, true, { here: here ?? false, steps }),
    'runs.exportTorch': async ({ runId, path }) => {
      const { exportTorchPackage } = await import('./torch-export/export')
      return exportTorchPackage(runs, runId, path, (name) => datasets.dir(name))
    },
    'runs.attach': async ({ path }) => {
      const { attachRun } = await import('./runs/attached')
      const run = attachRun(runs, path)
      attachedWatch.watch(run.id)
      events.emit({ type: 'run', run })
      return run
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
      const { importTorchRun } = await import('./import-torch')
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

  const close = async () => {
    attachedWatch.close()
    await jobs.shutdown()
  }
  return { handlers, events, dataDir, runs, locks, jobs, lifecycle, datasets, close }
}

function processLabel(shell: SystemInfo['shell']): string {
  if (shell === 'cli') return 'score-lab'
  return shell === 'electron' ? 'the Score Lab window' : 'Score Lab in browser mode'
}
