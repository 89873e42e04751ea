// `runs export-torch`: writes a run as a PyTorch training package. The Python sources are real
// files in resources/torch-package (readable and lintable there) and are copied as they are; this
// adds recipe.json (recipe.ts) and the run folder train.py writes by default (DIR/run): run.json,
// the curve so far, and the checkpoint training starts from (the run's newest one that verifies,
// byte for byte, or a fresh step-0 state built as the lab's own first step would build it). So
// DIR/run can be attached at once, and shows the whole curve as the cluster extends it.
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { loadCheckpoint, saveCheckpoint } from '../../engine/checkpoint/checkpoint'
import { createModel } from '../../engine/nets'
import { createSde } from '../../engine/sde'
import { Trainer, type TrainerState } from '../../engine/train/trainer'
import { DEFAULT_LABEL_DROPOUT, type RunSummary } from '../../shared/contract'
import { newRunId } from '../../shared/ids'
import { HandlerError } from '../dispatch'
import { getDataset } from '../datasets/registry'
import type { RunStore } from '../runs/store'
import { appendMetrics, readMetrics } from '../runs/metrics-log'
import { checkpointFileName, writeManifest } from '../runs/checkpoint-folder'
import { runPathsAt } from '../runs/run-layout'
import { buildRecipe, exportRefusal, PACKAGE_RUN_DIR } from './recipe'

const PACKAGE_DIR = path.join('resources', 'torch-package')

/** resources/torch-package above this module (sources run from src/, bundles from out/). */
export function torchPackageSources(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url))
  for (let i = 0; i < 6; i++) {
    if (fs.existsSync(path.join(dir, PACKAGE_DIR, 'train.py'))) return path.join(dir, PACKAGE_DIR)
    dir = path.dirname(dir)
  }
  throw new Error(`${PACKAGE_DIR} is missing from this installation`)
}

/** The run's newest checkpoint that loads, with its training time; null before the first. */
async function newestState(runs: RunStore, runId: string): Promise<{ state: TrainerState; file: string; trainMs: number } | null> {
  for (const c of [...runs.checkpoints(runId)].sort((a, b) => b.step - a.step)) {
    const file = path.join(runs.checkpointsDir(runId), c.file)
    try {
      return { state: await loadCheckpoint(file), file, trainMs: c.trainMs ?? 0 }
    } catch {
      // A damaged one is skipped here, as resuming would skip it.
    }
  }
  return null
}

/** Step 0 of the run, as its first training job would start it (train-job.ts). */
async function freshState(run: RunSummary): Promise<TrainerState> {
  const c = run.config
  const info = getDataset(c.dataset)
  if (info?.kind !== 'image') throw new Error(`${c.dataset} is not an image data set`)
  const shape = [...info.shape]
  const sde = createSde({ name: c.sde.name, ...c.sde.params })
  const model = createModel(c.model, { shape, sde, seed: c.seed, ...(c.conditional ? { options: { classes: info.classNames.length } } : {}) })
  const trainer = new Trainer({
    model,
    sde,
    dataShape: shape,
    config: {
      lr: c.lr,
      warmup: c.warmup,
      gradClip: c.gradClip,
      emaDecay: c.ema > 0 ? c.ema : null,
      batchSize: c.batchSize,
      seed: c.seed,
      weighting: c.weighting,
      reduction: c.reduction,
      ...(c.conditional ? { labelDropout: c.labelDropout ?? DEFAULT_LABEL_DROPOUT } : {})
    }
  })
  try {
    return await trainer.exportState()
  } finally {
    trainer.dispose()
    model.dispose()
  }
}

/** A folder to write into: new, or empty. */
function prepareOut(out: string): void {
  if (fs.existsSync(out)) {
    if (!fs.statSync(out).isDirectory()) throw new HandlerError({ code: 'exists', message: `${out} is a file; give a new or empty folder.` })
    if (fs.readdirSync(out).length > 0) throw new HandlerError({ code: 'exists', message: `${out} is not empty; give a new or empty folder for the package.` })
  }
  fs.mkdirSync(out, { recursive: true })
}

export interface ExportedPackage {
  path: string
  /** The run folder train.py writes by default (attach it to watch). */
  runDir: string
  startStep: number
  files: string[]
  commands: string[]
}

export async function exportTorchPackage(runs: RunStore, runId: string, outDir: string, dataFolder: (dataset: string) => string): Promise<ExportedPackage> {
  const run = runs.get(runId)
  const refusal = exportRefusal(run)
  if (refusal) throw new HandlerError({ code: 'bad_request', message: refusal })
  const out = path.resolve(outDir)
  const newest = await newestState(runs, runId)
  const state = newest?.state ?? (await freshState(run))
  // The package mirrors denoising score matching only (training.py); other objectives are refused.
  const objective = (state.train as { objective?: string }).objective ?? 'dsm'
  if (objective !== 'dsm') throw new HandlerError({ code: 'bad_request', message: `Run "${run.name}" trains with the "${objective}" objective; the PyTorch package trains denoising score matching (dsm) only.` })
  prepareOut(out)
  const sources = torchPackageSources()
  const files: string[] = []
  for (const f of fs.readdirSync(sources).filter((n) => /\.(py|txt|md)$/.test(n)).sort()) {
    fs.copyFileSync(path.join(sources, f), path.join(out, f))
    files.push(f)
  }
  const now = Date.now()
  const packageRun: RunSummary = {
    ...run,
    id: newRunId(run.config.dataset),
    name: `${run.name} (PyTorch)`,
    status: 'stopped',
    createdAt: now,
    updatedAt: now,
    step: state.step,
    trainMs: newest?.trainMs ?? 0,
    notes: [run.notes, `Exported to PyTorch from run ${run.id} at step ${state.step}.`].filter(Boolean).join('\n'),
    error: null,
    jobId: null,
    owner: null,
    trainsElsewhere: null
  }
  delete packageRun.attachedDir
  // The run folder train.py writes by default, ready to attach: run.json, the curve up to the
  // start step, and the start checkpoint with its manifest entry.
  const rp = runPathsAt(path.join(out, PACKAGE_RUN_DIR))
  fs.mkdirSync(rp.checkpoints, { recursive: true })
  fs.mkdirSync(rp.samples, { recursive: true })
  fs.writeFileSync(rp.runFile, JSON.stringify(packageRun, null, 2) + '\n')
  appendMetrics(rp.metrics, readMetrics(runs.metricsFile(runId)).filter((p) => p.step <= state.step))
  const ckFile = checkpointFileName(state.step)
  const ckPath = path.join(rp.checkpoints, ckFile)
  if (newest) fs.copyFileSync(newest.file, ckPath)
  else await saveCheckpoint(ckPath, state)
  const info = newest ? runs.checkpoints(runId).find((c) => path.join(runs.checkpointsDir(runId), c.file) === newest.file) : undefined
  writeManifest(rp.checkpoints, [{ file: ckFile, step: state.step, loss: info?.loss ?? null, time: now, bytes: fs.statSync(ckPath).size, best: false, hasEma: state.ema !== null, trainMs: newest?.trainMs ?? 0 }])
  const recipe = buildRecipe({ run, packageRun, state, startTrainMs: newest?.trainMs ?? 0, startCheckpoint: path.relative(out, ckPath) })
  fs.writeFileSync(path.join(out, 'recipe.json'), JSON.stringify(recipe, null, 2) + '\n')
  files.push('recipe.json', path.relative(out, rp.runFile), path.relative(out, rp.metrics), path.relative(out, ckPath))
  const train = path.join(out, 'train.py')
  const args = `--data ${dataFolder(run.config.dataset)} --steps ${run.config.steps}`
  const commands = [
    `torchrun --standalone --nproc_per_node=GPUS ${train} ${args}`,
    `torchrun --nnodes=NODES --nproc_per_node=GPUS --rdzv_id=${packageRun.id} --rdzv_backend=c10d --rdzv_endpoint=HOST:29500 ${train} ${args}`
  ]
  return { path: out, runDir: rp.dir, startStep: state.step, files, commands }
}
