// score-lab sample | compare | sweep | likelihood: sampling jobs on a run's checkpoint. Sampler
// settings come as one flag each (--s-churn 0.5, --schedule karras), from the engine's registry:
// samplers.ts.
import fs from 'node:fs'
import path from 'node:path'
import { INPAINT_PRESETS, LIKELIHOOD_ESTIMATORS, LIMITS, resultOf, type Condition, type DrawnMask, type JobResult, type JobResultOf, type PixelImage } from '../../shared/contract'
import { decodePng } from '../../engine/images/png'
import { ProgressLine } from '../progress'
import { UsageError, int, num, waitForJob, type Cli } from '../context'
import { OutputRefused, checkOutputPath, writeOutputFile } from '../../engine/io/output-file'
import { resolveRunRef, type RunRef } from '../../lab/runs/run-ref'
import { sweepCsv } from '../../shared/sweep-table'
import { DATASETS } from '../../lab/datasets/registry'
import { samplersNamed, settingsFromFlags } from './samplers'

export const SAMPLE_OPTIONS = {
  checkpoint: { type: 'string' },
  sampler: { type: 'string' },
  samplers: { type: 'string' },
  // likelihood's ODE tolerances (for the samplers, rtol and atol are settings like the others).
  rtol: { type: 'string' },
  atol: { type: 'string' },
  n: { type: 'string' },
  seed: { type: 'string' },
  eps: { type: 'string' },
  out: { type: 'string' },
  gif: { type: 'string' },
  split: { type: 'string' },
  inpaint: { type: 'string' },
  colorize: { type: 'boolean' },
  class: { type: 'string' },
  guidance: { type: 'string' },
  mask: { type: 'string' },
  'per-class': { type: 'string' },
  classifier: { type: 'string' },
  start: { type: 'string' },
  image: { type: 'string' },
  images: { type: 'string' },
  frames: { type: 'string' },
  strip: { type: 'string' },
  estimator: { type: 'string' },
  probes: { type: 'string' },
  'all-checkpoints': { type: 'boolean' },
  'no-ema': { type: 'boolean' },
  fid: { type: 'boolean' },
  force: { type: 'boolean' },
  nfe: { type: 'string' },
  tolerances: { type: 'string' },
  metric: { type: 'string' }
} as const

type Flags = { [K in keyof typeof SAMPLE_OPTIONS]?: (typeof SAMPLE_OPTIONS)[K]['type'] extends 'boolean' ? boolean : string } & { steps?: string }

/** --checkpoint's value: a run (id, name or folder) or one of its checkpoint files. */
function checkpointFlag(f: Flags): string {
  if (!f.checkpoint) throw new UsageError('--checkpoint RUN (a run id, name or folder) or PATH (a .safetensors file in a run folder) is required')
  return f.checkpoint
}

/** The run --checkpoint names, and the checkpoint it selects when it names a file (else the run's latest). */
function resolveCheckpoint(cli: Cli, ref: string): RunRef {
  return resolveRunRef(cli.service.runs, ref)
}

/**
 * The samplers named on the command line (short or full names) with the settings their flags
 * set: each flag goes to the samplers that take it (--rtol to ode, --snr to pc).
 */
async function samplersWithSettings(cli: Cli, names: string[], f: Flags): Promise<{ sampler: string; settings: Record<string, number | string | boolean> }[]> {
  const { samplers: all } = await cli.call('engine.catalog', {})
  const samplers = samplersNamed(names, all)
  const settings = settingsFromFlags(samplers, f, all)
  return samplers.map((x, i) => ({ sampler: x.name, settings: settings[i]! }))
}

/** Waits for a job of `kind`, showing its progress, and answers with its typed result. */
async function runJob<K extends JobResult['kind']>(cli: Cli, jobId: string, kind: K, label: string): Promise<JobResultOf<K>> {
  const bar = new ProgressLine(label)
  const end = await waitForJob(cli, jobId, (f, eta, rate) => bar.update(f, rate ? `${rate.toFixed(1)}/s` : '', eta))
  bar.done()
  if (end.state !== 'finished') throw new UsageError(end.error ?? `${label} ${end.state}`)
  const result = resultOf(cli.service.jobs.get(jobId), kind)
  if (!result) throw new Error(`the ${label} job finished without a ${kind} result`)
  return result
}

/** Copies a sample out of the run: to a temp file beside `to`, renamed over it once complete. */
function copyOut(cli: Cli, runId: string, file: string, to: string, force: boolean): string {
  const src = cli.service.runs.samples(runId).file(file)
  try {
    fs.mkdirSync(path.dirname(path.resolve(to)), { recursive: true })
    return writeOutputFile(to, fs.readFileSync(src), { overwrite: force })
  } catch (err) {
    throw outputUsageError(err)
  }
}

/** Refuses an output path before any sampling time is spent on it. */
function checkOut(to: string | undefined, force: boolean): void {
  if (!to) return
  try {
    fs.mkdirSync(path.dirname(path.resolve(to)), { recursive: true })
    checkOutputPath(to, { overwrite: force })
  } catch (err) {
    throw outputUsageError(err)
  }
}

function outputUsageError(err: unknown): Error {
  if (err instanceof OutputRefused) return new UsageError(err.problem === 'exists' ? `${err.message.replace(/\.$/, '')}; pass --force to replace it` : err.message)
  return err as Error
}

function classNamesOf(dataset: string): readonly string[] {
  const info = DATASETS.find((d) => d.name === dataset)
  return info?.kind === 'image' ? info.classNames : []
}

/** --class's value: a class id, or one of the data set's class names (any case, e.g. sneaker). */
function classLabel(value: string, datasetOf: () => string): number {
  if (/^\d+$/.test(value)) return Number(value)
  const dataset = datasetOf()
  const names = classNamesOf(dataset)
  const k = names.findIndex((n) => n.toLowerCase() === value.toLowerCase())
  if (k < 0) throw new UsageError(names.length ? `--class: ${dataset} has no class "${value}"; its classes are ${names.map((n, i) => `${i} ${n}`).join(', ')}` : `--class takes a class number for ${dataset}, got "${value}"`)
  return k
}

/**
 * --mask FILE.png: a drawn mask the size of the run's images; dark pixels (luminance < 128) are
 * filled in by the sampler, light ones are kept from the image (transparent counts as dark).
 */
function maskFromPng(file: string): DrawnMask {
  let image
  try {
    image = decodePng(new Uint8Array(fs.readFileSync(file)))
  } catch (err) {
    throw new UsageError(`--mask ${file}: not a readable PNG (${(err as Error).message})`)
  }
  if (image.width > LIMITS.maskSide.max || image.height > LIMITS.maskSide.max) throw new UsageError(`--mask ${file} is ${image.width}×${image.height}; a mask is the size of the run's images (at most ${LIMITS.maskSide.max}×${LIMITS.maskSide.max})`)
  const bits = new Uint8Array(image.width * image.height)
  for (let p = 0; p < bits.length; p++) {
    const [r, g, b, a] = [image.data[4 * p]!, image.data[4 * p + 1]!, image.data[4 * p + 2]!, image.data[4 * p + 3]!]
    bits[p] = a >= 128 && 0.299 * r + 0.587 * g + 0.114 * b >= 128 ? 1 : 0
  }
  return { width: image.width, height: image.height, data: Buffer.from(bits).toString('base64') }
}

/**
 * --image FILE.png: the one image every sample of an inpainting or colorisation starts from; a
 * PNG the size of the run's images (grey for 1-channel sets: its luminance is taken).
 */
function imageFromPng(file: string, dataset: string, flag = '--image'): PixelImage {
  let image
  try {
    image = decodePng(new Uint8Array(fs.readFileSync(file)))
  } catch (err) {
    throw new UsageError(`${flag} ${file}: not a readable PNG (${(err as Error).message})`)
  }
  const info = DATASETS.find((d) => d.name === dataset)
  if (info?.kind !== 'image') throw new UsageError(`${flag} needs an image run; ${dataset} is 2-D points`)
  const [h, w, c] = info.shape
  if (image.width !== w || image.height !== h) throw new UsageError(`${flag} ${file} is ${image.width}×${image.height}; this ${dataset} run's images are ${w}×${h} (resize it first)`)
  const bytes = new Uint8Array(h * w * c)
  for (let p = 0; p < h * w; p++) {
    const [r, g, b] = [image.data[4 * p]!, image.data[4 * p + 1]!, image.data[4 * p + 2]!]
    if (c === 1) bytes[p] = Math.round(0.299 * r + 0.587 * g + 0.114 * b)
    else bytes.set([r, g, b], 3 * p)
  }
  return { width: w, height: h, channels: c as 1 | 3, data: Buffer.from(bytes).toString('base64') }
}

/** What the CLI needs of the sampled run to build a condition (read only when a flag needs it). */
interface RunLookup {
  dataset: () => string
  /** --classifier's run, as its id. */
  runId: (ref: string) => string
}

/**
 * --inpaint MASK | --mask FILE.png | --colorize [--split S] [--start I | --image FILE.png] |
 * --class K|NAME|all [--per-class N] [--guidance W] [--classifier RUN] → the request's condition.
 */
function conditionFrom(f: Flags, run: RunLookup): Condition | undefined {
  const given = [f.inpaint !== undefined, f.mask !== undefined, f.colorize === true, f.class !== undefined].filter(Boolean).length
  if (given > 1) throw new UsageError('give one of --inpaint, --mask, --colorize and --class')
  const split = f.split ?? 'test'
  if (split !== 'test' && split !== 'train') throw new UsageError(`--split must be test or train, got "${split}"`)
  const pixels = f.inpaint !== undefined || f.mask !== undefined || f.colorize === true
  if (!pixels && (f.start !== undefined || f.image !== undefined)) throw new UsageError('--start and --image go with --inpaint, --mask or --colorize (the images to start from)')
  if (f.start !== undefined && f.image !== undefined) throw new UsageError('give --start I (data-set images from index I) or --image FILE.png, not both')
  if (f.class === undefined) {
    for (const flag of ['guidance', 'per-class', 'classifier'] as const) if (f[flag] !== undefined) throw new UsageError(`--${flag} goes with --class (the class to guide towards)`)
  }
  const source = () => ({ split, ...(f.start !== undefined ? { start: int('start', f.start)! } : {}), ...(f.image !== undefined ? { image: imageFromPng(f.image, run.dataset()) } : {}) }) as { split: 'test' | 'train'; start?: number; image?: PixelImage }
  if (f.inpaint !== undefined) {
    if (!(INPAINT_PRESETS as readonly string[]).includes(f.inpaint)) throw new UsageError(`--inpaint takes the region to fill in: ${INPAINT_PRESETS.join(', ')} (or --mask FILE.png for your own)`)
    return { kind: 'inpaint', mask: f.inpaint as (typeof INPAINT_PRESETS)[number], ...source() }
  }
  if (f.mask !== undefined) return { kind: 'inpaint', mask: maskFromPng(f.mask), ...source() }
  if (f.colorize) return { kind: 'colorize', ...source() }
  if (f.class !== undefined) {
    const guide = { guidance: num('guidance', f.guidance), ...(f.classifier !== undefined ? { classifierRun: run.runId(f.classifier) } : {}) }
    if (f.class.toLowerCase() === 'all') return { kind: 'classes', perClass: int('per-class', f['per-class']) ?? 8, ...guide }
    if (f['per-class'] !== undefined) throw new UsageError('--per-class goes with --class all (a grid of every class)')
    return { kind: 'class', label: classLabel(f.class, run.dataset), ...guide }
  }
  return undefined
}

export async function sampleCommand(cli: Cli, f: Flags): Promise<number> {
  const ref = checkpointFlag(f)
  if (!f.out) throw new UsageError('--out FILE.png is required')
  const { sampler, settings } = (await samplersWithSettings(cli, [f.sampler ?? 'pc'], f))[0]!
  // Flags first (a typo is cheaper to hear about); a class given by name needs the run's data set.
  const condition = conditionFrom(f, { dataset: () => cli.service.runs.get(resolveCheckpoint(cli, ref).runId).config.dataset, runId: (other) => resolveRunRef(cli.service.runs, other).runId })
  const force = f.force === true
  // The run is checked after the flags and before the output paths.
  const { runId, checkpoint } = resolveCheckpoint(cli, ref)
  checkOut(f.out, force)
  checkOut(f.gif, force)
  const { jobId } = await cli.call('samples.start', {
    condition,
    runId,
    checkpoint,
    sampler,
    steps: int('steps', f.steps),
    seed: int('seed', f.seed) ?? 0,
    count: int('n', f.n) ?? 64,
    eps: num('eps', f.eps),
    useEma: !f['no-ema'],
    settings,
    trajectoryFrames: f.gif ? 40 : 0
  })
  const { samples } = await runJob(cli, jobId, 'sample', sampler)
  const r = samples[0]!
  const out = copyOut(cli, runId, r.png, f.out, force)
  const gif = f.gif && r.gif ? copyOut(cli, runId, r.gif, f.gif, force) : null
  const reference = r.reference ? copyOut(cli, runId, r.reference, out.replace(/\.png$/i, '') + '.reference.png', force) : null
  const agree = r.classAgreement
  const judged = agree ? `; the feature classifier labels ${(agree.rate * 100).toFixed(1)} % as asked (per class ${agree.perClass.map((p) => (p === null ? '–' : (p * 100).toFixed(0))).join(' / ')} %)` : ''
  cli.result({ out, gif, reference, nfe: r.nfe, seconds: r.seconds, sampler: r.sampler, checkpoint: r.checkpoint, count: r.count, classAgreement: agree ?? null }, `${out} (${r.sampler}, NFE ${r.nfe}, ${r.seconds.toFixed(2)} s${judged})`)
  return 0
}

export async function compareCommand(cli: Cli, f: Flags): Promise<number> {
  const ref = checkpointFlag(f)
  if (!f.samplers) throw new UsageError('--samplers LIST is required, e.g. --samplers em,pc,ode')
  if (!f.out) throw new UsageError('--out DIR is required')
  const steps = int('steps', f.steps)
  const entries = (await samplersWithSettings(cli, f.samplers.split(','), f)).map(({ sampler, settings }) => ({ sampler, steps, settings }))
  const { runId, checkpoint } = resolveCheckpoint(cli, ref)
  // --metric fd,kid (any of fd, kid, pr): measure each entry through the data set's classifier (image runs).
  const metric = f.metric !== undefined ? metricFlag(f.metric) : undefined
  const { jobId } = await cli.call('samples.compare', { runId, checkpoint, seed: int('seed', f.seed) ?? 0, count: int('n', f.n) ?? 64, eps: num('eps', f.eps), useEma: !f['no-ema'], entries, metric })
  const { samples } = await runJob(cli, jobId, 'compare', 'compare')
  const rows = samples.map((r) => ({ sampler: r.sampler, out: copyOut(cli, runId, r.png, path.join(f.out!, `${r.sampler}.png`), f.force === true), nfe: r.nfe, seconds: r.seconds, quality: r.quality ?? r.toyMetrics ?? null }))
  for (const r of samples.map((s, i) => ({ ...rows[i]!, q: s.quality }))) {
    const q = r.q ? `  FD ${r.q.value?.toFixed(2) ?? 'diverged'} (real ${r.q.floor?.toFixed(2)})${r.q.kid ? `  KID ${r.q.kid.mean.toFixed(3)}` : ''}${r.q.precision !== null ? `  P ${r.q.precision.toFixed(2)} R ${r.q.recall?.toFixed(2)}` : ''}${r.q.classes ? `  classes H ${r.q.classes.entropy.toFixed(2)}/${r.q.classes.entropyMax.toFixed(2)} conf ${r.q.classes.meanConfidence.toFixed(2)}` : ''}` : ''
    cli.say(`${r.sampler.padEnd(20)} NFE ${String(r.nfe).padStart(6)}  ${r.seconds.toFixed(2).padStart(8)} s${q}  ${r.out}`)
  }
  cli.result(rows)
  return 0
}

export async function likelihoodCommand(cli: Cli, f: Flags): Promise<number> {
  const ref = checkpointFlag(f)
  const split = f.split ?? 'test'
  if (split !== 'test' && split !== 'train') throw new UsageError(`--split must be test or train, got "${split}"`)
  const { runId, checkpoint } = resolveCheckpoint(cli, ref)
  const { jobId } = await cli.call('likelihood.start', {
    runId,
    checkpoint,
    count: int('n', f.n) ?? 256,
    split,
    seed: int('seed', f.seed),
    useEma: !f['no-ema'],
    rtol: num('rtol', f.rtol),
    atol: num('atol', f.atol),
    estimator: estimatorFlag(f.estimator),
    probes: int('probes', f.probes),
    allCheckpoints: f['all-checkpoints'] === true
  })
  const { kind: _kind, ...r } = await runJob(cli, jobId, 'likelihood', 'likelihood')
  const line = (p: { bitsPerDim: number | null; bitsPerDimStdErr: number | null; nllNats: number }) => (p.bitsPerDim !== null ? `${p.bitsPerDim.toFixed(4)} ± ${p.bitsPerDimStdErr!.toFixed(4)} bits/dim` : `NLL ${p.nllNats.toFixed(4)} nats`)
  for (const p of r.curve ?? []) cli.say(`step ${String(p.step).padStart(8)}  ${line(p)}  (NFE ${p.nfe})`)
  cli.result(r, `${line(r)} over ${r.count} ${r.bitsPerDim !== null ? `${split} images` : 'points'} (NFE ${r.nfe}, ${r.probes} ${r.estimator} probe${r.probes === 1 ? '' : 's'})`)
  return 0
}

/**
 * score-lab interpolate: two images (--images I,J of --split, either may be a PNG of the run's
 * size instead) encoded through the probability-flow ODE, --frames latents between them decoded:
 * the GIF to --out, the strip to --strip (default: --out with .png), the round trip's error and
 * the NFE each way in the result.
 */
export async function interpolateCommand(cli: Cli, f: Flags): Promise<number> {
  const ref = checkpointFlag(f)
  if (!f.out) throw new UsageError('--out FILE.gif is required')
  if (!f.images) throw new UsageError('--images I,J is required: two test-set indices (or PNG files of the run\'s image size), e.g. --images 0,1')
  const parts = f.images.split(',').map((p) => p.trim())
  if (parts.length !== 2 || parts.some((p) => !p)) throw new UsageError(`--images takes two images, I,J, got "${f.images}"`)
  const split = f.split ?? 'test'
  if (split !== 'test' && split !== 'train') throw new UsageError(`--split must be test or train, got "${split}"`)
  const frames = int('frames', f.frames) ?? 8
  const { runId, checkpoint } = resolveCheckpoint(cli, ref)
  const dataset = cli.service.runs.get(runId).config.dataset
  const index = (p: string) => (/^\d+$/.test(p) ? Number(p) : 0)
  const file = (p: string) => (/^\d+$/.test(p) ? null : imageFromPng(p, dataset, '--images'))
  const files = [file(parts[0]!), file(parts[1]!)] as [PixelImage | null, PixelImage | null]
  const force = f.force === true
  const strip = f.strip ?? f.out.replace(/\.gif$/i, '') + '.png'
  checkOut(f.out, force)
  checkOut(strip, force)
  const { jobId } = await cli.call('samples.interpolate', {
    runId,
    checkpoint,
    useEma: !f['no-ema'],
    split,
    images: [index(parts[0]!), index(parts[1]!)],
    ...(files[0] || files[1] ? { files } : {}),
    frames,
    rtol: num('rtol', f.rtol),
    atol: num('atol', f.atol)
  })
  const r = (await runJob(cli, jobId, 'interpolate', 'interpolate')).samples[0]!
  const i = r.interpolation!
  const out = copyOut(cli, runId, r.gif!, f.out, force)
  const stripOut = copyOut(cli, runId, r.png, strip, force)
  cli.result(
    { out, strip: stripOut, frames: i.frames, images: i.images, split: i.split, reconstruction: i.reconstruction, nfe: { encode: i.nfeEncode, decode: i.nfeDecode }, seconds: r.seconds, checkpoint: r.checkpoint },
    `${out} and ${stripOut}: ${i.frames} frames between ${i.images.join(' and ')}; round trip max |Δ| ${i.reconstruction.maxAbs.toExponential(2)}, rms ${i.reconstruction.rms.toExponential(2)} (pixels in [0, 1]); NFE ${i.nfeEncode} to encode, ${i.nfeDecode} to decode; ${r.seconds.toFixed(1)} s`
  )
  return 0
}

/** --estimator's value: the Hutchinson probe's distribution. */
function estimatorFlag(value: string | undefined): (typeof LIKELIHOOD_ESTIMATORS)[number] | undefined {
  if (value === undefined) return undefined
  if (!(LIKELIHOOD_ESTIMATORS as readonly string[]).includes(value)) throw new UsageError(`--estimator takes ${LIKELIHOOD_ESTIMATORS.join(' or ')}, got "${value}"`)
  return value as (typeof LIKELIHOOD_ESTIMATORS)[number]
}

/** --metric's value: a list of fd, kid, pr (all are computed together; the list says which the user wants to read). */
function metricFlag(value: string): true {
  const names = value.split(',').map((v) => v.trim()).filter(Boolean)
  const bad = names.filter((n) => !['fd', 'kid', 'pr'].includes(n))
  if (names.length === 0 || bad.length) throw new UsageError(`--metric takes fd, kid and/or pr (comma-separated), got "${value}"`)
  return true
}

/** A comma-separated list of numbers (--nfe 10,20,50): each checked by `check`. */
function numberList(name: string, value: string | undefined): number[] | undefined {
  if (value === undefined) return undefined
  const parts = value.split(',').map((v) => v.trim()).filter(Boolean)
  if (parts.length === 0) throw new UsageError(`--${name} needs a comma-separated list of numbers, e.g. 10,20,50`)
  return parts.map((p) => num(name, p)!)
}

export async function sweepCommand(cli: Cli, f: Flags): Promise<number> {
  const ref = checkpointFlag(f)
  if (!f.samplers) throw new UsageError('--samplers LIST is required, e.g. --samplers em,heun,dpmpp_2m')
  if (!f.out) throw new UsageError('--out DIR is required (the table, the result and one picture per point go there)')
  const nfe = numberList('nfe', f.nfe) ?? [10, 20, 50, 100]
  const tolerances = numberList('tolerances', f.tolerances)
  const samplers = await samplersWithSettings(cli, f.samplers.split(','), f)
  const { runId, checkpoint } = resolveCheckpoint(cli, ref)
  const force = f.force === true
  const out = path.resolve(f.out)
  checkOut(path.join(out, 'sweep.csv'), force)
  const { jobId } = await cli.call('samples.sweep', { runId, checkpoint, seed: int('seed', f.seed) ?? 0, n: int('n', f.n) ?? 1000, eps: num('eps', f.eps), useEma: !f['no-ema'], samplers, nfe, tolerances, fid: f.fid === true ? true : undefined })
  const { kind: _kind, ...result } = await runJob(cli, jobId, 'sweep', 'sweep')
  const store = cli.service.runs.samples(runId)
  const points = result.points.map((p) => {
    const record = store.get(p.sampleId)
    const picture = record ? copyOut(cli, runId, record.png, path.join(out, `${p.label.replace(/[^\w.-]+/g, '_')}.png`), force) : null
    return { ...p, picture }
  })
  writeOutputFile(path.join(out, 'sweep.csv'), Buffer.from(sweepCsv(result)), { overwrite: force })
  writeOutputFile(path.join(out, 'sweep.json'), Buffer.from(JSON.stringify({ ...result, points }, null, 2) + '\n'), { overwrite: force })
  cli.say(`${result.metricLabel}; floor ${result.floor?.toPrecision(4) ?? '—'}, noise ${result.ceiling?.toPrecision(4) ?? '—'}${result.fidFloor != null ? `; FID floor ${result.fidFloor.toPrecision(4)}` : ''}`)
  for (const p of points) cli.say(`${p.label.padEnd(28)} NFE ${p.nfe.toFixed(0).padStart(6)}  ${result.metric} ${p.quality === null ? 'diverged' : p.quality.toPrecision(4).padStart(9)}  ${p.seconds.toFixed(2).padStart(8)} s${p.classes ? `  classes H ${p.classes.entropy.toFixed(2)} conf ${p.classes.meanConfidence.toFixed(2)}` : ''}${p.fid != null ? `  FID ${p.fid.toPrecision(4)}` : ''}${p.resumedBatches ? `  (${p.resumedBatches} batches resumed)` : ''}`)
  cli.result({ ...result, points, csv: path.join(out, 'sweep.csv') })
  return 0
}

/** score-lab metric: one sampler at one budget, N samples, every quality number (a one-point sweep). */
export async function metricCommand(cli: Cli, f: Flags): Promise<number> {
  const ref = checkpointFlag(f)
  const sampler = f.sampler ?? 'euler_maruyama'
  const nfe = numberList('nfe', f.nfe)
  const tolerances = numberList('tolerances', f.tolerances)
  if ((nfe?.length ?? 0) > 1 || (tolerances?.length ?? 0) > 1) throw new UsageError('metric measures one budget: give one --nfe (or one --tolerances for an adaptive sampler); sweep takes lists')
  const samplers = await samplersWithSettings(cli, [sampler], f)
  const { runId, checkpoint } = resolveCheckpoint(cli, ref)
  const { jobId } = await cli.call('samples.sweep', { runId, checkpoint, seed: int('seed', f.seed) ?? 0, n: int('n', f.n) ?? 1000, eps: num('eps', f.eps), useEma: !f['no-ema'], samplers, nfe: nfe ?? [100], tolerances, fid: f.fid === true ? true : undefined })
  const { kind: _kind, points, ...rest } = await runJob(cli, jobId, 'sweep', 'metric')
  const p = points[0]!
  const classes = p.classes ? `, predicted classes ${p.classes.histogram.join('/')} (entropy ${p.classes.entropy.toFixed(3)} of ${p.classes.entropyMax.toFixed(3)} nats, mean confidence ${p.classes.meanConfidence.toFixed(3)}${rest.realClasses ? `; real data ${rest.realClasses.entropy.toFixed(3)}, ${rest.realClasses.meanConfidence.toFixed(3)}` : ''})` : ''
  const fid = p.fid != null ? `, FID ${p.fid.toPrecision(4)} (real data ${rest.fidFloor?.toPrecision(4) ?? '—'})` : ''
  const extra = fid + (p.kid ? `, KID ${p.kid.mean.toPrecision(3)} ± ${p.kid.std.toPrecision(2)}, precision ${p.precision?.toFixed(3)}, recall ${p.recall?.toFixed(3)}` : '') + classes
  cli.result({ ...rest, ...p }, `${p.label}: NFE ${p.nfe.toFixed(0)}, ${rest.metric} ${p.quality === null ? 'diverged' : p.quality.toPrecision(4)} (real data ${rest.floor?.toPrecision(4) ?? '—'}, noise ${rest.ceiling?.toPrecision(4) ?? '—'})${extra}; ${rest.metricLabel}`)
  return 0
}
