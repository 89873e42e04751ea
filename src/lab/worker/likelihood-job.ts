// The likelihood job inside a worker thread: exact log-likelihood through the probability-flow
// ODE (engine/samplers/likelihood.ts) over test or training images, reported in bits/dim with
// its standard error (2-D toy data: nats).
import { tf } from '../../engine/tf'
import { logLikelihood } from '../../engine/samplers'
import { Batcher } from '../../engine/data/batcher'
import { createToy, TOYS } from '../../engine/toy'
import { Rng } from '../../engine/rng'
import type { LikelihoodResult } from '../../shared/contract'
import { DatasetStore } from '../datasets/store'
import type { JobControl, LikelihoodJobSpec } from '../jobs/protocol'
import { loadRunModel } from './model-loader'
import { cancellable, openRun, selectJobBackend, type Post } from './job-runtime'

export function runLikelihoodJob(spec: LikelihoodJobSpec, post: Post, control: JobControl): Promise<void> {
  return cancellable(post, control, async (signal, hold) => {
    await selectJobBackend(spec, post)
    const { run, paths } = openRun(spec)
    const req = spec.request
    const loaded = hold(await loadRunModel(paths.checkpoints, req.checkpoint, req.useEma ?? true))
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
    const result: LikelihoodResult = {
      count: bpd.length,
      split: req.split,
      checkpoint: loaded.checkpoint.file,
      // bits/dim is defined for 8-bit images (uniform dequantisation, +8 for [0,1] data, +7 for [−1,1]); toy data report nats.
      bitsPerDim: toy ? null : mean(bpd),
      bitsPerDimStdErr: toy ? null : standardError(bpd),
      nllNats: mean(nll),
      nfe,
      nfePerBatch: nfe / batches.length,
      seconds: (performance.now() - started) / 1000
    }
    post({ type: 'log', level: 'info', message: toy ? `NLL ${result.nllNats.toFixed(4)} nats (NFE ${nfe})` : `${result.bitsPerDim!.toFixed(4)} ± ${result.bitsPerDimStdErr!.toFixed(4)} bits/dim (NFE ${nfe})` })
    post({ type: 'done', outcome: 'finished', step: loaded.checkpoint.step, trainMs: 0, result: { kind: 'likelihood', ...result } })
  })
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
