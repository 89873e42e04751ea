// recipe.json of a PyTorch training package: everything resources/torch-package needs to train a
// run exactly as the lab would, read from the run and its checkpoint (TrainerState), never
// restated: the SDE as the checkpoint stores it, the Trainer's own settings (Adam, warm-up,
// clipping, EMA, loss ε, weighting, reduction, label dropout), the network's resolved
// configuration and each tensor's layout, the data set's files and checksums, and the run
// folder's names (run-layout.ts owns them; the package only reads them from here).
import type { TrainerState } from '../../engine/train/trainer'
import { resolveScoreNetConfig, scoreNetSpecs } from '../../engine/nets/scorenet'
import type { TorchLayout } from '../../engine/nets/layers'
import type { RunSummary } from '../../shared/contract'
import { getDataset } from '../datasets/registry'
import { MANIFEST } from '../runs/checkpoint-folder'
import { CHECKPOINTS_DIR, METRICS_FILE, RUN_FILE, SAMPLES_DIR } from '../runs/run-layout'

export const RECIPE_FORMAT = 'score-lab.torch-package'
/** The run folder train.py writes when not told otherwise (--out), inside the package. */
export const PACKAGE_RUN_DIR = 'run'

/** The lab's networks with a PyTorch twin in resources/torch-package/model.py: resolved config and layouts. */
const TORCH_TWINS: Record<string, (state: TrainerState) => { config: Record<string, unknown>; layouts: Record<string, TorchLayout> }> = {
  scorenet: (state) => {
    const cfg = resolveScoreNetConfig(state.model.shape, state.model.options)
    return { config: { ...cfg }, layouts: Object.fromEntries(scoreNetSpecs(cfg).map((s) => [s.name, s.layout])) }
  }
}

export class NoTorchTwinError extends Error {
  override name = 'NoTorchTwinError'
}

export function hasTorchTwin(model: string): boolean {
  return Object.prototype.hasOwnProperty.call(TORCH_TWINS, model)
}

/** Why a run cannot be exported, or null when it can. */
export function exportRefusal(run: RunSummary): string | null {
  if (!hasTorchTwin(run.config.model)) {
    return `Run "${run.name}" uses the "${run.config.model}" network, which has no PyTorch twin in the training package yet (it has: ${Object.keys(TORCH_TWINS).join(', ')}).`
  }
  if ((run.config.objective ?? 'dsm') !== 'dsm') {
    return `Run "${run.name}" trains by ${run.config.objective} (sliced score matching); the PyTorch package trains denoising score matching only.`
  }
  const data = getDataset(run.config.dataset)
  if (data?.kind !== 'image' || data.format !== 'idx') {
    return `Run "${run.name}" trains on ${run.config.dataset}; the PyTorch package reads the lab's IDX image sets (mnist, fashion-mnist).`
  }
  return null
}

export interface RecipeInput {
  /** The run being exported. */
  run: RunSummary
  /** The run the package writes (a new id; status stopped at the start step). */
  packageRun: RunSummary
  state: TrainerState
  /** Training time when the start checkpoint was written (the package continues the count). */
  startTrainMs: number
  /** The start checkpoint, relative to the package folder. */
  startCheckpoint: string
}

export function buildRecipe({ run, packageRun, state, startTrainMs, startCheckpoint }: RecipeInput) {
  const twin = TORCH_TWINS[state.model.name]
  if (!twin) throw new NoTorchTwinError(`"${state.model.name}" has no PyTorch twin`)
  const data = getDataset(run.config.dataset)
  if (data?.kind !== 'image') throw new NoTorchTwinError(`${run.config.dataset} is not an image data set`)
  const { config, layouts } = twin(state)
  return {
    format: RECIPE_FORMAT,
    version: 1,
    exportedFrom: { runId: run.id, name: run.name, step: state.step },
    run: packageRun,
    model: { name: state.model.name, config },
    sde: state.sde,
    train: state.train,
    layouts,
    data: { name: data.name, format: data.format, files: data.files, shape: data.shape, classes: data.classNames.length },
    layout: { runFile: RUN_FILE, metricsFile: METRICS_FILE, checkpointsDir: CHECKPOINTS_DIR, manifestFile: MANIFEST, samplesDir: SAMPLES_DIR },
    runDir: PACKAGE_RUN_DIR,
    startCheckpoint,
    startStep: state.step,
    startTrainMs
  }
}

export type Recipe = ReturnType<typeof buildRecipe>
