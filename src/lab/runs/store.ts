// Runs on disk: one folder per run under <dataDir>/runs/<id>/ with run.json (settings and
// state), metrics.jsonl (every metric point), checkpoints/ (safetensors + manifest.json) and
// samples/. run.json and the manifest are replaced atomically; nothing is edited in place.
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import crypto from 'node:crypto'
import { writeFileAtomicSync } from '../../engine/io/atomic-write'
import { RunSummarySchema, type CheckpointInfo, type RunSummary, type TrainConfig } from '../../shared/contract'
import { HandlerError } from '../dispatch'
import { lossLookup, readMetrics } from './metrics-log'
import { readPngSettings } from '../../engine/images/png'
import { viewCheckpoints } from './checkpoint-folder'
import { listPreviewFiles } from './preview-files'

export class RunStore {
  readonly root: string

  constructor(dataDir: string) {
    this.root = path.join(dataDir, 'runs')
    fs.mkdirSync(this.root, { recursive: true })
  }

  dir(id: string): string {
    if (!/^[A-Za-z0-9_-]{1,128}$/.test(id)) throw new HandlerError({ code: 'bad_request', message: `Invalid run id "${id.slice(0, 40)}".` })
    return path.join(this.root, id)
  }

  metricsFile(id: string): string {
    return path.join(this.dir(id), 'metrics.jsonl')
  }

  checkpointsDir(id: string): string {
    return path.join(this.dir(id), 'checkpoints')
  }

  create(config: TrainConfig, name: string | undefined, backend: string | null): RunSummary {
    const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\..*/, '').replace('T', '-')
    const id = `${stamp}-${config.dataset}-${crypto.randomBytes(3).toString('hex')}`
    const now = Date.now()
    const run: RunSummary = {
      id,
      name: name?.trim() || `${config.model} · ${config.sde.name} · ${config.dataset}`,
      status: 'queued',
      config,
      backend,
      createdAt: now,
      updatedAt: now,
      trainMs: 0,
      step: 0,
      lastLoss: null,
      bestLoss: null,
      notes: '',
      tags: [],
      error: null,
      jobId: null
    }
    const dir = this.dir(id)
    fs.mkdirSync(path.join(dir, 'checkpoints'), { recursive: true })
    fs.mkdirSync(path.join(dir, 'samples'), { recursive: true })
    this.write(run)
    return run
  }

  write(run: RunSummary): void {
    writeFileAtomicSync(path.join(this.dir(run.id), 'run.json'), JSON.stringify(run, null, 2) + '\n')
  }

  get(id: string): RunSummary {
    const file = path.join(this.dir(id), 'run.json')
    let text: string
    try {
      text = fs.readFileSync(file, 'utf8')
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new HandlerError({ code: 'not_found', message: `No run "${id}" in ${this.root}.` })
      throw err
    }
    let json: unknown
    try {
      json = JSON.parse(text)
    } catch {
      // Named, never quoted: JSON.parse's message would echo the file's contents.
      throw new Error(`${file} is damaged (not valid JSON); the run cannot be opened until it is repaired or deleted.`)
    }
    const parsed = RunSummarySchema.safeParse(json)
    if (!parsed.success) {
      const issue = parsed.error.issues[0]
      throw new Error(`${file} is not a valid run file (${issue ? `${issue.path.join('.') || 'top level'}: ${issue.code}` : 'bad shape'}).`)
    }
    return parsed.data
  }

  update(id: string, patch: Partial<RunSummary>): RunSummary {
    const run = { ...this.get(id), ...patch, id, updatedAt: Date.now() }
    this.write(run)
    return run
  }

  list(): RunSummary[] {
    const out: RunSummary[] = []
    for (const name of fs.readdirSync(this.root)) {
      try {
        out.push(this.get(name))
      } catch {
        // A folder without a readable run.json is not a run (or is being deleted).
      }
    }
    return out.sort((a, b) => b.createdAt - a.createdAt)
  }

  delete(id: string): void {
    const dir = this.dir(id)
    if (!fs.existsSync(path.join(dir, 'run.json'))) throw new HandlerError({ code: 'not_found', message: `No run "${id}".` })
    // Rename first so a half-deleted folder never looks like a run.
    const trash = path.join(this.root, `.deleting-${id}-${Date.now()}`)
    fs.renameSync(dir, trash)
    fs.rmSync(trash, { recursive: true, force: true })
  }

  metrics(id: string, afterStep?: number) {
    this.get(id)
    return readMetrics(this.metricsFile(id), afterStep)
  }

  /** The latest training preview (written by the job every previewEvery steps). */
  preview(id: string): { step: number; dataUrl: string } | null {
    const file = path.join(this.dir(id), 'preview.png')
    let bytes: Buffer
    try {
      bytes = fs.readFileSync(file)
    } catch {
      this.get(id) // not_found for unknown runs; otherwise simply no preview yet
      return null
    }
    const settings = readPngSettings(new Uint8Array(bytes)) as { step?: number } | null
    const step = settings?.step ?? 0
    return { step, dataUrl: `data:image/png;base64,${bytes.toString('base64')}` }
  }

  /** The stored training previews of a run, oldest step first (the latest PREVIEW_HISTORY; empty before the first). */
  previewHistory(id: string): { step: number; dataUrl: string }[] {
    const dir = this.dir(id)
    this.get(id) // not_found for unknown runs
    const out: { step: number; dataUrl: string }[] = []
    for (const { step, file } of listPreviewFiles(dir)) {
      try {
        out.push({ step, dataUrl: `data:image/png;base64,${fs.readFileSync(file).toString('base64')}` })
      } catch {
        // Pruned by the training job between listing and reading: simply not shown.
      }
    }
    return out
  }

  /** The run's checkpoints, read from the folder itself where the manifest is lost or stale. */
  checkpoints(id: string): CheckpointInfo[] {
    return viewCheckpoints(this.checkpointsDir(id), lossLookup(this.metricsFile(id))).checkpoints
  }

  /**
   * Runs that claim to be running with no live job died with their process: mark them
   * interrupted. A run owned by another live process on this machine (the GUI while the CLI
   * lists runs, say) is left alone.
   */
  markInterrupted(liveRunIds: Set<string>): RunSummary[] {
    const changed: RunSummary[] = []
    for (const run of this.list()) {
      if (!(run.status === 'running' || run.status === 'paused' || run.status === 'queued') || liveRunIds.has(run.id)) continue
      if (run.owner && run.owner.pid !== process.pid && run.owner.host === os.hostname() && processAlive(run.owner.pid)) continue
      changed.push(this.update(run.id, { status: 'interrupted', jobId: null, owner: null }))
    }
    return changed
  }
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM' // alive, owned by another user
  }
}
