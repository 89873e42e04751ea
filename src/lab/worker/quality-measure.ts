// How a sweep (and any job that reports sample quality) measures N samples of a run: for 2-D toy
// sets, sliced W2 to N fresh true samples (the true distribution is known); for image sets, the
// Fréchet distance of a feature classifier's penultimate features to N test images. Each comes
// with its floor (real data against real data at the same N: the best a sampler can read) and its
// ceiling (noise), because both numbers are biased at finite N and only comparable at equal N.
import { createToy, TOYS } from '../../engine/toy'
import { finiteRows, freshTrueSamples, slicedWasserstein2 } from '../../engine/metrics'
import { Rng } from '../../engine/rng'
import type { TrainConfig } from '../../shared/contract'
import type { QualityMeasure } from './quality-types'

export type { Quality, QualityMeasure } from './quality-types'

export interface QualityOptions {
  /** Image runs: also FID through the user-supplied Inception weights. */
  fid?: boolean
}

export async function qualityMeasure(config: TrainConfig, shape: number[], dataDir: string, n: number, seed: number, onProgress: (fraction: number) => void, opts: QualityOptions = {}): Promise<QualityMeasure> {
  if (config.dataset in TOYS && shape.length === 1) return toyMeasure(config.dataset, n, seed)
  const { imageMeasure } = await import('./image-quality')
  return imageMeasure(config, shape, dataDir, n, seed, onProgress, opts.fid === true)
}

function toyMeasure(dataset: string, n: number, seed: number): QualityMeasure {
  const toy = createToy(dataset)
  const truth = freshTrueSamples(toy, n, seed, 0)
  const sw2 = (x: Float32Array) => slicedWasserstein2(x, truth, 2, { seed })
  return {
    metric: 'sw2',
    label: `sliced W2 to ${n.toLocaleString('en-US')} true samples`,
    floor: sw2(freshTrueSamples(toy, n, seed, 1)),
    ceiling: sw2(matchedNoise(truth, n, seed)),
    realClasses: null,
    async measure(samples) {
      const { points } = finiteRows(samples)
      return { value: points.length ? sw2(points) : null, kid: null, precision: null, recall: null, classes: null }
    }
  }
}

/** Gaussian noise with the per-coordinate mean and std of `truth`: what "no model at all" reads. */
function matchedNoise(truth: Float32Array, n: number, seed: number): Float32Array {
  const m = truth.length / 2
  const mean = [0, 0]
  const sq = [0, 0]
  for (let i = 0; i < m; i++) for (let j = 0; j < 2; j++) mean[j]! += truth[2 * i + j]! / m
  for (let i = 0; i < m; i++) for (let j = 0; j < 2; j++) sq[j]! += (truth[2 * i + j]! - mean[j]!) ** 2 / m
  const rng = new Rng(0x401 * 1000 + seed)
  const out = new Float32Array(2 * n)
  for (let i = 0; i < n; i++) for (let j = 0; j < 2; j++) out[2 * i + j] = mean[j]! + Math.sqrt(sq[j]!) * rng.normal()
  return out
}
