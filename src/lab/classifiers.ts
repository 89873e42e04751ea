// The feature classifiers of the data folder: one per image data set, at
// <dataDir>/classifiers/<dataset>.safetensors (the one owner of that layout), trained by a
// 'classifier' job and read by the quality measure. Listing reads only the files' metadata, and
// nothing here loads tfjs. Also a run's guidance classifier: its file, its training curve
// (metrics.jsonl) and an unfinished training's resume state (paths: run-layout.ts).
import { readJsonLines } from './runs/jsonl'
import fs from 'node:fs'
import path from 'node:path'
import { decodeSafetensors } from '../engine/io/safetensors'
import { writeFileAtomicSync } from '../engine/io/atomic-write'
import { decodeNoiseClassifierState, type NoiseClassifierTrainingState } from '../engine/classifier/noise-classifier-state'
import { GuidanceMetricPointSchema, type ClassifierInfo, type GuidanceMetricPoint, type GuidanceState } from '../shared/contract'
import { runPaths } from './runs/run-layout'

export const CLASSIFIERS_DIR = 'classifiers'
/** The user-supplied FID Inception weights (never downloaded): <dataDir>/fid/<FID_WEIGHTS_FILE>. */
export const FID_DIR = 'fid'
export const FID_WEIGHTS_FILE = 'pt_inception-2015-12-05.safetensors'

export function fidWeightsPath(dataDir: string): string {
  return path.join(dataDir, FID_DIR, FID_WEIGHTS_FILE)
}

/** How to put the weights there (for refusals and the README). */
export function fidWeightsHelp(dataDir: string): string {
  return `convert pytorch-fid's pt_inception-2015-12-05-6726825d.pth with python3 scripts/fid-inception-to-safetensors.py pt_inception-2015-12-05-6726825d.pth ${fidWeightsPath(dataDir)}`
}

export function classifierPath(dataDir: string, dataset: string): string {
  if (!/^[a-z0-9-]{1,64}$/.test(dataset)) throw new Error(`"${dataset.slice(0, 40)}" is not a data set name`)
  return path.join(dataDir, CLASSIFIERS_DIR, `${dataset}.safetensors`)
}

/** A classifier file's size and string metadata; null when there is none (a damaged file is an error naming it). */
function storedMetadata(file: string): { bytes: number; md: Record<string, string> } | null {
  let bytes: Buffer
  try {
    bytes = fs.readFileSync(file)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null
    throw err
  }
  return { bytes: bytes.length, md: decodeSafetensors(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength), file).metadata }
}

const num = (v: string | undefined) => (v === undefined || !Number.isFinite(Number(v)) ? null : Number(v))

/** What a stored classifier says about itself; null when there is none (a damaged file is an error naming it). */
export function classifierInfo(dataDir: string, dataset: string): ClassifierInfo | null {
  const file = classifierPath(dataDir, dataset)
  const stored = storedMetadata(file)
  if (!stored) return null
  const { bytes, md } = stored
  return {
    dataset,
    testAccuracy: num(md.testAccuracy),
    steps: num(md.steps),
    seed: num(md.seed),
    trainSeconds: num(md.trainSeconds),
    bytes,
    createdAt: fs.statSync(file).mtimeMs
  }
}

/** Every stored classifier (damaged files are left out of the list, not deleted). */
export function listClassifiers(dataDir: string): ClassifierInfo[] {
  let names: string[]
  try {
    names = fs.readdirSync(path.join(dataDir, CLASSIFIERS_DIR))
  } catch {
    return []
  }
  const out: ClassifierInfo[] = []
  for (const name of names) {
    const m = /^([a-z0-9-]{1,64})\.safetensors$/.exec(name)
    if (!m) continue
    try {
      const info = classifierInfo(dataDir, m[1]!)
      if (info) out.push(info)
    } catch {
      // A torn or foreign file is not a classifier.
    }
  }
  return out.sort((a, b) => a.dataset.localeCompare(b.dataset))
}

/**
 * What a run's guidance classifier (runs/<id>/guidance-classifier.safetensors, written by the
 * guidance-classifier job) says about itself; null when the run has none.
 */
export function guidanceClassifierInfo(dataDir: string, runId: string): ClassifierInfo | null {
  const file = runPaths(dataDir, runId).guidanceClassifier
  const stored = storedMetadata(file)
  if (!stored) return null
  const { bytes, md } = stored
  let accuracyByTime: { t: number; accuracy: number }[] = []
  try {
    accuracyByTime = JSON.parse(md.accuracyByTime ?? '[]') as { t: number; accuracy: number }[]
  } catch {
    // An unreadable note is no accuracy, not a broken classifier.
  }
  return {
    dataset: md.dataset ?? '',
    testAccuracy: accuracyByTime[0]?.accuracy ?? null,
    steps: num(md.steps),
    seed: num(md.seed),
    trainSeconds: num(md.trainSeconds),
    bytes,
    createdAt: fs.statSync(file).mtimeMs,
    guidance: { runId, accuracyByTime }
  }
}

// ------------------------------------------------------------- guidance classifier training

/** The run's guidance classifier, its training curve and any unfinished training (classifiers.guidance). */
export function guidanceState(dataDir: string, runId: string): GuidanceState {
  let classifier: ClassifierInfo | null = null
  try {
    classifier = guidanceClassifierInfo(dataDir, runId)
  } catch {
    // A damaged file guides nothing: shown as none, and the next training replaces it.
  }
  const state = readGuidanceTrainingState(dataDir, runId)
  const partial = state ? { step: state.step, steps: state.settings.steps, seed: state.settings.seed } : null
  return { classifier, metrics: readGuidanceMetrics(runPaths(dataDir, runId).guidanceMetrics), partial }
}

/** An unfinished training's saved state; null when there is none or it is unreadable (then it cannot resume anything). */
export function readGuidanceTrainingState(dataDir: string, runId: string): NoiseClassifierTrainingState | null {
  const file = runPaths(dataDir, runId).guidanceState
  try {
    const bytes = fs.readFileSync(file)
    return decodeNoiseClassifierState(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength), file)
  } catch {
    return null
  }
}

/** Saves an unfinished training's state atomically (bytes from encodeNoiseClassifierState). */
export function writeGuidanceTrainingState(dataDir: string, runId: string, bytes: Uint8Array): void {
  const { guidanceClassifierDir, guidanceState: file } = runPaths(dataDir, runId)
  fs.mkdirSync(guidanceClassifierDir, { recursive: true })
  writeFileAtomicSync(file, bytes)
}

/** Forgets an unfinished training (it finished, or the user asked for a fresh one); the curve stays. */
export function deleteGuidanceTrainingState(dataDir: string, runId: string): void {
  fs.rmSync(runPaths(dataDir, runId).guidanceState, { force: true })
}

/** The curve's points in file order; a torn or invalid line (a crash mid-append) is skipped. */
export function readGuidanceMetrics(file: string): GuidanceMetricPoint[] {
  return readJsonLines(file, GuidanceMetricPointSchema)
}

/**
 * Starts a training's curve: keeps the points up to `step` (0: a fresh training keeps none) and
 * rewrites the file atomically, which also drops a torn last line, so appends start clean.
 */
export function restartGuidanceMetrics(dataDir: string, runId: string, step: number): void {
  const { guidanceClassifierDir, guidanceMetrics: file } = runPaths(dataDir, runId)
  fs.mkdirSync(guidanceClassifierDir, { recursive: true })
  const kept = step > 0 ? readGuidanceMetrics(file).filter((p) => p.step <= step) : []
  writeFileAtomicSync(file, kept.map((p) => JSON.stringify(p) + '\n').join(''))
}

/** Appends one point (one write call, so a crash tears at most this line). */
export function appendGuidanceMetric(dataDir: string, runId: string, point: GuidanceMetricPoint): void {
  fs.appendFileSync(runPaths(dataDir, runId).guidanceMetrics, JSON.stringify(point) + '\n')
}
