// Runs on disk: one folder per run under <dataDir>/runs/<id>/ (layout: run-layout.ts) with
// run.json (settings and state), metrics.jsonl (every metric point), checkpoints/ (safetensors +
// manifest.json) and samples/. run.json and the manifest are replaced atomically; nothing is
// edited in place. Runs attached from elsewhere (run-layout.ts's attached list) have the same
// layout in their own folder; they are listed with the others and carry `attachedDir`.
import fs from 'node:fs'
import path from 'node:path'
import { newRunId } from '../../shared/ids'
import { writeFileAtomicSync } from '../../engine/io/atomic-write'
import { RunSummarySchema, type CheckpointInfo, type RunSummary, type TrainConfig } from '../../shared/contract'
import { HandlerError } from '../dispatch'
import { lossLookup, readMetrics } from './metrics-log'
import { readPngSettings } from '../../engine/images/png'
import { viewCheckpoints } from './checkpoint-folder'
import { LATEST_PREVIEW, listPreviewFiles } from './preview-files'
import { attachedRunDirs, RUN_ID, runPaths, runsRoot, type RunPaths } from './run-layout'
import { SampleStore } from './sample-store'
import { detachRun } from './attached'

export class RunStore {
  readonly root: string

  constructor(readonly dataDir: string) {
    this.root = runsRoot(dataDir)
    fs.mkdirSync(this.root, { recursive: true })
  }

  /** Every path of a run folder; an id that is not a folder name is a bad request. */
  paths(id: string): RunPaths {
    if (!RUN_ID.test(id)) throw new HandlerError({ code: 'bad_request', message: `Invalid run id "${id.slice(0, 40)}".` })
    return runPaths(this.dataDir, id)
  }

  /** Attached run ids → their folders. */
  attached(): Map<string, string> {
    return attachedRunDirs(this.dataDir)
  }

  dir(id: string): string {
    return this.paths(id).dir
  }

  metricsFile(id: string): string {
    return this.paths(id).metrics
  }

  checkpointsDir(id: string): string {
    return this.paths(id).checkpoints
  }

  /** The run's samples (their layout is the sample store's). */
  samples(id: string): SampleStore {
    return new SampleStore(this.paths(id).samples)
  }

  create(config: TrainConfig, name: string | undefined, backend: string | null): RunSummary {
    const id = newRunId(config.dataset)
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
    const paths = this.paths(id)
    fs.mkdirSync(paths.checkpoints, { recursive: true })
    fs.mkdirSync(paths.samples, { recursive: true })
    this.write(run)
    return run
  }

  write(run: RunSummary): void {
    // Where an attached run lives is the data folder's to say, not its run.json's.
    const { attachedDir: _derived, ...stored } = run
    writeFileAtomicSync(this.paths(run.id).runFile, JSON.stringify(stored, null, 2) + '\n')
  }

  get(id: string): RunSummary {
    const file = this.paths(id).runFile
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
    const attachedDir = this.attached().get(id)
    return attachedDir ? { ...parsed.data, id, attachedDir } : parsed.data
  }

  update(id: string, patch: Partial<RunSummary>): RunSummary {
    const run = { ...this.get(id), ...patch, id, updatedAt: Date.now() }
    this.write(run)
    return run
  }

  list(): RunSummary[] {
    const out: RunSummary[] = []
    for (const name of [...fs.readdirSync(this.root), ...this.attached().keys()]) {
      try {
        out.push(this.get(name))
      } catch {
        // A folder without a readable run.json is not a run (or is being deleted).
      }
    }
    return out.sort((a, b) => b.createdAt - a.createdAt)
  }

  delete(id: string): void {
    const { dir, runFile } = this.paths(id)
    // An attached folder is not the lab's to delete: it is only forgotten.
    if (detachRun(this.dataDir, id)) return
    if (!fs.existsSync(runFile)) throw new HandlerError({ code: 'not_found', message: `No run "${id}".` })
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
    const file = path.join(this.dir(id), LATEST_PREVIEW)
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
}
