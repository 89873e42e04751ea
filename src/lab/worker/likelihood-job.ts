// The likelihood job inside a worker thread: exact log-likelihood through the probability-flow
// ODE (engine/samplers/likelihood.ts) over test or training images, reported in bits/dim with
// its standard error (2-D toy data: nats).
import { tf } from '../../engine/tf'
import { logLikelihood } from '../../engine/samplers'
import { Batcher } from '../../engine/data/batcher'
import { createToy, TOYS } from '../../engine/toy'
import { Rng } from '../../engine/rng'
import fs from 'node:fs'
import type { LikelihoodPoint, LikelihoodResult, TrainConfig } from '../../shared/contract'
import { viewCheckpoints } from '../runs/checkpoint-folder'
import { DatasetStore } from '../datasets/store'
import type { JobControl, LikelihoodJobSpec } from '../jobs/protocol'
import { loadRunModel } from './model-loader'
import { cancellable, openRun, selectJobBackend, type Post } from './job-runtime'

export function runLikelihoodJob(spec: LikelihoodJobSpec, post: Post, control: JobControl): Promise<void> {
  return cancellable(post, control, async (signal) => {
    await selectJobBackend(spec, post)
    const { run, paths } = openRun(spec)
    const req = spec.request
    const toy = run.config.dataset in TOYS
    const batches = await evaluationBatches(spec, run.config, toy)
    // One checkpoint, or every kept one oldest first (the same images, seed and probes for each).
    const files = req.allCheckpoints ? viewCheckpoints(paths.checkpoints).checkpoints.sort((a, b) => a.step - b.step).map((c) => c.file) : [req.checkpoint]
    if (files.length === 0) throw new Error(`Run ${run.name} has no checkpoint yet.`)
    const estimator = req.estimator ?? 'rademacher'
    const probes = req.probes ?? 1
    const curve: LikelihoodPoint[] = []
    let last: LikelihoodResult | null = null
    let perImage: number[] = []
    const started = performance.now()
    for (const [ci, file] of files.entries()) {
      const loaded = await loadRunModel(paths.checkpoints, file, req.useEma ?? true)
      try {
        const bpd: number[] = []
        const nll: number[] = []
        let nfe = 0
        const t0 = performance.now()
        for (let k = 0; k < batches.length; k++) {
          const x = batches[k]!()
          try {
            const r = await logLikelihood(loaded.scoreFn, loaded.sde, x, {
              dequantize: !toy,
              dataRange: run.config.centered ? 'centered' : 'unit',
              seed: (req.seed ?? 0) + k,
              rtol: req.rtol ?? 1e-5,
              atol: req.atol ?? 1e-5,
              hutchinson: estimator,
              probes,
              signal
            })
            nfe += r.nfe
            r.bpd.forEach((v) => bpd.push(v))
            r.logp.forEach((v) => nll.push(-v))
          } finally {
            x.dispose()
          }
          const done = (ci + (k + 1) / batches.length) / files.length
          const elapsed = (performance.now() - started) / 1000
          post({ type: 'progress', fraction: done, etaSeconds: (elapsed / done) * (1 - done), rate: bpd.length / ((performance.now() - t0) / 1000), unit: 'samples/s' })
        }
        last = {
          count: bpd.length,
          split: req.split,
          checkpoint: loaded.checkpoint.file,
          // bits/dim is defined for 8-bit images (uniform dequantisation, +8 for [0,1] data, +7 for [−1,1]); toy data report nats.
          bitsPerDim: toy ? null : mean(bpd),
          bitsPerDimStdErr: toy ? null : standardError(bpd),
          nllNats: mean(nll),
          nfe,
          nfePerBatch: nfe / batches.length,
          seconds: (performance.now() - t0) / 1000,
          estimator,
          probes
        }
        perImage = toy ? nll : bpd
        const point: LikelihoodPoint = { checkpoint: last.checkpoint, step: loaded.checkpoint.step, split: req.split, count: last.count, seed: req.seed ?? 0, estimator, probes, bitsPerDim: last.bitsPerDim, bitsPerDimStdErr: last.bitsPerDimStdErr, nllNats: last.nllNats, nfe, time: Date.now() }
        curve.push(point)
        appendLikelihoodPoint(paths.likelihoods, point)
        post({ type: 'log', level: 'info', message: `${last.checkpoint} (step ${point.step}): ${toy ? `NLL ${last.nllNats.toFixed(4)} nats` : `${last.bitsPerDim!.toFixed(4)} ± ${last.bitsPerDimStdErr!.toFixed(4)} bits/dim`} (NFE ${nfe}, ${probes} ${estimator} probe${probes === 1 ? '' : 's'})` })
      } finally {
        loaded.dispose()
      }
    }
    const result: LikelihoodResult = { ...last!, perImage, ...(req.allCheckpoints ? { curve } : {}) }
    post({ type: 'done', outcome: 'finished', step: curve.at(-1)!.step, trainMs: 0, result: { kind: 'likelihood', ...result } })
  })
}

/** The images (or toy points) to evaluate, as batch makers: the same ones for every checkpoint. */
async function evaluationBatches(spec: LikelihoodJobSpec, config: TrainConfig, toy: boolean): Promise<(() => tf.Tensor)[]> {
  const req = spec.request
  const batchSize = toy ? Math.min(req.count, 512) : 32
  const batches: (() => tf.Tensor)[] = []
  if (toy) {
    const set = createToy(config.dataset)
    for (let i = 0; i < req.count; i += batchSize) {
      const n = Math.min(batchSize, req.count - i)
      batches.push(() => tf.tensor2d(set.sample(n, new Rng((req.seed ?? 0) * 7919 + i)), [n, 2]))
    }
    return batches
  }
  const set = await new DatasetStore(spec.dataDir).load(config.dataset, req.split)
  const batcher = new Batcher(set, { batchSize, seed: req.seed ?? 0, centered: config.centered, shuffle: true })
  const order = batcher.order(0).subarray(0, Math.min(req.count, set.count))
  for (let i = 0; i < order.length; i += batchSize) {
    const idx = order.subarray(i, i + batchSize)
    batches.push(() => {
      const b = batcher.makeBatch(idx)
      b.y.dispose()
      return b.x
    })
  }
  return batches
}

/** One line of the run's likelihood curve, appended (a torn last line is skipped when read). */
function appendLikelihoodPoint(file: string, point: LikelihoodPoint): void {
  try {
    fs.appendFileSync(file, JSON.stringify(point) + '\n')
  } catch {
    // A full disk costs the curve's point, not the measurement the job reports.
  }
}

function mean(xs: number[]): number {
  let s = 0
  for (const x of xs) s += x
  return s / xs.length
}

/** Standard error of the mean, s/√n with the n − 1 sample variance (one pass over the mean, not one per element). */
export function standardError(xs: number[]): number {
  const m = mean(xs)
  let ss = 0
  for (const x of xs) ss += (x - m) ** 2
  return Math.sqrt(ss / Math.max(1, xs.length - 1) / xs.length)
}
