// The feature classifiers of the data folder: one per image data set, at
// <dataDir>/classifiers/<dataset>.safetensors (the one owner of that layout), trained by a
// 'classifier' job and read by the quality measure. Listing reads only the files' metadata, and
// nothing here loads tfjs.
import fs from 'node:fs'
import path from 'node:path'
import { decodeSafetensors } from '../engine/io/safetensors'
import type { ClassifierInfo } from '../shared/contract'
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
