// Quality against cost, inside a worker: every sampler of the request at every budget, N samples
// each from the same seeds (batch k of every point starts from the same noise), one quality number
// per point, and the floor (real data against real data at the same N) to read it against. Each
// point keeps a picture as a sample record of the run (compareId = the job), for the chart's hover.
// Every finished batch is kept on disk until the sweep finishes (batch-cache.ts): the same request
// run again after a cancel or a crash resumes by batch.
import { runSampler, samplerCost, type StepInfo } from '../../engine/samplers'
import { samplesPicture } from './picture'
import { encodePng } from '../../engine/images/png'
import type { SampleRecord, SweepPoint, SweepRequest, SweepResult } from '../../shared/contract'
import { sdeSamplerDefaults } from '../catalog'
import type { JobControl, SweepJobSpec } from '../jobs/protocol'
import { SampleStore } from '../runs/sample-store'
import { BatchCache } from '../runs/batch-cache'
import { loadRunModel, type LoadedModel } from './model-loader'
import { cancellable, openRun, selectJobBackend, type Post } from './job-runtime'
import { qualityMeasure, type QualityMeasure } from './quality-measure'

/** Samples per batch: all N at once for 2-D points, a bounded batch for images (memory). */
const TOY_BATCH = 2000
const IMAGE_BATCH = 64
/** Tolerances tried for adaptive samplers when the request names none. */
export const DEFAULT_TOLERANCES = [1e-1, 1e-2, 1e-3, 1e-4]

interface Plan {
  sampler: string
  label: string
  /** Steps for fixed-step samplers, null for adaptive ones (then `tolerance`). */
  steps: number | null
  tolerance: number | null
  settings: Record<string, unknown>
}

/** The points of a sweep: each sampler at each NFE (fixed-step) or tolerance (adaptive), in request order. */
export function planSweep(req: Pick<SweepRequest, 'samplers' | 'nfe' | 'tolerances'>, sdeName: string, centered?: boolean): Plan[] {
  const plans: Plan[] = []
  for (const choice of req.samplers) {
    const settings = { ...sdeSamplerDefaults(choice.sampler, sdeName, centered), ...(choice.settings ?? {}) }
    const cost = samplerCost(choice.sampler, settings)
    if (cost.adaptive) {
      for (const tol of req.tolerances ?? DEFAULT_TOLERANCES) {
        plans.push({ sampler: choice.sampler, label: `${choice.sampler} · tol ${tol.toExponential(0)}`, steps: null, tolerance: tol, settings: { ...settings, rtol: tol, atol: tol } })
      }
    } else {
      const seen = new Set<number>()
      for (const nfe of req.nfe) {
        const steps = cost.stepsFor(nfe)
        if (seen.has(steps)) continue // two budgets that round to the same steps are one point
        seen.add(steps)
        plans.push({ sampler: choice.sampler, label: `${choice.sampler} · ${steps} steps`, steps, tolerance: null, settings: { ...settings, n: steps } })
      }
    }
  }
  return plans
}

export function runSweepJob(spec: SweepJobSpec, post: Post, control: JobControl): Promise<void> {
  return cancellable(post, control, async (signal, hold) => {
    await selectJobBackend(spec, post)
    const { run, paths } = openRun(spec)
    const req = spec.request
    const loaded = hold(await loadRunModel(paths.checkpoints, req.checkpoint, req.useEma))
    const measure = await qualityMeasure(run.config, loaded.shape, spec.dataDir, req.n, req.seed, (f) => post({ type: 'progress', fraction: 0.05 * f, etaSeconds: null, rate: null, unit: 'preparing' }), { fid: req.fid })
    let points: SweepPoint[]
    try {
      const sweep: Sweep = { jobId: spec.jobId, req, loaded, measure, store: new SampleStore(paths.samples), centered: run.config.centered, batchRoot: paths.sweepBatches, post }
      const plans = planSweep(req, run.config.sde.name, run.config.centered)
      points = await measurePoints(sweep, plans, post, signal)
      // Finished: nothing left to resume.
      for (const plan of plans) cacheOf(sweep, plan).clear()
    } finally {
      measure.dispose?.()
    }
    const result: SweepResult = { n: req.n, seed: req.seed, checkpoint: loaded.checkpoint.file, metric: measure.metric, metricLabel: measure.label, floor: measure.floor, ceiling: measure.ceiling, realClasses: measure.realClasses, ...(measure.fidFloor !== undefined ? { fidFloor: measure.fidFloor } : {}), points }
    post({ type: 'progress', fraction: 1, etaSeconds: 0, rate: null, unit: 'points' })
    post({ type: 'done', outcome: 'finished', step: loaded.checkpoint.step, trainMs: 0, result: { kind: 'sweep', ...result } })
  })
}

interface Sweep {
  jobId: string
  req: SweepRequest
  loaded: LoadedModel
  measure: QualityMeasure
  store: SampleStore
  centered: boolean
  /** The run's sweep-batches folder. */
  batchRoot: string
  post: Post
  /** A batch could not be written (said once). */
  cacheWarned?: boolean
}

/** Samples per batch: all N at once for 2-D points, a bounded batch for images (memory). */
function batchSizeOf(loaded: LoadedModel): number {
  return loaded.shape.length === 1 ? TOY_BATCH : IMAGE_BATCH
}

function cacheOf(sweep: Sweep, plan: Plan): BatchCache {
  const { req, loaded } = sweep
  return new BatchCache(sweep.batchRoot, { checkpoint: loaded.checkpoint.file, useEma: req.useEma, eps: req.eps ?? null, sampler: plan.sampler, settings: plan.settings, seed: req.seed, batchSize: batchSizeOf(loaded) })
}

/** Samples and measures every point in turn, with progress (5 % was spent preparing the measure). */
async function measurePoints(sweep: Sweep, plans: Plan[], post: Post, signal: AbortSignal): Promise<SweepPoint[]> {
  const { req, loaded, measure } = sweep
  const batches = Math.ceil(req.n / batchSizeOf(loaded))
  const total = plans.length * batches
  const started = performance.now()
  let done = 0
  const points: SweepPoint[] = []
  for (const plan of plans) {
    const { samples, nfe, seconds, resumed } = await sampleN(sweep, plan, signal, (f) => {
      const progress = 0.05 + 0.95 * ((done + f) / total)
      const elapsed = (performance.now() - started) / 1000
      post({ type: 'progress', fraction: progress, etaSeconds: progress > 0.06 ? (elapsed * (1 - progress)) / (progress - 0.05) : null, rate: null, unit: 'points' })
    })
    done += batches
    const q = await measure.measure(samples)
    const record = savePicture(sweep, plan, samples, nfe, seconds, batches)
    points.push({ sampler: plan.sampler, label: plan.label, steps: plan.steps, settings: plan.settings, nfe, seconds, quality: q.value, kid: q.kid, precision: q.precision, recall: q.recall, classes: q.classes, ...(q.fid !== undefined ? { fid: q.fid } : {}), resumedBatches: resumed, sampleId: record.id })
    const shown = q.value === null ? 'diverged' : q.value.toPrecision(4)
    post({ type: 'log', level: 'info', message: `${plan.label}: NFE ${nfe.toFixed(0)}, ${measure.metric} ${shown} (floor ${measure.floor?.toPrecision(4) ?? '—'}), ${seconds.toFixed(1)} s` })
  }
  return points
}

/**
 * N samples of one point in batches (batch k from seed + k), with mean NFE per batch and total
 * seconds (a resumed batch counts the seconds it took when it was sampled). Batches an earlier
 * run of the same point finished are read from the cache; each new one is written to it.
 */
async function sampleN(sweep: Sweep, plan: Plan, signal: AbortSignal, onProgress: (batches: number) => void) {
  const { loaded, req } = sweep
  const batch = batchSizeOf(loaded)
  const per = loaded.shape.reduce((a, b) => a * b, 1)
  const out = new Float32Array(req.n * per)
  const cache = cacheOf(sweep, plan)
  let nfe = 0
  let seconds = 0
  let resumed = 0
  const count = Math.ceil(req.n / batch)
  for (let k = 0; k < count; k++) {
    const size = Math.min(batch, req.n - k * batch)
    const kept = cache.get(k, size, size * per)
    if (kept) {
      out.set(kept.data, k * batch * per)
      nfe += kept.nfe
      seconds += kept.seconds
      resumed++
      onProgress(k + 1)
      continue
    }
    const settings = { ...plan.settings, batchSize: size, seed: req.seed + k, ...(req.eps !== undefined ? { eps: req.eps } : {}) }
    const result = await runSampler(plan.sampler, loaded.scoreFn, loaded.sde, settings, {
      shape: loaded.shape,
      signal,
      onStep: (info: StepInfo) => onProgress(k + info.progress)
    })
    const data = (await result.samples.data()) as Float32Array
    result.samples.dispose()
    out.set(data, k * batch * per)
    nfe += result.nfe
    seconds += result.seconds
    keep(sweep, cache, k, size, { data, nfe: result.nfe, seconds: result.seconds })
  }
  if (resumed > 0) sweep.post({ type: 'log', level: 'info', message: `${plan.label}: resumed ${resumed} of ${count} batches from an earlier run of this sweep` })
  return { samples: out, nfe: nfe / count, seconds, resumed }
}

/** Writes a finished batch; a full disk costs the resume, never the sweep (said once per job). */
function keep(sweep: Sweep, cache: BatchCache, k: number, size: number, batch: { data: Float32Array; nfe: number; seconds: number }): void {
  try {
    cache.put(k, size, batch)
  } catch (err) {
    if (sweep.cacheWarned) return
    sweep.cacheWarned = true
    sweep.post({ type: 'log', level: 'warn', message: `Could not keep batch ${k} for resuming (${(err as Error).message}); the sweep goes on, but a cancel would lose its batches.` })
  }
}

function savePicture(sweep: Sweep, plan: Plan, samples: Float32Array, nfe: number, seconds: number, batches: number): SampleRecord {
  const { store, loaded, req } = sweep
  const id = store.newId(plan.sampler)
  const img = samplesPicture(samples, loaded.shape, sweep.centered, 64)
  const png = store.pngName(id)
  store.writeFile(png, encodePng(img, { sweep: sweep.jobId, sampler: plan.sampler, settings: plan.settings, checkpoint: loaded.checkpoint.file, nfe, seconds }))
  const record: SampleRecord = {
    id,
    runId: req.runId,
    checkpoint: loaded.checkpoint.file,
    step: loaded.checkpoint.step,
    sampler: plan.sampler,
    settings: plan.settings,
    seed: req.seed,
    count: req.n,
    nfe: Math.round(nfe),
    seconds,
    // Score evaluations per second over every batch (steps differ from NFE for heun, pc…).
    stepsPerSecond: (nfe * batches) / Math.max(1e-9, seconds),
    createdAt: Date.now(),
    png,
    gif: null,
    width: img.width,
    height: img.height,
    compareId: sweep.jobId
  }
  store.writeRecord(record)
  return record
}
