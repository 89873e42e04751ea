// Sampling, comparison and likelihood jobs inside a worker thread. Each sample is written to
// the run's samples/ folder as a PNG grid (settings in a tEXt chunk), a JSON record, and,
// when asked, trajectory frames plus an animated GIF.
import fs from 'node:fs'
import path from 'node:path'
import crypto from 'node:crypto'
import { tf } from '../../engine/tf'
import { parseBackendName, selectBackend } from '../../engine/backend/select'
import { runSampler, logLikelihood, getSampler, type StepInfo } from '../../engine/samplers'
import { makeGrid, type RgbaImage } from '../../engine/images/grid'
import { scatterImage } from '../../engine/images/scatter'
import { encodePng } from '../../engine/images/png'
import { encodeGif } from '../../engine/images/gif'
import { writeFileAtomicSync } from '../../engine/io/atomic-write'
import { Batcher } from '../../engine/data/batcher'
import { createToy, GmmToy, TOYS, type ToyDataset } from '../../engine/toy'
import { freshTrueSamples, toySampleMetrics } from '../../engine/metrics'
import { Rng } from '../../engine/rng'
import { RunSummarySchema, type Condition, type SampleRecord, type SampleRequest, type ToySampleMetrics, type TrainConfig } from '../../shared/contract'
import { sdeSamplerDefaults } from '../catalog'
import { DatasetStore } from '../datasets/store'
import type { CompareJobSpec, FromWorker, LikelihoodJobSpec, SampleJobSpec } from '../jobs/protocol'
import { loadRunModel, type LoadedModel } from './model-loader'
import { conditioned } from './condition'
import type { JobControl } from './train-job'

type Post = (msg: FromWorker) => void

function runInfo(spec: { dataDir: string; runId: string }) {
  const runDir = path.join(spec.dataDir, 'runs', spec.runId)
  const run = RunSummarySchema.parse(JSON.parse(fs.readFileSync(path.join(runDir, 'run.json'), 'utf8')))
  return { runDir, run }
}

async function setup(spec: { backend?: string }, post: Post) {
  const backend = await selectBackend({ force: parseBackendName(spec.backend) })
  post({ type: 'backend', name: backend.name, device: backend.device })
}

/** Turns a batch into the picture of a sample: an image grid, or a density plot for 2-D points. */
function picture(data: Float32Array, shape: number[], centered: boolean): RgbaImage {
  if (shape.length === 1) return scatterImage(data)
  const [h, w, c] = shape as [number, number, number]
  const count = data.length / (h * w * c)
  return makeGrid(data, [count, h, w, c], { range: centered ? [-1, 1] : [0, 1] })
}

/** Request keys the record already carries, or that only steer progress reports. */
const NOT_RECORDED = new Set(['batchSize', 'seed', 'denoise', 'every'])

/**
 * The settings that ran, for the record and the PNG: the request's, the sampler's defaults for
 * what it left out (ode's method and tolerances, pc's snr…), and n as the steps taken: the
 * SDE's N when none were asked for, none for the adaptive rk45 (which ignores n).
 */
function ranSettings(sampler: string, settings: Record<string, unknown>, sdeN: number): Record<string, unknown> {
  const ran = { ...settings }
  const parsed = getSampler(sampler).settings.safeParse(settings)
  if (parsed.success) {
    for (const [k, v] of Object.entries(parsed.data as Record<string, unknown>)) if (!(k in ran) && !NOT_RECORDED.has(k) && v !== undefined) ran[k] = v
  }
  if (sampler === 'ode' && ran.method === 'rk45') delete ran.n
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

async function sampleOnce(loaded: LoadedModel, runDir: string, config: TrainConfig, dataDir: string, job: OneSample, post: Post, signal: AbortSignal): Promise<SampleRecord> {
  const r = job.request
  const centered = config.centered
  if (r.condition && r.sampler !== 'pc') {
    throw new Error(`Controllable generation (${r.condition.kind}) runs on the predictor–corrector sampler: choose "pc", not "${r.sampler}".`)
  }
  const cond = r.condition ? await conditioned(r.condition, config, dataDir, loaded.shape, r.count, r.seed) : null
  const frames: Float32Array[] = []
  const wanted = r.trajectoryFrames ?? 0
  const settings: Record<string, unknown> = {
    // Defaults that depend on the SDE (pc's snr on VP vs VE) unless the request sets them.
    ...sdeSamplerDefaults(r.sampler, config.sde.name),
    ...(r.settings ?? {}),
    batchSize: r.count,
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
  const result = cond ? await cond.run(loaded.scoreFn, loaded.sde, settings, runtime) : await runSampler(r.sampler, loaded.scoreFn, loaded.sde, settings, runtime)
  const samples = await result.samples.data() as Float32Array
  result.samples.dispose()
  const id = `${new Date().toISOString().replace(/[-:]/g, '').replace(/\..*/, '').replace('T', '-')}-${r.sampler}-${crypto.randomBytes(2).toString('hex')}`
  const dir = path.join(runDir, 'samples')
  fs.mkdirSync(dir, { recursive: true })
  const img = picture(samples, loaded.shape, centered)
  let reference: string | null = null
  let referenceKind: SampleRecord['referenceKind']
  if (cond?.reference) {
    reference = `${id}-reference.png`
    referenceKind = 'condition'
    writeFileAtomicSync(path.join(dir, reference), encodePng(picture(cond.reference, loaded.shape, centered), { condition: r.condition }))
  }
  // Toy runs: the samples against the true distribution, and a picture of as many fresh true
  // samples (the set the metrics compare with) drawn the same way, to show beside them.
  const target = toyTarget(config, loaded.shape, r.condition)
  let toyMetrics: ToySampleMetrics | null = null
  if (target) {
    const m = toySampleMetrics(samples, target.toy, { seed: r.seed })
    toyMetrics = m ? { target: target.name, ...m } : null
    if (!reference) {
      reference = `${id}-reference.png`
      referenceKind = 'truth'
      writeFileAtomicSync(path.join(dir, reference), encodePng(picture(freshTrueSamples(target.toy, r.count, r.seed), loaded.shape, centered), { truth: target.name, count: r.count, seed: r.seed }))
    }
  }
  const ran = ranSettings(r.sampler, settings, loaded.sde.N)
  const meta = { sampler: r.sampler, settings: ran, condition: r.condition ?? null, checkpoint: loaded.checkpoint.file, step: loaded.checkpoint.step, ema: loaded.usedEma, nfe: result.nfe, seconds: result.seconds }
  writeFileAtomicSync(path.join(dir, `${id}.png`), encodePng(img, meta))
  let gif: string | null = null
  if (wanted > 0 && frames.length > 0) {
    const pick = subsample(frames, wanted)
    const pictures = [...pick, samples].map((f) => picture(f, loaded.shape, centered))
    const framesDir = path.join(dir, `${id}-frames`)
    fs.mkdirSync(framesDir, { recursive: true })
    pictures.forEach((p, i) => writeFileAtomicSync(path.join(framesDir, `${String(i).padStart(4, '0')}.png`), encodePng(p)))
    gif = `${id}.gif`
    writeFileAtomicSync(path.join(dir, gif), encodeGif(pictures, { delayMs: 80, holdLastMs: 1200 }))
  }
  const record: SampleRecord = {
    id,
    runId: path.basename(runDir),
    checkpoint: loaded.checkpoint.file,
    step: loaded.checkpoint.step,
    sampler: r.sampler,
    settings: ran,
    seed: r.seed,
    count: r.count,
    nfe: result.nfe,
    seconds: result.seconds,
    stepsPerSecond: result.stepsPerSecond,
    createdAt: Date.now(),
    png: `${id}.png`,
    gif,
    width: img.width,
    height: img.height,
    compareId: job.compareId,
    condition: r.condition ?? null,
    reference,
    ...(referenceKind ? { referenceKind } : {}),
    ...(target ? { toyMetrics } : {})
  }
  // The record is written last: a sample is listed only once all its files exist.
  writeFileAtomicSync(path.join(dir, `${id}.json`), JSON.stringify(record, null, 2))
  return record
}

function subsample<T>(xs: T[], n: number): T[] {
  if (xs.length <= n) return xs
  return Array.from({ length: n }, (_, i) => xs[Math.round((i * (xs.length - 1)) / Math.max(1, n - 1))]!)
}

/**
 * Runs a sampling-type job: turns cancel/stop into an AbortSignal the engine checks between
 * steps, reports failure or cancellation, and frees the model whatever happens.
 */
async function cancellable(post: Post, control: JobControl, body: (signal: AbortSignal, hold: (m: LoadedModel) => LoadedModel) => Promise<void>): Promise<void> {
  const abort = new AbortController()
  const poll = setInterval(() => (control.cancelRequested() || control.stopRequested() ? abort.abort(new Error('cancelled')) : undefined), 50)
  let loaded: LoadedModel | null = null
  try {
    await body(abort.signal, (m) => (loaded = m))
  } catch (err) {
    if (abort.signal.aborted) post({ type: 'done', outcome: 'cancelled', step: 0, trainMs: 0 })
    else post({ type: 'failed', error: (err as Error).message, step: 0, trainMs: 0 })
  } finally {
    clearInterval(poll)
    ;(loaded as LoadedModel | null)?.dispose()
  }
}

export function runSampleJob(spec: SampleJobSpec | CompareJobSpec, post: Post, control: JobControl): Promise<void> {
  return cancellable(post, control, async (signal, hold) => {
    await setup(spec, post)
    const { runDir, run } = runInfo(spec)
    const loaded = hold(await loadRunModel(runDir, spec.request.checkpoint, spec.request.useEma))
    const jobs: OneSample[] =
      spec.kind === 'sample'
        ? [{ request: spec.request, compareId: null, span: [0, 1] }]
        : spec.request.entries.map((e, i, all) => ({
            request: { ...e, seed: spec.request.seed, count: spec.request.count, eps: spec.request.eps },
            compareId: spec.jobId,
            span: [i / all.length, (i + 1) / all.length] as [number, number]
          }))
    const records: SampleRecord[] = []
    for (const job of jobs) {
      records.push(await sampleOnce(loaded, runDir, run.config, spec.dataDir, job, post, signal))
      const last = records.at(-1)!
      const m = last.toyMetrics
      const quality = m ? `; log p ${m.logLikelihood.toFixed(3)} nats (true samples ${m.logLikelihoodRef.toFixed(3)}), sliced W2 ${m.sw2.toFixed(3)} (true samples ${m.sw2Ref.toFixed(3)})` : ''
      post({ type: 'log', level: 'info', message: `${job.request.sampler}: NFE ${last.nfe}, ${last.seconds.toFixed(2)} s${quality}` })
    }
    post({ type: 'progress', fraction: 1, etaSeconds: 0, rate: null, unit: 'steps/s' })
    post({ type: 'done', outcome: 'finished', step: loaded.checkpoint.step, trainMs: 0, result: { samples: records } })
  })
}

export function runLikelihoodJob(spec: LikelihoodJobSpec, post: Post, control: JobControl): Promise<void> {
  return cancellable(post, control, async (signal, hold) => {
    await setup(spec, post)
    const { runDir, run } = runInfo(spec)
    const req = spec.request
    const loaded = hold(await loadRunModel(runDir, req.checkpoint, req.useEma ?? true))
    const toy = run.config.dataset in TOYS
    const batchSize = toy ? Math.min(req.count, 512) : 32
    const batches: (() => tf.Tensor)[] = []
    if (toy) {
      const set = createToy(run.config.dataset)
      for (let i = 0; i < req.count; i += batchSize) {
        const n = Math.min(batchSize, req.count - i)
        batches.push(() => tf.tensor2d(set.sample(n, new Rng((req.seed ?? 0) * 7919 + i)), [n, 2]))
      }
    } else {
      const set = await new DatasetStore(spec.dataDir).load(run.config.dataset, req.split)
      const batcher = new Batcher(set, { batchSize, seed: req.seed ?? 0, centered: run.config.centered, shuffle: true })
      const order = batcher.order(0).subarray(0, Math.min(req.count, set.count))
      for (let i = 0; i < order.length; i += batchSize) {
        const idx = order.subarray(i, i + batchSize)
        batches.push(() => {
          const b = batcher.makeBatch(idx)
          b.y.dispose()
          return b.x
        })
      }
    }
    const bpd: number[] = []
    const nll: number[] = []
    let nfe = 0
    const started = performance.now()
    for (let k = 0; k < batches.length; k++) {
      const x = batches[k]!()
      try {
        const r = await logLikelihood(loaded.scoreFn, loaded.sde, x, {
          dequantize: !toy,
          dataRange: run.config.centered ? 'centered' : 'unit',
          seed: (req.seed ?? 0) + k,
          rtol: req.rtol ?? 1e-5,
          atol: req.atol ?? 1e-5,
          signal
        })
        nfe += r.nfe
        r.bpd.forEach((v) => bpd.push(v))
        r.logp.forEach((v) => nll.push(-v))
      } finally {
        x.dispose()
      }
      const done = (k + 1) / batches.length
      const elapsed = (performance.now() - started) / 1000
      post({ type: 'progress', fraction: done, etaSeconds: (elapsed / done) * (1 - done), rate: bpd.length / elapsed, unit: 'samples/s' })
    }
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length
    const sem = (xs: number[]) => Math.sqrt(xs.reduce((a, b) => a + (b - mean(xs)) ** 2, 0) / Math.max(1, xs.length - 1) / xs.length)
    const result = {
      count: bpd.length,
      split: req.split,
      checkpoint: loaded.checkpoint.file,
      // bits/dim is defined for 8-bit images (uniform dequantisation, +8 for [0,1] data, +7 for [−1,1]); toy data report nats.
      bitsPerDim: toy ? null : mean(bpd),
      bitsPerDimStdErr: toy ? null : sem(bpd),
      nllNats: mean(nll),
      nfe,
      nfePerBatch: nfe / batches.length,
      seconds: (performance.now() - started) / 1000
    }
    post({ type: 'log', level: 'info', message: toy ? `NLL ${result.nllNats.toFixed(4)} nats (NFE ${nfe})` : `${result.bitsPerDim!.toFixed(4)} ± ${result.bitsPerDimStdErr!.toFixed(4)} bits/dim (NFE ${nfe})` })
    post({ type: 'done', outcome: 'finished', step: loaded.checkpoint.step, trainMs: 0, result })
  })
}
