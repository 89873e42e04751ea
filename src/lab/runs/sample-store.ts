// The samples of a run on disk: the one owner of the samples/ layout, written by the sampling
// worker and read by the lab's sample procedures and the CLI. Each sample `<id>` is:
//   <id>.png             the grid (its settings in a tEXt chunk)
//   <id>-reference.png   optional: the condition (masked / grey images) or fresh true samples
//   <id>.gif, <id>-frames/0000.png …   optional: the trajectory
//   <id>.json            the SampleRecord, written last: a sample is listed once all its files exist.
// Every file is written atomically. Nothing here loads tfjs.
import fs from 'node:fs'
import path from 'node:path'
import { writeFileAtomicSync } from '../../engine/io/atomic-write'
import { SampleRecordSchema, type SampleRecord } from '../../shared/contract'
import { newSampleId } from '../../shared/ids'

export class SampleStore {
  /** `dir`: the run's samples folder (RunPaths.samples). */
  constructor(readonly dir: string) {}

  /** A new sample's id (its file stem). */
  newId(sampler: string): string {
    return newSampleId(sampler)
  }

  pngName(id: string): string {
    return `${id}.png`
  }

  gifName(id: string): string {
    return `${id}.gif`
  }

  referenceName(id: string): string {
    return `${id}-reference.png`
  }

  private framesDir(id: string): string {
    return path.join(this.dir, `${id}-frames`)
  }

  /** The path of one of the folder's files, as a record names it (a bare file name, never a path). */
  file(name: string): string {
    if (name !== path.basename(name) || name === '' || name === '.' || name === '..') throw new Error(`"${name}" is not a file name in a samples folder`)
    return path.join(this.dir, name)
  }

  writeFile(name: string, bytes: Uint8Array): void {
    fs.mkdirSync(this.dir, { recursive: true })
    writeFileAtomicSync(this.file(name), bytes)
  }

  writeFrames(id: string, pngs: Uint8Array[]): void {
    const dir = this.framesDir(id)
    fs.mkdirSync(dir, { recursive: true })
    pngs.forEach((png, i) => writeFileAtomicSync(path.join(dir, `${String(i).padStart(4, '0')}.png`), png))
  }

  /** The trajectory frames of a sample, in order (none when it has no animation). */
  framePaths(id: string): string[] {
    const dir = this.framesDir(id)
    try {
      return fs.readdirSync(dir).filter((f) => f.endsWith('.png')).sort().map((f) => path.join(dir, f))
    } catch {
      return []
    }
  }

  /** Writes the record last, once every file it names exists. */
  writeRecord(record: SampleRecord): void {
    fs.mkdirSync(this.dir, { recursive: true })
    writeFileAtomicSync(path.join(this.dir, `${record.id}.json`), JSON.stringify(record, null, 2))
  }

  /** Every complete sample, newest first. */
  list(): SampleRecord[] {
    let names: string[]
    try {
      names = fs.readdirSync(this.dir)
    } catch {
      return []
    }
    const out: SampleRecord[] = []
    for (const f of names) {
      if (!f.endsWith('.json')) continue
      try {
        const r = SampleRecordSchema.safeParse(JSON.parse(fs.readFileSync(path.join(this.dir, f), 'utf8')))
        if (r.success) out.push(r.data)
      } catch {
        // A record being written or torn by a crash is not listed.
      }
    }
    return out.sort((a, b) => b.createdAt - a.createdAt)
  }

  get(id: string): SampleRecord | null {
    return this.list().find((s) => s.id === id) ?? null
  }
}
