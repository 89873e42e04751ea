// A run's checkpoints/ folder: ckpt-<step>.safetensors files and manifest.json, the list of
// kept checkpoints with their loss. This module owns that layout.
//
// The manifest is an index, never the only record: when it is missing or does not parse, the
// checkpoint files themselves say what exists, and nothing is ever deleted because the index
// lost track of it. Only temp files of torn writes are removed; a checkpoint that fails
// verification is moved to damaged/, not deleted.
import fs from 'node:fs'
import path from 'node:path'
import { z } from 'zod'
import { peekCheckpoint } from '../../engine/checkpoint/checkpoint'
import { writeFileAtomicSync } from '../../engine/io/atomic-write'
import { CheckpointInfoSchema, type CheckpointInfo } from '../../shared/contract'
import { fileStamp } from '../../shared/ids'

export const MANIFEST = 'manifest.json'
export const DAMAGED_DIR = 'damaged'
const CHECKPOINT_FILE = /^ckpt-(\d{8,})\.safetensors$/
const ManifestSchema = z.object({ checkpoints: z.array(CheckpointInfoSchema) })

export function checkpointFileName(step: number): string {
  return `ckpt-${String(step).padStart(8, '0')}.safetensors`
}

/** Temp names of writes in progress (atomic-write's `.NAME.PID.RAND.tmp`, a delete's `.NAME.deleted.tmp`). */
const isTempFile = (f: string) => f.startsWith('.') && f.endsWith('.tmp')

export type ManifestRead = { state: 'ok'; checkpoints: CheckpointInfo[] } | { state: 'missing' } | { state: 'damaged'; problem: string }

export function readManifestFile(dir: string): ManifestRead {
  let text: string
  try {
    text = fs.readFileSync(path.join(dir, MANIFEST), 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { state: 'missing' }
    return { state: 'damaged', problem: `cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})` }
  }
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch {
    return { state: 'damaged', problem: 'is not valid JSON' }
  }
  const parsed = ManifestSchema.safeParse(json)
  if (!parsed.success) return { state: 'damaged', problem: `does not describe checkpoints (${parsed.error.issues[0]?.message ?? 'bad shape'})` }
  return { state: 'ok', checkpoints: parsed.data.checkpoints }
}

export function writeManifest(dir: string, checkpoints: CheckpointInfo[]): void {
  writeFileAtomicSync(path.join(dir, MANIFEST), JSON.stringify({ checkpoints }, null, 2) + '\n')
}

/** Loss of the training step a checkpoint was written at (for entries rebuilt from files). */
export type LossAt = (step: number) => number | null

export interface CheckpointView {
  checkpoints: CheckpointInfo[]
  /** What differed from the manifest, in words (empty when the manifest was exact). */
  notes: string[]
  manifest: ManifestRead
}

/**
 * What the folder holds, without changing it: the manifest's entries whose files exist, plus
 * complete checkpoint files it does not list (a crash between a checkpoint and its manifest
 * entry, or a lost manifest), read from their headers. Sorted by step.
 */
export function viewCheckpoints(dir: string, lossAt: LossAt = () => null): CheckpointView {
  const manifest = readManifestFile(dir)
  const notes: string[] = []
  if (manifest.state === 'damaged') notes.push(`${path.join(dir, MANIFEST)} ${manifest.problem}; the list was rebuilt from the checkpoint files`)
  if (manifest.state === 'missing' && hasCheckpointFiles(dir)) notes.push(`${path.join(dir, MANIFEST)} is missing; the list was rebuilt from the checkpoint files`)
  let files: string[]
  try {
    files = fs.readdirSync(dir)
  } catch {
    files = []
  }
  const present = new Set(files)
  const listed = manifest.state === 'ok' ? manifest.checkpoints : []
  const out: CheckpointInfo[] = []
  for (const c of listed) {
    if (present.has(c.file)) out.push(c)
    else notes.push(`${c.file} is listed but its file is gone; it was dropped from the list`)
  }
  const known = new Set(out.map((c) => c.file))
  for (const f of files) {
    if (!CHECKPOINT_FILE.test(f) || known.has(f)) continue
    const file = path.join(dir, f)
    try {
      const { step, hasEma } = peekCheckpoint(file)
      const st = fs.statSync(file)
      out.push({ file: f, step, loss: lossAt(step), time: st.mtimeMs, bytes: st.size, best: false, hasEma })
      if (manifest.state === 'ok') notes.push(`${f} was not in the manifest (written just before a crash?); it was added`)
    } catch (err) {
      notes.push(`${f} is not a readable checkpoint (${(err as Error).message}); left as it is`)
    }
  }
  out.sort((a, b) => a.step - b.step)
  if (manifest.state !== 'ok') markBest(out)
  return { checkpoints: out, notes, manifest }
}

function hasCheckpointFiles(dir: string): boolean {
  try {
    return fs.readdirSync(dir).some((f) => CHECKPOINT_FILE.test(f))
  } catch {
    return false
  }
}

function markBest(cks: CheckpointInfo[]): void {
  const finite = cks.filter((c) => c.loss !== null && Number.isFinite(c.loss))
  const best = finite.length ? finite.reduce((a, b) => (b.loss! < a.loss! ? b : a)) : null
  for (const c of cks) c.best = c === best
}

/**
 * For the process that holds the run's exclusive lock, before it trains: makes the manifest
 * agree with the files (a damaged manifest is kept beside it as manifest.json.damaged-<time>),
 * and removes temp files of writes that a crash cut short. Returns what it changed, in words.
 */
export function reconcileCheckpoints(dir: string, lossAt: LossAt): { checkpoints: CheckpointInfo[]; notes: string[] } {
  fs.mkdirSync(dir, { recursive: true })
  for (const f of fs.readdirSync(dir)) if (isTempFile(f)) fs.rmSync(path.join(dir, f), { force: true })
  const view = viewCheckpoints(dir, lossAt)
  if (view.manifest.state === 'damaged') {
    const keep = `${MANIFEST}.damaged-${fileStamp()}`
    fs.renameSync(path.join(dir, MANIFEST), path.join(dir, keep))
    view.notes.push(`the damaged manifest is kept as ${keep}`)
  }
  if (view.notes.length > 0 || view.manifest.state !== 'ok') {
    if (view.checkpoints.length > 0 || view.manifest.state !== 'missing') writeManifest(dir, view.checkpoints)
  }
  return { checkpoints: view.checkpoints, notes: view.notes }
}

/** Moves a checkpoint that failed verification out of the list into damaged/ (kept, not deleted). */
export function quarantineCheckpoint(dir: string, file: string, listed: CheckpointInfo[]): CheckpointInfo[] {
  const rest = listed.filter((c) => c.file !== file)
  writeManifest(dir, rest)
  fs.mkdirSync(path.join(dir, DAMAGED_DIR), { recursive: true })
  try {
    fs.renameSync(path.join(dir, file), path.join(dir, DAMAGED_DIR, file))
  } catch {
    /* already gone */
  }
  return rest
}

/**
 * Removes checkpoints from the list and the disk (an explicit delete, or retention). Each file is
 * first renamed to a temp name, so a crash in between can neither leave a listed file missing
 * nor let the next job adopt a deleted one back; then the manifest is written; then the files go.
 */
export function dropCheckpoints(dir: string, files: string[], listed: CheckpointInfo[]): CheckpointInfo[] {
  const doomed: string[] = []
  for (const f of files) {
    const tmp = path.join(dir, `.${f}.deleted.tmp`)
    try {
      fs.renameSync(path.join(dir, f), tmp)
      doomed.push(tmp)
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
    }
  }
  const drop = new Set(files)
  const rest = listed.filter((c) => !drop.has(c.file))
  writeManifest(dir, rest)
  for (const t of doomed) fs.rmSync(t, { force: true })
  return rest
}
