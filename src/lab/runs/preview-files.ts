// The training previews of a run on disk: runs/<id>/preview.png (the latest, for late
// viewers) and runs/<id>/previews/preview-<step>.png (the history strip, the latest
// PREVIEW_HISTORY of them). Every file is written atomically. Nothing here loads tfjs, so the
// training worker (writer) and the run store (reader) can both import it cheaply.
import fs from 'node:fs'
import path from 'node:path'
import { writeFileAtomicSync } from '../../engine/io/atomic-write'

export const PREVIEWS_DIR = 'previews'
export const LATEST_PREVIEW = 'preview.png'
/** Previews kept per run (older ones are deleted as new ones arrive). */
export const PREVIEW_HISTORY = 30

const NAME = /^preview-(\d{1,12})\.png$/

export function previewFileName(step: number): string {
  return `preview-${step}.png`
}

/** The stored history previews of a run folder, oldest step first (temp files of atomic writes are not matched). */
export function listPreviewFiles(runDir: string): { step: number; file: string }[] {
  let names: string[]
  try {
    names = fs.readdirSync(path.join(runDir, PREVIEWS_DIR))
  } catch {
    return []
  }
  const out: { step: number; file: string }[] = []
  for (const name of names) {
    const m = NAME.exec(name)
    if (m) out.push({ step: Number(m[1]), file: path.join(runDir, PREVIEWS_DIR, name) })
  }
  return out.sort((a, b) => a.step - b.step)
}

/**
 * Stores the preview of `step`: the latest (preview.png) and the history entry, then prunes
 * the history to the newest `keep`. Training steps only grow within a job, so a stored preview
 * of a later step than this one belongs to steps that were discarded (a resume from an earlier
 * checkpoint redoes them) and is removed too.
 */
export function writePreview(runDir: string, step: number, png: Uint8Array, keep = PREVIEW_HISTORY): void {
  const dir = path.join(runDir, PREVIEWS_DIR)
  fs.mkdirSync(dir, { recursive: true })
  writeFileAtomicSync(path.join(dir, previewFileName(step)), png)
  writeFileAtomicSync(path.join(runDir, LATEST_PREVIEW), png)
  const files = listPreviewFiles(runDir)
  const current = files.filter((f) => f.step <= step)
  const stale = [...files.filter((f) => f.step > step), ...current.slice(0, Math.max(0, current.length - keep))]
  for (const f of stale) fs.rmSync(f.file, { force: true })
}
