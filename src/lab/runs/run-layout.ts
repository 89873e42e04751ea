// Where a run's files live: the one owner of the run-folder layout. The run store, the workers
// (which get the data folder in their spec), the run reference resolver and the CLI all ask
// here. Nothing here loads tfjs.
import path from 'node:path'

/** Under the data folder. */
export const RUNS_DIR = 'runs'
export const RUN_FILE = 'run.json'
export const METRICS_FILE = 'metrics.jsonl'
export const CHECKPOINTS_DIR = 'checkpoints'
export const SAMPLES_DIR = 'samples'
export const SWEEP_BATCHES_DIR = 'sweep-batches'
export const GUIDANCE_CLASSIFIER_FILE = 'guidance-classifier.safetensors'
/** The guidance classifier's training: its curve and, while unfinished, its resume state. */
export const GUIDANCE_CLASSIFIER_DIR = 'guidance-classifier'
export const GUIDANCE_STATE_FILE = 'state.safetensors'

/** What a run id may be: it becomes a folder name, so no separators, dots or spaces. */
export const RUN_ID = /^[A-Za-z0-9_-]{1,128}$/

export interface RunPaths {
  /** runs/<id> */
  dir: string
  /** runs/<id>/run.json: settings and state */
  runFile: string
  /** runs/<id>/metrics.jsonl: every metric point */
  metrics: string
  /** runs/<id>/checkpoints: safetensors + manifest.json */
  checkpoints: string
  /** runs/<id>/samples: PNG/GIF + JSON records (see sample-store.ts) */
  samples: string
  /** runs/<id>/sweep-batches: finished batches of unfinished sweeps, to resume by batch (see batch-cache.ts) */
  sweepBatches: string
  /** runs/<id>/guidance-classifier.safetensors: the run's noise-conditional classifier (classifier guidance) */
  guidanceClassifier: string
  /** runs/<id>/guidance-classifier: that classifier's training (curve and resume state) */
  guidanceClassifierDir: string
  /** runs/<id>/guidance-classifier/metrics.jsonl: its training curve (GuidanceMetricPoint per line) */
  guidanceMetrics: string
  /** runs/<id>/guidance-classifier/state.safetensors: an unfinished training's resume state (deleted when it finishes) */
  guidanceState: string
}

export function runsRoot(dataDir: string): string {
  return path.join(dataDir, RUNS_DIR)
}

/** The paths of one run folder, given the runs root (`runsRoot(dataDir)`). The id must be valid. */
export function runPathsIn(root: string, id: string): RunPaths {
  if (!RUN_ID.test(id)) throw new Error(`Invalid run id "${id.slice(0, 40)}".`)
  const dir = path.join(root, id)
  return {
    dir,
    runFile: path.join(dir, RUN_FILE),
    metrics: path.join(dir, METRICS_FILE),
    checkpoints: path.join(dir, CHECKPOINTS_DIR),
    samples: path.join(dir, SAMPLES_DIR),
    sweepBatches: path.join(dir, SWEEP_BATCHES_DIR),
    guidanceClassifier: path.join(dir, GUIDANCE_CLASSIFIER_FILE),
    guidanceClassifierDir: path.join(dir, GUIDANCE_CLASSIFIER_DIR),
    guidanceMetrics: path.join(dir, GUIDANCE_CLASSIFIER_DIR, METRICS_FILE),
    guidanceState: path.join(dir, GUIDANCE_CLASSIFIER_DIR, GUIDANCE_STATE_FILE)
  }
}

/** The paths of one run folder of a data folder (what a worker, which gets the data folder, uses). */
export function runPaths(dataDir: string, id: string): RunPaths {
  return runPathsIn(runsRoot(dataDir), id)
}

/** The run folder a checkpoint file belongs to, when it lies in one (…/<run>/checkpoints/<file>). */
export function runDirOfCheckpoint(file: string): string | null {
  const parent = path.dirname(file)
  return path.basename(parent) === CHECKPOINTS_DIR ? path.dirname(parent) : null
}
