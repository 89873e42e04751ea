// Finished batches of a sweep point on disk, so that a sweep of thousands of samples that was
// cancelled, crashed or lost its machine resumes by batch: run the same request again and every
// batch already sampled is read back instead of sampled. A point's batches live under
// sweep-batches/<key>/, key = hash of everything that decides its samples (checkpoint, EMA, eps,
// sampler, settings, seed, batch size), so a changed request never reads stale samples. Batch k is
// <k>.f32 (raw float32, little-endian, exact: a resumed point reads what it would have sampled)
// plus <k>.json (its size, NFE and seconds), the JSON written last so a half-written batch is
// never read. A finished sweep deletes its points' folders. Nothing here loads tfjs.
import { createHash } from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import { writeFileAtomicSync } from '../../engine/io/atomic-write'

/** What decides a point's samples, batch by batch. */
export interface BatchKey {
  checkpoint: string
  useEma: boolean
  eps: number | null
  sampler: string
  settings: Record<string, unknown>
  seed: number
  batchSize: number
}

export interface CachedBatch {
  data: Float32Array
  nfe: number
  seconds: number
}

interface BatchMeta {
  size: number
  values: number
  nfe: number
  seconds: number
}

/** JSON with sorted keys: the same settings in any order give the same key. */
function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`
  if (v && typeof v === 'object') return `{${Object.keys(v).sort().map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`).join(',')}}`
  return JSON.stringify(v) ?? 'null'
}

export class BatchCache {
  readonly dir: string

  /** `root`: the run's sweep-batches folder (RunPaths.sweepBatches). */
  constructor(root: string, key: BatchKey) {
    this.dir = path.join(root, createHash('sha256').update(canonical(key)).digest('hex').slice(0, 24))
  }

  /** Batch k, when an earlier run finished it with this size and `values` floats; else null. */
  get(k: number, size: number, values: number): CachedBatch | null {
    try {
      const meta = JSON.parse(fs.readFileSync(path.join(this.dir, `${k}.json`), 'utf8')) as BatchMeta
      if (meta.size !== size || meta.values !== values) return null
      const bytes = fs.readFileSync(path.join(this.dir, `${k}.f32`))
      if (bytes.byteLength !== values * 4) return null
      const data = new Float32Array(values)
      new Uint8Array(data.buffer).set(bytes)
      return { data, nfe: meta.nfe, seconds: meta.seconds }
    } catch {
      // Missing or damaged: sample the batch again.
      return null
    }
  }

  put(k: number, size: number, batch: CachedBatch): void {
    fs.mkdirSync(this.dir, { recursive: true })
    writeFileAtomicSync(path.join(this.dir, `${k}.f32`), new Uint8Array(batch.data.buffer, batch.data.byteOffset, batch.data.byteLength))
    const meta: BatchMeta = { size, values: batch.data.length, nfe: batch.nfe, seconds: batch.seconds }
    writeFileAtomicSync(path.join(this.dir, `${k}.json`), JSON.stringify(meta))
  }

  /** Forgets the point (its sweep finished). */
  clear(): void {
    fs.rmSync(this.dir, { recursive: true, force: true })
  }
}
