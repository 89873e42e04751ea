// Sampling and comparison jobs inside a worker thread. Each sample goes to the run's sample
// store (sample-store.ts owns the layout): a PNG grid (settings in a tEXt chunk), a JSON record,
// and, when asked, trajectory frames plus an animated GIF.
import { runSampler, getSampler, type StepInfo } from '../../engine/samplers'
import { samplesPicture } from './picture'
import { encodePng } from '../../engine/images/png'
import { encodeGif } from '../../engine/images/gif'
import { createToy, GmmToy, TOYS, type ToyDataset } from '../../engine/toy'
import { freshTrueSamples, toySampleMetrics } from '../../engine/metrics'
import { LIMITS, type Condition, type SampleRecord, type SampleRequest, type ToySampleMetrics, type TrainConfig } from '../../shared/contract'
import { sdeSamplerDefaults } from '../catalog'
import type { CompareJobSpec, JobControl, SampleJobSpec } from '../jobs/protocol'
import { SampleStore } from '../runs/sample-store'
import { loadRunModel, type LoadedModel } from './model-loader'
import { conditioned, guideClasses } from './condition'
import { PC_LOOP_SAMPLERS } from '../../shared/samplers'
import { askedClasses, classAgreement } from './class-agreement'
import { cancellable, openRun, selectJobBackend, type Post } from './job-runtime'
import { qualityMeasure, type QualityMeasure } from './quality-measure'

/** Request keys the record already carries, or that only steer progress reports. */
const NOT_RECORDED = new Set(['batchSize', 'seed', 'denoise', 'every'])

/**
 * The settings that ran, for the record and the PNG: the request's, the sampler's defaults for
 * what it left out (ode's method and tolerances, pc's snr…), and n as the steps taken: the
 * SDE's N when none were asked for, none for adaptive solvers (ode's rk45, adaptive_sde: they ignore n).
 */
function ranSettings(sampler: string, settings: Record<string, unknown>, sdeN: number): Record<string, unknown> {
  const ran = { ...settings }
  const parsed = getSampler(sampler).settings.safeParse(settings)
  if (parsed.success) {
    for (const [k, v] of Object.entries(parsed.data as Record<string, unknown>)) if (!(k in ran) && !NOT_RECORDED.has(k) && v !== undefined) ran[k] = v
  }
  if (parsed.success && getSampler(sampler).nfe(1, parsed.data as Record<string, unknown>) === null) delete ran.n
  else if (ran.n === undefined) ran.n = sdeN
  return ran
}

/**
 * The distribution a toy run's samples should follow: the data set, or for class-conditional
 * sampling of toy-gmm that class's component (exact at classifier scale 1). Null for image runs.
 */
function toyTarget(config: TrainConfig, shape: number[], condition: Condition | undefined): { toy: ToyDataset; name: string } | null {
  if (!(config.dataset in TOYS) || shape.length !== 1) return null
  const toy = createToy(config.dataset)
  if (condition?.kind === 'class' && toy instanceof GmmToy) {
    const { means, stds } = toy.config as { means: [number, number][]; stds: number[] }
    const k = condition.label
    if (!means[k]) return null
    return { toy: new GmmToy({ means: [means[k]], stds: [stds[k]!], weights: [1] }), name: `${config.dataset}, class ${k}` }
  }
  return condition ? null : { toy, name: config.dataset }
}

interface OneSample {
  request: Pick<SampleRequest, 'sampler' | 'steps' | 'denoise' | 'settings' | 'seed' | 'count' | 'eps' | 'condition'> & { trajectoryFrames?: number }
  compareId: string | null
  /** Share of the job's progress this sample covers: [from, to). */
  span: [number, number]
}

interface SampleTarget {
  runId: string
  config: TrainConfig
  dataDir: string
  store: SampleStore
  /** Measures each sample's quality (a comparison that asked for it, on an image run). */
  measure?: QualityMeasure
}

async function sampleOnce(loaded: LoadedModel, to: SampleTarget, job: OneSample, post: Post, signal: AbortSignal): Promise<SampleRecord> {
  const { config, dataDir, store } = to
  const r = job.request
  const centered = config.centered
  const guide = { model: loaded.model, scoreFn: loaded.scoreFn, sde: loaded.sde, runId: to.runId }
  // Every class at once: perClass samples of each, one grid row per class.
  const perRow = r.condition?.kind === 'classes' ? r.condition.perClass : undefined
  const count = r.condition?.kind === 'classes' ? r.condition.perClass * (await guideClasses(r.condition, config, dataDir, guide)) : r.count
  if (count > LIMITS.count.max) throw new Error(`${count} samples (${perRow} per class) is more than the ${LIMITS.count.max} one grid holds; ask for fewer per class.`)
  const cond = r.condition ? await conditioned(r.condition, config, dataDir, loaded.shape, count, r.seed, guide) : null
  // Guidance is a score any sampler takes; inpainting and colorisation bring their own PC loop.
  if (r.condition && cond?.run && !(r.sampler in PC_LOOP_SAMPLERS)) {
    throw new Error(`${r.condition.kind === 'inpaint' ? 'Inpainting' : 'Colorisation'} runs on the predictor–corrector loop: choose "pc" or "euler_maruyama", not "${r.sampler}".`)
  }
  const frames: Float32Array[] = []
  const wanted = r.trajectoryFrames ?? 0
  const settings: Record<string, unknown> = {
    // Defaults that depend on the SDE (pc's snr on VP vs VE) unless the request sets them.
    ...sdeSamplerDefaults(r.sampler, config.sde.name, config.centered),
    ...(r.settings ?? {}),
    batchSize: count,
    seed: r.seed,
    ...(r.eps !== undefined ? { eps: r.eps } : {}),
    ...(r.steps !== undefined ? { n: r.steps } : {}),
    ...(r.denoise !== undefined ? { denoise: r.denoise } : {}),
    ...(wanted > 0 ? { every: r.steps ? Math.max(1, Math.floor(r.steps / wanted)) : 1 } : {})
  }
  const started = performance.now()
  let lastPost = 0
  const runtime = {
    shape: loaded.shape,
    signal,
    onStep: (info: StepInfo) => {
      if (info.x) frames.push(info.x)
      const now = performance.now()
      if (now - lastPost > 200) {
        lastPost = now
        const f = job.span[0] + (job.span[1] - job.span[0]) * info.progress
        const elapsed = (now - started) / 1000
        post({ type: 'progress', fraction: f, etaSeconds: info.progress > 0 ? (elapsed * (1 - info.progress)) / info.progress : null, rate: info.i / elapsed, unit: 'steps/s' })
      }
    }
  }
  let result
  try {
    result = cond?.run ? await cond.run(loaded.scoreFn, loaded.sde, { ...settings, ...PC_LOOP_SAMPLERS[r.sampler] }, runtime) : await runSampler(r.sampler, cond?.score ?? loaded.scoreFn, loaded.sde, settings, runtime)
  } finally {
    cond?.dispose?.()
  }
  const samples = await result.samples.data() as Float32Array
  result.samples.dispose()
  const id = store.newId(r.sampler)
  const img = samplesPicture(samples, loaded.shape, centered, Infinity, perRow)
  let reference: string | null = null
  let referenceKind: SampleRecord['referenceKind']
  if (cond?.reference) {
    reference = store.referenceName(id)
    referenceKind = 'condition'
    store.writeFile(reference, encodePng(samplesPicture(cond.reference, loaded.shape, centered, Infinity, perRow), { condition: r.condition }))
  }
  // Toy runs: the samples against the true distribution, and a picture of as many fresh true
  // samples (the set the metrics compare with) drawn the same way, to show beside them.
  const target = toyTarget(config, loaded.shape, r.condition)
  let toyMetrics: ToySampleMetrics | null = null
  if (target) {
    const m = toySampleMetrics(samples, target.toy, { seed: r.seed })
    toyMetrics = m ? { target: target.name, ...m } : null
    if (!reference) {
      reference = store.referenceName(id)
      referenceKind = 'truth'
      store.writeFile(reference, encodePng(samplesPicture(freshTrueSamples(target.toy, count, r.seed), loaded.shape, centered), { truth: target.name, count, seed: r.seed }))
    }
  }
  const ran = ranSettings(r.sampler, settings, loaded.sde.N)
  const meta = { sampler: r.sampler, settings: ran, condition: r.condition ?? null, checkpoint: loaded.checkpoint.file, step: loaded.checkpoint.step, ema: loaded.usedEma, nfe: result.nfe, seconds: result.seconds }
  const png = store.pngName(id)
  store.writeFile(png, encodePng(img, meta))
  let gif: string | null = null
  if (wanted > 0 && frames.length > 0) {
    const pictures = [...subsample(frames, wanted), samples].map((f) => samplesPicture(f, loaded.shape, centered))
    store.writeFrames(id, pictures.map((p) => encodePng(p)))
    gif = store.gifName(id)
    store.writeFile(gif, encodeGif(pictures, { delayMs: 80, holdLastMs: 1200 }))
  }
  const record: SampleRecord = {
    id,
    runId: to.runId,
    checkpoint: loaded.checkpoint.file,
    step: loaded.checkpoint.step,
    sampler: r.sampler,
    settings: ran,
    seed: r.seed,
    count,
    nfe: result.nfe,
    seconds: result.seconds,
    stepsPerSecond: result.stepsPerSecond,
    createdAt: Date.now(),
    png,
    gif,
    width: img.width,
    height: img.height,
    compareId: job.compareId,
    condition: r.condition ?? null,
    reference,
    ...(referenceKind ? { referenceKind } : {}),
    ...(target ? { toyMetrics } : {}),
    ...(to.measure ? { quality: await measured(to.measure, samples) } : {}),
    ...(await classAgreementOf(to, loaded, samples, r.condition, count))
  }
  store.writeRecord(record)
  return record
}

/** Class samples of an image run, judged by the data set's feature classifier (when it has one). */
async function classAgreementOf(to: SampleTarget, loaded: LoadedModel, samples: Float32Array, condition: Condition | undefined, count: number): Promise<Pick<SampleRecord, 'classAgreement'>> {
  const asked = askedClasses(condition, count)
  if (!asked || loaded.shape.length !== 3) return {}
  return { classAgreement: await classAgreement(to.dataDir, to.config.dataset, samples, loaded.shape, to.config.centered, asked) }
}

async function measured(m: QualityMeasure, samples: Float32Array): Promise<SampleRecord['quality']> {
  const q = await m.measure(samples)
  return { metric: m.metric, label: m.label, value: q.value, floor: m.floor, ceiling: m.ceiling, kid: q.kid, precision: q.precision, recall: q.recall, classes: q.classes, realClasses: m.realClasses }
}

function subsample<T>(xs: T[], n: number): T[] {
  if (xs.length <= n) return xs
  return Array.from({ length: n }, (_, i) => xs[Math.round((i * (xs.length - 1)) / Math.max(1, n - 1))]!)
}

export function runSampleJob(spec: SampleJobSpec | CompareJobSpec, post: Post, control: JobControl): Promise<void> {
  return cancellable(post, control, async (signal, hold) => {
    await selectJobBackend(spec, post)
    const { run, paths } = openRun(spec)
    const loaded = hold(await loadRunModel(paths.checkpoints, spec.request.checkpoint, spec.request.useEma))
    // Toy runs carry their own numbers (toyMetrics); image comparisons are measured when asked.
    const wantsQuality = spec.kind === 'compare' && spec.request.metric === true && loaded.shape.length === 3
    const measure = wantsQuality ? await qualityMeasure(run.config, loaded.shape, spec.dataDir, spec.request.count, spec.request.seed, () => {}) : undefined
    const to: SampleTarget = { runId: spec.runId, config: run.config, dataDir: spec.dataDir, store: new SampleStore(paths.samples), measure }
    const jobs: OneSample[] =
      spec.kind === 'sample'
        ? [{ request: spec.request, compareId: null, span: [0, 1] }]
        : spec.request.entries.map((e, i, all) => ({
            request: { ...e, seed: spec.request.seed, count: spec.request.count, eps: spec.request.eps },
            compareId: spec.jobId,
            span: [i / all.length, (i + 1) / all.length] as [number, number]
          }))
    const records: SampleRecord[] = []
    try {
      for (const job of jobs) {
        records.push(await sampleOnce(loaded, to, job, post, signal))
        const last = records.at(-1)!
        const m = last.toyMetrics
        const q = last.quality
        const quality = m
          ? `; log p ${m.logLikelihood.toFixed(3)} nats (true samples ${m.logLikelihoodRef.toFixed(3)}), sliced W2 ${m.sw2.toFixed(3)} (true samples ${m.sw2Ref.toFixed(3)})`
          : q
            ? `; FD ${q.value?.toFixed(2) ?? 'diverged'} (real data ${q.floor?.toFixed(2)}, noise ${q.ceiling?.toFixed(1)})`
            : ''
        post({ type: 'log', level: 'info', message: `${job.request.sampler}: NFE ${last.nfe}, ${last.seconds.toFixed(2)} s${quality}` })
      }
    } finally {
      measure?.dispose?.()
    }
    post({ type: 'progress', fraction: 1, etaSeconds: 0, rate: null, unit: 'steps/s' })
    post({ type: 'done', outcome: 'finished', step: loaded.checkpoint.step, trainMs: 0, result: { kind: spec.kind, samples: records } })
  })
}
