// The measured training-step times of the backends, kept per machine in a JSON file so the
// backend is measured once (select.ts), not at every start and not in every job's worker thread,
// which must all make the same choice. Entries are keyed by a fingerprint of what the timings
// depend on (CPU, core count, each working backend's device — the GPU adapter, the native kernels
// and thread counts — the native addon's build, tfjs, Node and the measured step itself), so a new
// GPU driver, CPU or addon build measures again. A damaged or foreign file is ignored and
// rewritten, never fatal: the cache only saves a second or two.
import crypto from 'node:crypto'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { createRequire } from 'node:module'
import { z } from 'zod'
import { tf } from '../tf'
import { writeFileAtomicSync } from '../io/atomic-write'
import { nativeAddonPath } from './native-addon'
import { MEASURED_STEP } from './measure'
import { BACKEND_NAMES, type BackendName } from './types'

const require = createRequire(import.meta.url)

export const TIMINGS_FORMAT = 'score-lab-backend-timings'
/** Entries kept in one file (a data folder shared by a few machines); the oldest go first. */
const MAX_ENTRIES = 8

const Name = z.enum(BACKEND_NAMES)
const EntrySchema = z.object({
  fingerprint: z.record(z.string(), z.unknown()),
  measuredAt: z.string(),
  stepMs: z.partialRecord(Name, z.number().positive()),
  /** Backends that loaded but whose measured step failed, with the reason. */
  failed: z.partialRecord(Name, z.string()).optional(),
  /** Backends not waited for past the deadline: their stepMs is a lower bound. */
  unfinished: z.partialRecord(Name, z.literal(true)).optional()
})
const FileSchema = z.object({ format: z.literal(TIMINGS_FORMAT), version: z.literal(1), entries: z.record(z.string(), EntrySchema) })

export type TimingsEntry = z.infer<typeof EntrySchema>

export interface Fingerprint {
  key: string
  fingerprint: Record<string, unknown>
}

/** What the timings of these working backends depend on, and its hash (the entry's key). */
export function machineFingerprint(backends: { name: BackendName; device: string }[]): Fingerprint {
  const cpus = os.cpus()
  const fingerprint: Record<string, unknown> = {
    cpu: cpus[0]?.model.trim() || 'unknown',
    cores: cpus.length,
    platform: `${process.platform}-${process.arch}`,
    node: process.versions.node,
    tfjs: tf.version_core,
    step: MEASURED_STEP,
    nativeBuild: nativeBuild(),
    // Device strings carry the GPU adapter's label, the native kernel name and the thread counts.
    backends: backends.map((b) => `${b.name}: ${b.device}`)
  }
  if (backends.some((b) => b.name === 'webgpu')) fingerprint.dawn = packageVersion('webgpu')
  const key = crypto.createHash('sha256').update(JSON.stringify(fingerprint)).digest('hex').slice(0, 16)
  return { key, fingerprint }
}

/** A rebuilt addon (new compiler flags, new kernels) is another build: size and time of the file. */
function nativeBuild(): string {
  const file = nativeAddonPath()
  if (!file) return 'none'
  try {
    const st = fs.statSync(file)
    return `${st.size} bytes, ${st.mtime.toISOString()}`
  } catch {
    return 'none'
  }
}

function packageVersion(name: string): string {
  try {
    return (require(`${name}/package.json`) as { version: string }).version
  } catch {
    return 'unknown'
  }
}

export interface KeptTimings {
  entries: Record<string, TimingsEntry>
  /** Why the file's contents were not used, when it exists but could not be. */
  note?: string
}

/** The file's entries; a missing file is empty, a damaged or foreign one is empty with a note. */
export function readTimings(file: string): KeptTimings {
  let text: string
  try {
    text = fs.readFileSync(file, 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { entries: {} }
    return { entries: {}, note: `the kept backend timings (${file}) could not be read (${(err as Error).message.split('\n')[0]}), so the backends were measured again` }
  }
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch {
    return { entries: {}, note: `the kept backend timings (${file}) were not valid JSON (a damaged file), so they were ignored, the backends measured again and the file rewritten` }
  }
  const parsed = FileSchema.safeParse(json)
  if (!parsed.success) {
    return { entries: {}, note: `${file} is not a Score Lab backend-timings file of this version, so it was ignored, the backends measured again and the file rewritten` }
  }
  return { entries: parsed.data.entries }
}

/** Adds (or replaces) one entry, keeping the other machines' entries; atomic. */
export function keepTimings(file: string, key: string, entry: TimingsEntry): void {
  // Read again just before writing: another process (a job's worker) may have added its entry.
  const entries = { ...readTimings(file).entries, [key]: entry }
  const newest = Object.entries(entries).sort((a, b) => b[1].measuredAt.localeCompare(a[1].measuredAt)).slice(0, MAX_ENTRIES)
  fs.mkdirSync(path.dirname(file), { recursive: true })
  writeFileAtomicSync(file, JSON.stringify({ format: TIMINGS_FORMAT, version: 1, entries: Object.fromEntries(newest) }, null, 2) + '\n')
}

/** Forgets one entry (the next start measures again); true when there was one. */
export function forgetTimings(file: string, key: string): boolean {
  const { entries } = readTimings(file)
  if (!(key in entries)) return false
  delete entries[key]
  writeFileAtomicSync(file, JSON.stringify({ format: TIMINGS_FORMAT, version: 1, entries }, null, 2) + '\n')
  return true
}
