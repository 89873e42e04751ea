// Sampling procedures: each sampling, comparison or likelihood request is a job in a worker
// (like training); finished samples live in the run's samples/ folder as PNG (+ GIF) with a
// JSON record of the settings that made them.
import { readLikelihoods } from './runs/likelihood-log'
import fs from 'node:fs'
import { writeOutputFile } from '../engine/io/output-file'
import { HandlerError, type Handlers } from './dispatch'
import type { JobManager } from './jobs/manager'
import type { RunStore } from './runs/store'
import { lockOrRefuse, type RunLocks } from './runs/run-lock'
import { outputError } from './output-errors'
import { isImageDatasetName } from './datasets/registry'
import { classifierInfo, fidWeightsHelp, fidWeightsPath } from './classifiers'

type SampleHandlers = Pick<Handlers, 'samples.start' | 'samples.compare' | 'samples.sweep' | 'samples.list' | 'samples.image' | 'samples.export' | 'likelihood.start' | 'samples.interpolate' | 'runs.likelihoods'>

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
    const r = runs.samples(runId).get(id)
    if (!r) throw new HandlerError({ code: 'not_found', message: `Run ${runId} has no sample "${id}".` })
    return r
  }
  /** Image quality is read through the data set's classifier: refuse now rather than fail in the job. */
  const requireClassifier = (runId: string) => {
    const { dataset } = runs.get(runId).config
    if (!isImageDatasetName(dataset)) return
    const train = `Compare → Train the classifier, or score-lab train-classifier --dataset ${dataset}`
    let info
    try {
      info = classifierInfo(dataDir, dataset)
    } catch (err) {
      throw new HandlerError({ code: 'conflict', message: `The ${dataset} feature classifier cannot be read (${(err as Error).message}). Train it again to replace it: ${train}.` })
    }
    if (!info) throw new HandlerError({ code: 'conflict', message: `Measuring ${dataset} samples needs its feature classifier, trained once: ${train}.` })
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
      if (request.metric) requireClassifier(request.runId)
      requireCheckpoint(request.runId, request.checkpoint)
      return { jobId: jobs.submit({ kind: 'compare', runId: request.runId, dataDir, request, backend }, { lease: await useLease(request.runId) }).id }
    },
    'samples.sweep': async (request) => {
      requireClassifier(request.runId)
      requireCheckpoint(request.runId, request.checkpoint)
      if (request.fid) {
        if (!isImageDatasetName(runs.get(request.runId).config.dataset)) throw new HandlerError({ code: 'bad_request', message: 'FID is for image runs; a toy run is measured against its true distribution.' })
        if (!fs.existsSync(fidWeightsPath(dataDir))) throw new HandlerError({ code: 'conflict', message: `FID needs the Inception weights, which Score Lab never downloads: ${fidWeightsHelp(dataDir)}.` })
      }
      return { jobId: jobs.submit({ kind: 'sweep', runId: request.runId, dataDir, request, backend }, { lease: await useLease(request.runId) }).id }
    },
    'samples.list': async ({ runId }) => {
      runs.get(runId)
      return runs.samples(runId).list()
    },
    'samples.image': async ({ runId, id }) => {
      const r = record(runId, id)
      const store = runs.samples(runId)
      return {
        pngDataUrl: dataUrl(store.file(r.png), 'image/png'),
        gifDataUrl: r.gif ? dataUrl(store.file(r.gif), 'image/gif') : null,
        frames: store.framePaths(r.id).map((f) => dataUrl(f, 'image/png')),
        referenceDataUrl: r.reference ? dataUrl(store.file(r.reference), 'image/png') : null
      }
    },
    'samples.export': async ({ runId, id, path: target, what, overwrite }) => {
      const r = record(runId, id)
      const file = what === 'gif' ? r.gif : r.png
      if (!file) throw new HandlerError({ code: 'not_found', message: `Sample ${id} has no animation; sample again with trajectory frames.` })
      const bytes = fs.readFileSync(runs.samples(runId).file(file))
      try {
        return { path: writeOutputFile(target, bytes, { overwrite: overwrite ?? false }), bytes: bytes.length }
      } catch (err) {
        throw outputError(err, target)
      }
    },
    'samples.interpolate': async (request) => {
      requireCheckpoint(request.runId, request.checkpoint)
      if (!isImageDatasetName(runs.get(request.runId).config.dataset)) throw new HandlerError({ code: 'bad_request', message: 'Interpolation is between two images; this run samples 2-D points.' })
      return { jobId: jobs.submit({ kind: 'interpolate', runId: request.runId, dataDir, request, backend }, { lease: await useLease(request.runId) }).id }
    },
    'runs.likelihoods': async ({ runId }) => {
      runs.get(runId) // not_found for an unknown run
      return readLikelihoods(runs.paths(runId).likelihoods)
    },
    'likelihood.start': async (request) => {
      requireCheckpoint(request.runId, request.checkpoint)
      return { jobId: jobs.submit({ kind: 'likelihood', runId: request.runId, dataDir, request, backend }, { lease: await useLease(request.runId) }).id }
    }
  }
}
