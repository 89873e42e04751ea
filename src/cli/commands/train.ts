import { presetFor } from '../../lab/catalog'
import { isImageDatasetName } from '../../lab/datasets/registry'
import { resolveRunRef } from '../../lab/runs/run-ref'
import { LIMITS, SSM_PROJECTIONS, TRAIN_OBJECTIVES, type TrainConfig } from '../../shared/contract'
import { ProgressLine, formatDuration } from '../progress'
import { UsageError, int, num, waitForJob, type Cli } from '../context'
import { TRAIN_OPTIONS } from '../options'

export { TRAIN_OPTIONS }

/** Short SDE names of the CLI → registry keys. */
const SDE_ALIASES: Record<string, string> = { ve: 'vesde', vp: 'vpsde', subvp: 'subvpsde', 've-tutorial': 'vesde_tutorial' }

export type TrainFlags = { [K in keyof typeof TRAIN_OPTIONS]?: (typeof TRAIN_OPTIONS)[K]['type'] extends 'boolean' ? boolean : string }

export function configFromFlags(flags: TrainFlags, trainSizes: Record<string, number>): TrainConfig {
  if (!flags.dataset) throw new UsageError('--dataset is required (mnist, fashion-mnist, cifar10, toy-gmm, toy-rings, toy-moons)')
  const preset = presetFor(flags.dataset)
  if (!preset) throw new UsageError(`unknown data set "${flags.dataset}" (choose mnist, fashion-mnist, cifar10, toy-gmm, toy-rings, toy-moons)`)
  const c: TrainConfig = structuredClone({ ...preset.config, dataset: flags.dataset })
  if (flags.model) c.model = flags.model
  if (flags.sde) c.sde = { name: SDE_ALIASES[flags.sde] ?? flags.sde, params: {} }
  const sigmaMax = num('sigma-max', flags['sigma-max'])
  if (sigmaMax !== undefined) c.sde.params.sigmaMax = sigmaMax
  const batch = int('batch', flags.batch)
  if (batch !== undefined) c.batchSize = batch
  const steps = int('steps', flags.steps)
  const epochs = num('epochs', flags.epochs)
  if (steps !== undefined && epochs !== undefined) throw new UsageError('give --steps or --epochs, not both')
  if (steps !== undefined) c.steps = steps
  if (epochs !== undefined) {
    const size = trainSizes[c.dataset]
    if (!size) throw new UsageError(`--epochs needs an image data set (toy sets are generated fresh each step); use --steps`)
    if (!(epochs > 0)) throw new UsageError(`--epochs must be positive, got ${epochs}`)
    c.steps = Math.ceil((epochs * size) / c.batchSize)
  }
  // A time budget, with or without steps: alone, it is what ends the run.
  const minutes = num('minutes', flags.minutes)
  if (minutes !== undefined) {
    c.maxMinutes = minutes
    if (steps === undefined && epochs === undefined) c.steps = LIMITS.steps.max
  }
  const lr = num('lr', flags.lr)
  if (lr !== undefined) c.lr = lr
  if (flags.weighting) c.weighting = flags.weighting
  objectiveFlags(c, flags)
  const ema = num('ema', flags.ema)
  if (ema !== undefined) c.ema = ema
  const seed = int('seed', flags.seed)
  if (seed !== undefined) c.seed = seed
  // --label-dropout P implies --conditional (a dropout only means something for a conditional net).
  const dropout = num('label-dropout', flags['label-dropout'])
  if (flags.conditional === true || dropout !== undefined) {
    c.conditional = true
    if (dropout !== undefined) c.labelDropout = dropout
  }
  const every = int('checkpoint-every', flags['checkpoint-every'])
  if (every !== undefined) c.checkpointEvery = every
  else c.checkpointEvery = Math.min(c.checkpointEvery, c.steps)
  return c
}

/** --objective dsm|ssm and --projections (ssm only), each refused with one line when junk. */
function objectiveFlags(c: TrainConfig, flags: TrainFlags): void {
  const { objective, projections } = flags
  if (objective !== undefined) {
    if (!(TRAIN_OBJECTIVES as readonly string[]).includes(objective)) throw new UsageError(`--objective takes ${TRAIN_OBJECTIVES.join(' or ')} (denoising or sliced score matching), got "${objective}"`)
    c.objective = objective as TrainConfig['objective']
  }
  if (projections !== undefined) {
    if (c.objective !== 'ssm') throw new UsageError('--projections applies only to --objective ssm')
    if (!(SSM_PROJECTIONS as readonly string[]).includes(projections)) throw new UsageError(`--projections takes ${SSM_PROJECTIONS.join(' or ')}, got "${projections}"`)
    c.projections = projections as TrainConfig['projections']
  }
}

/** OS packages that install a data set where the lab looks for a system copy. */
const SYSTEM_PACKAGES: Record<string, string> = { 'fashion-mnist': "Debian's dataset-fashion-mnist" }

/**
 * A data set that is not in the data folder but installed on this machine (Debian's
 * /usr/share/datasets/fashion-mnist) is imported first, as the Datasets panel does; without a
 * system copy nothing happens here and training says how to get the set.
 */
async function importSystemCopy(cli: Cli, dataset: string): Promise<void> {
  if (!isImageDatasetName(dataset)) return
  const listing = (await cli.call('datasets.list', {})).find((d) => d.name === dataset)
  if (!listing || listing.state !== 'not-present' || !listing.systemCopy) return
  const pkg = SYSTEM_PACKAGES[dataset]
  cli.say(`Importing ${listing.title} from ${listing.systemCopy}${pkg ? ` (${pkg})` : ''}…`)
  const imported = await cli.call('datasets.import', { name: dataset, path: listing.systemCopy })
  if (imported.state !== 'verified') throw new UsageError(`importing ${listing.title} from ${listing.systemCopy} failed: ${imported.problem ?? imported.state}`)
}

/** --resume names a run (id, name, folder); a checkpoint file is accepted only if it is the run's last one. */
function resumeTarget(cli: Cli, ref: string): string {
  const { runId, checkpoint } = resolveRunRef(cli.service.runs, ref)
  if (checkpoint) {
    const last = cli.service.runs.checkpoints(runId).reduce<{ file: string; step: number } | null>((a, c) => (a && a.step >= c.step ? a : c), null)
    if (last && last.file !== checkpoint) {
      throw new UsageError(`--resume continues run ${runId} from its last checkpoint, ${last.file}, not from ${checkpoint}; give the run (its id, name or folder) to continue it`)
    }
  }
  return runId
}

export async function trainCommand(cli: Cli, flags: TrainFlags): Promise<number> {
  let runId: string
  let jobId: string
  if (flags.resume) {
    const steps = int('steps', flags.steps)
    ;({ runId, jobId } = await cli.call('runs.resume', { runId: resumeTarget(cli, flags.resume), ...(flags.here ? { here: true } : {}), ...(steps === undefined ? {} : { steps }) }))
  } else {
    if (flags.here) throw new UsageError('--here goes with --resume RUN (it takes back a run that trains elsewhere)')
    const sizes = Object.fromEntries((await cli.call('engine.catalog', {})).datasets.map((d) => [d.name, d.size]))
    const config = configFromFlags(flags, sizes)
    await importSystemCopy(cli, config.dataset)
    const e = await cli.call('runs.estimate', { config })
    const memory = e.limitBytes === null ? '' : `, peak memory ${(e.peakBytes / 2 ** 30).toFixed(2)} of ${(e.limitBytes / 2 ** 30).toFixed(1)} GB`
    cli.say(`≈ ${formatDuration(e.seconds)} of training on ${e.backend} (${e.basis}${memory})${e.waitsBehind ? `; waits behind ${e.waitsBehind} run${e.waitsBehind > 1 ? 's' : ''}` : ''}`)
    ;({ runId, jobId } = await cli.call('runs.start', { config, name: flags.name }))
  }
  const runDir = cli.service.runs.dir(runId)
  cli.say(`run ${runId} → ${runDir}`)
  const bar = new ProgressLine('train')
  let lastLoss: number | null = null
  const unsub = cli.service.events.subscribe((e) => {
    if (e.type === 'metrics' && e.runId === runId) lastLoss = e.points.at(-1)?.loss ?? lastLoss
  })
  // Ctrl-C once: stop with a checkpoint; twice: cancel at once.
  let interrupts = 0
  const onSigint = () => {
    interrupts++
    cli.say(interrupts === 1 ? '\nstopping after this step (writing a checkpoint)… press Ctrl-C again to cancel' : '\ncancelling')
    void cli.call(interrupts === 1 ? 'jobs.stop' : 'jobs.cancel', { jobId }).catch(() => {})
  }
  process.on('SIGINT', onSigint)
  try {
    const end = await waitForJob(cli, jobId, (f, eta, rate) => bar.update(f, `loss ${lastLoss?.toPrecision(4) ?? '—'} · ${rate?.toFixed(1) ?? '—'} steps/s`, eta))
    bar.done()
    const { run } = await cli.call('runs.get', { runId })
    const summary = { runId, runDir, status: run.status, step: run.step, loss: run.lastLoss, backend: run.backend }
    if (end.state === 'failed') {
      cli.result({ ...summary, error: end.error })
      throw new UsageError(end.error ?? 'training failed')
    }
    cli.result(summary, `${run.status} at step ${run.step}, loss ${run.lastLoss?.toPrecision(5) ?? '—'} (${run.backend})`)
    return 0
  } finally {
    unsub()
    process.off('SIGINT', onSigint)
  }
}
