// Latent interpolation inside a worker: two images (of a split, or brought) encoded to x(T)
// through the probability-flow ODE, `frames` latents on the great circle between them decoded
// back (engine/samplers/flow-codec.ts). Kept as a sample record of the run: the frames as a
// one-row strip (PNG with its settings), a ping-pong GIF, the two originals as its reference, and
// the round trip's error — the decoded ends against the originals — with the NFE each way.
import { decodeFlow, encodeFlow, interpolateLatents } from '../../engine/samplers'
import { ODE_DEFAULTS } from '../../engine/samplers/ode'
import { encodePng } from '../../engine/images/png'
import { encodeGif } from '../../engine/images/gif'
import type { SampleRecord } from '../../shared/contract'
import type { InterpolateJobSpec, JobControl } from '../jobs/protocol'
import { SampleStore } from '../runs/sample-store'
import { loadRunModel } from './model-loader'
import { cancellable, openRun, selectJobBackend, type Post } from './job-runtime'
import { samplesPicture } from './picture'
import { broughtImages, splitImages } from './source-images'

/** Name the record's sampler carries (it is the ODE sampler's solver, run both ways). */
export const INTERPOLATION_SAMPLER = 'ode'

/** Largest and root-mean-square |a − b| over the values, in pixel units of [0, 1]. */
function pixelError(a: Float32Array, b: Float32Array, centered: boolean): { maxAbs: number; rms: number } {
  const scale = centered ? 0.5 : 1
  let max = 0
  let sq = 0
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i]! - b[i]!) * scale
    max = Math.max(max, d)
    sq += d * d
  }
  return { maxAbs: max, rms: Math.sqrt(sq / a.length) }
}

export function runInterpolateJob(spec: InterpolateJobSpec, post: Post, control: JobControl): Promise<void> {
  return cancellable(post, control, async (signal, hold) => {
    await selectJobBackend(spec, post)
    const { run, paths } = openRun(spec)
    const req = spec.request
    const { config } = run
    const loaded = hold(await loadRunModel(paths.checkpoints, req.checkpoint, req.useEma ?? true))
    if (loaded.shape.length !== 3) throw new Error(`Interpolation is between two images; ${config.dataset} is 2-D points.`)
    const shape = loaded.shape as [number, number, number]
    const per = shape[0] * shape[1] * shape[2]
    // The two ends: each a brought file where given, else the split's image at that index.
    const ends = new Float32Array(2 * per)
    for (const k of [0, 1] as const) {
      const file = req.files?.[k]
      const one = file ? broughtImages(file, shape, 1, config.centered) : await splitImages(spec.dataDir, config, req.split, Int32Array.of(req.images![k]), 0)
      ends.set(one, k * per)
    }
    const tol = { rtol: req.rtol ?? ODE_DEFAULTS.rtol, atol: req.atol ?? ODE_DEFAULTS.atol }
    const started = performance.now()
    const sde = loaded.sde
    const eps = sde.defaultEps
    // Progress by integration time: encoding is the first 30 % (two images), decoding the rest.
    const report = (from: number, span: number, forward: boolean) => (info: { t: number }) => {
      const done = forward ? (info.t - eps) / (sde.T - eps) : (sde.T - info.t) / (sde.T - eps)
      const f = from + span * Math.min(1, Math.max(0, done))
      const elapsed = (performance.now() - started) / 1000
      post({ type: 'progress', fraction: f, etaSeconds: f > 0 ? (elapsed * (1 - f)) / f : null, rate: null, unit: 'steps/s' })
    }
    const enc = await encodeFlow(loaded.scoreFn, sde, ends, shape, { ...tol, signal, onStep: report(0, 0.3, true) })
    const latents = interpolateLatents(enc.values.subarray(0, per), enc.values.subarray(per), req.frames)
    const dec = await decodeFlow(loaded.scoreFn, sde, latents, shape, { ...tol, signal, onStep: report(0.3, 0.7, false) })
    const last = (req.frames - 1) * per
    const decodedEnds = new Float32Array(2 * per)
    decodedEnds.set(dec.values.subarray(0, per), 0)
    decodedEnds.set(dec.values.subarray(last, last + per), per)
    const reconstruction = pixelError(decodedEnds, ends, config.centered)
    const seconds = (performance.now() - started) / 1000

    const store = new SampleStore(paths.samples)
    const id = store.newId('interpolate')
    const images = [0, 1].map((k) => (req.files?.[k] ? ('file' as const) : req.images![k]!))
    const interpolation = { images, split: req.split, frames: req.frames, reconstruction, nfeEncode: enc.nfe, nfeDecode: dec.nfe }
    const settings = { method: 'rk45', ...tol, frames: req.frames, images: images.join(',') }
    const strip = samplesPicture(dec.values, shape, config.centered, Infinity, req.frames)
    const png = store.pngName(id)
    store.writeFile(png, encodePng(strip, { interpolation, settings, checkpoint: loaded.checkpoint.file, step: loaded.checkpoint.step, ema: loaded.usedEma }))
    const reference = store.referenceName(id)
    store.writeFile(reference, encodePng(samplesPicture(ends, shape, config.centered, Infinity, 2), { originals: images, split: req.split }))
    // There and back again, so the GIF loops without a jump.
    const frames = Array.from({ length: req.frames }, (_, k) => samplesPicture(dec.values.subarray(k * per, (k + 1) * per), shape, config.centered))
    const gif = store.gifName(id)
    store.writeFile(gif, encodeGif([...frames, ...frames.slice(1, -1).reverse()], { delayMs: 120, holdLastMs: 120 }))
    const record: SampleRecord = {
      id,
      runId: spec.runId,
      checkpoint: loaded.checkpoint.file,
      step: loaded.checkpoint.step,
      sampler: INTERPOLATION_SAMPLER,
      settings,
      seed: 0,
      count: req.frames,
      nfe: enc.nfe + dec.nfe,
      seconds,
      stepsPerSecond: (enc.steps + dec.steps) / seconds,
      createdAt: Date.now(),
      png,
      gif,
      width: strip.width,
      height: strip.height,
      compareId: null,
      condition: null,
      reference,
      referenceKind: 'originals',
      interpolation
    }
    store.writeRecord(record)
    post({ type: 'log', level: 'info', message: `Interpolated ${images.join(' ↔ ')} in ${req.frames} frames: round trip max |Δ| ${reconstruction.maxAbs.toExponential(2)}, rms ${reconstruction.rms.toExponential(2)} (pixels in [0, 1]); NFE ${enc.nfe} to encode, ${dec.nfe} to decode` })
    post({ type: 'progress', fraction: 1, etaSeconds: 0, rate: null, unit: 'steps/s' })
    post({ type: 'done', outcome: 'finished', step: loaded.checkpoint.step, trainMs: 0, result: { kind: 'interpolate', samples: [record] } })
  })
}
