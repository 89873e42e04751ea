// Where a run's files live: the one owner of the run-folder layout. The run store, the workers
// (which get the data folder in their spec), the run reference resolver and the CLI all ask
// here. Nothing here loads tfjs.
//
// A run may also live outside the data folder: a folder trained elsewhere (the PyTorch package of
// `runs export-torch`) that the user attached. The data folder lists those in attached-runs.json;
// this module names that file and reads it, so every `runPaths` finds an attached run's folder
// (attached.ts adds and removes entries).
import fs from 'node:fs'
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
/** Bits/dim measured per checkpoint (one LikelihoodPoint per line), the curve beside the loss. */
export const LIKELIHOODS_FILE = 'likelihood.jsonl'
/** Under the data folder: the run folders attached from elsewhere, `{ runs: [{ id, dir }] }`. */
export const ATTACHED_RUNS_FILE = 'attached-runs.json'

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
  /** runs/<id>/likelihood.jsonl: each likelihood measured of a checkpoint (LikelihoodPoint per line) */
  likelihoods: string
}

export function runsRoot(dataDir: string): string {
  return path.join(dataDir, RUNS_DIR)
}

/** The paths of one run folder, given the runs root (`runsRoot(dataDir)`). The id must be valid. */
export function runPathsIn(root: string, id: string): RunPaths {
  if (!RUN_ID.test(id)) throw new Error(`Invalid run id "${id.slice(0, 40)}".`)
  return runPathsAt(path.join(root, id))
}

/** The layout inside a run folder wherever it is (an attached folder has no id in its path). */
export function runPathsAt(dir: string): RunPaths {
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
    guidanceState: path.join(dir, GUIDANCE_CLASSIFIER_DIR, GUIDANCE_STATE_FILE),
    likelihoods: path.join(dir, LIKELIHOODS_FILE)
  }
}

/** The paths of one run folder of a data folder (what a worker, which gets the data folder, uses); attached runs included. */
export function runPaths(dataDir: string, id: string): RunPaths {
  const attached = attachedRunDirs(dataDir).get(id)
  return attached ? runPathsAt(attached) : runPathsIn(runsRoot(dataDir), id)
}

export function attachedRunsFile(dataDir: string): string {
  return path.join(dataDir, ATTACHED_RUNS_FILE)
}

/** Attached run ids → their folders (empty when the list is missing or unreadable: then nothing is attached). */
export function attachedRunDirs(dataDir: string): Map<string, string> {
  let json: unknown
  try {
    json = JSON.parse(fs.readFileSync(attachedRunsFile(dataDir), 'utf8'))
  } catch {
    return new Map()
  }
  const out = new Map<string, string>()
  const runs = (json as { runs?: unknown }).runs
  if (!Array.isArray(runs)) return out
  for (const r of runs as { id?: unknown; dir?: unknown }[]) {
    if (typeof r.id === 'string' && RUN_ID.test(r.id) && typeof r.dir === 'string' && path.isAbsolute(r.dir)) out.set(r.id, r.dir)
  }
  return out
}

/** The run folder a checkpoint file belongs to, when it lies in one (…/<run>/checkpoints/<file>). */
export function runDirOfCheckpoint(file: string): string | null {
  const parent = path.dirname(file)
  return path.basename(parent) === CHECKPOINTS_DIR ? path.dirname(parent) : null
}
