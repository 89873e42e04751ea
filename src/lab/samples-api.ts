// Sampling procedures: each sampling, comparison or likelihood request is a job in a worker
// (like training); finished samples live in the run's samples/ folder as PNG (+ GIF) with a
// JSON record of the settings that made them.
import fs from 'node:fs'
import path from 'node:path'
import { writeOutputFile } from '../engine/io/output-file'
import { SampleRecordSchema, type SampleRecord } from '../shared/contract'
import { HandlerError, type Handlers } from './dispatch'
import type { JobManager } from './jobs/manager'
import type { RunStore } from './runs/store'
import { lockOrRefuse, type RunLocks } from './runs/run-lock'
import { outputError } from './output-errors'

type SampleHandlers = Pick<Handlers, 'samples.start' | 'samples.compare' | 'samples.list' | 'samples.image' | 'samples.export' | 'likelihood.start'>

export function samplesDir(runs: RunStore, runId: string): string {
  return path.join(runs.dir(runId), 'samples')
}

export function listSamples(runs: RunStore, runId: string): SampleRecord[] {
  const dir = samplesDir(runs, runId)
  if (!fs.existsSync(dir)) return []
  const out: SampleRecord[] = []
  for (const f of fs.readdirSync(dir)) {
    if (!f.endsWith('.json')) continue
    try {
      const r = SampleRecordSchema.safeParse(JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8')))
      if (r.success) out.push(r.data)
    } catch {
      // A record being written or torn by a crash is not listed.
    }
  }
  return out.sort((a, b) => b.createdAt - a.createdAt)
}

export function sampleHandlers(runs: RunStore, jobs: JobManager, locks: RunLocks, dataDir: string, backend: string | undefined): SampleHandlers {
  const requireCheckpoint = (runId: string, file?: string) => {
    runs.get(runId) // not_found for an unknown run
    const cks = runs.checkpoints(runId)
    if (cks.length === 0) throw new HandlerError({ code: 'conflict', message: `Run ${runId} has no checkpoint yet; train until one is written, then sample.` })
    if (file && !cks.some((c) => c.file === file)) {
      throw new HandlerError({ code: 'not_found', message: `Run ${runId} has no checkpoint "${file}" (it has ${cks.map((c) => c.file).join(', ')}).` })
    }
  }
  const record = (runId: string, id: string) => {
    const r = listSamples(runs, runId).find((s) => s.id === id)
    if (!r) throw new HandlerError({ code: 'not_found', message: `Run ${runId} has no sample "${id}".` })
    return r
  }
  /** A shared run lock for the job's life: another process cannot delete what it reads. */
  const useLease = (runId: string) => lockOrRefuse(() => locks.shared(runId, 'sampling'), `sample from run ${runId}`)
  const dataUrl = (file: string, mime: string) => `data:${mime};base64,${fs.readFileSync(file).toString('base64')}`

  return {
    'samples.start': async (request) => {
      requireCheckpoint(request.runId, request.checkpoint)
      return { jobId: jobs.submit({ kind: 'sample', runId: request.runId, dataDir, request, backend }, { lease: await useLease(request.runId) }).id }
    },
    'samples.compare': async (request) => {
      requireCheckpoint(request.runId, request.checkpoint)
      return { jobId: jobs.submit({ kind: 'compare', runId: request.runId, dataDir, request, backend }, { lease: await useLease(request.runId) }).id }
    },
    'samples.list': async ({ runId }) => {
      runs.get(runId)
      return listSamples(runs, runId)
    },
    'samples.image': async ({ runId, id }) => {
      const r = record(runId, id)
      const dir = samplesDir(runs, runId)
      const framesDir = path.join(dir, `${r.id}-frames`)
      const frames = fs.existsSync(framesDir)
        ? fs.readdirSync(framesDir).filter((f) => f.endsWith('.png')).sort().map((f) => dataUrl(path.join(framesDir, f), 'image/png'))
        : []
      return {
        pngDataUrl: dataUrl(path.join(dir, r.png), 'image/png'),
        gifDataUrl: r.gif ? dataUrl(path.join(dir, r.gif), 'image/gif') : null,
        frames,
        referenceDataUrl: r.reference ? dataUrl(path.join(dir, r.reference), 'image/png') : null
      }
    },
    'samples.export': async ({ runId, id, path: target, what, overwrite }) => {
      const r = record(runId, id)
      const file = what === 'gif' ? r.gif : r.png
      if (!file) throw new HandlerError({ code: 'not_found', message: `Sample ${id} has no animation; sample again with trajectory frames.` })
      const bytes = fs.readFileSync(path.join(samplesDir(runs, runId), file))
      try {
        return { path: writeOutputFile(target, bytes, { overwrite: overwrite ?? false }), bytes: bytes.length }
      } catch (err) {
        throw outputError(err, target)
      }
    },
    'likelihood.start': async (request) => {
      requireCheckpoint(request.runId, request.checkpoint)
      return { jobId: jobs.submit({ kind: 'likelihood', runId: request.runId, dataDir, request, backend }, { lease: await useLease(request.runId) }).id }
    }
  }
}
