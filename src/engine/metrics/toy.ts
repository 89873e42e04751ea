// Sample quality on a 2-D toy set, where the true distribution is known: the samples' mean
// log-likelihood under the true density, and their sliced Wasserstein-2 distance to as many
// fresh true samples, each beside the same number for fresh true samples against other fresh
// true samples: the floor that finite-sample noise alone gives at this n.
import { Rng } from '../rng'
import { hasDensity, type ToyDataset } from '../toy'
import { GmmToy } from '../toy/gmm'
import { kdeLogDensity, meanLogLikelihood } from './log-likelihood'
import { SLICED_WASSERSTEIN_DEFAULTS, slicedWasserstein2 } from './sliced-wasserstein'

/** How log p was computed: the set's own density (closed form, or quadrature for moons), or a KDE. */
export type DensitySource = 'exact' | 'kde'

export interface ToySampleMetrics {
  /** Points measured: the finite samples (nonFinite were left out). */
  count: number
  /** Samples that were NaN/±Inf (a diverged sampler), left out of every number. */
  nonFinite: number
  density: DensitySource
  /** KDE only: the reference points and the bandwidth of the estimate. */
  kde: { points: number; bandwidth: number } | null
  /** Mean log p_data(x) of the samples, nats (higher is better; −H(p) is the ideal). */
  logLikelihood: number
  /** The same for `count` fresh true samples: the number a perfect sampler reads. */
  logLikelihoodRef: number
  /** Sliced W2 from the samples to `count` fresh true samples (data units; lower is better). */
  sw2: number
  /** Sliced W2 between two independent sets of `count` fresh true samples: the noise floor. */
  sw2Ref: number
  directions: number
  /** Seed of the fresh true samples and of the directions. */
  seed: number
  /**
   * toy-gmm only: share of samples within NEAR_MODE_STDS (2) component stds of some component
   * mean, and the same for true samples (1 − e^{−2} ≈ 0.865 in 2-D). 2, not 3: the 3σ discs of
   * the 8 default modes nearly touch, so a ring of radius 2 would still read ≈ 0.9 at 3σ.
   */
  nearModes: number | null
  nearModesRef: number | null
}

export const NEAR_MODE_STDS = 2

export interface ToyMetricOptions {
  /** Seed of the fresh true samples and of the projection directions (default 0). */
  seed?: number
  directions?: number
  /** Reference points of the KDE for sets without a density (default 4,096). */
  kdePoints?: number
}

/** The finite rows of x [n, 2] (x itself when all are), and how many were not. */
export function finiteRows(x: Float32Array): { points: Float32Array; dropped: number } {
  const keep: number[] = []
  for (let i = 0; i < x.length / 2; i++) if (Number.isFinite(x[2 * i]) && Number.isFinite(x[2 * i + 1])) keep.push(i)
  if (keep.length === x.length / 2) return { points: x, dropped: 0 }
  const points = new Float32Array(keep.length * 2)
  keep.forEach((i, k) => {
    points[2 * k] = x[2 * i]!
    points[2 * k + 1] = x[2 * i + 1]!
  })
  return { points, dropped: x.length / 2 - keep.length }
}

/** Share of points within `k` component stds of some component mean of a Gaussian mixture. */
export function shareNearModes(x: ArrayLike<number>, means: readonly (readonly [number, number])[], stds: readonly number[], k = NEAR_MODE_STDS): number {
  const n = x.length / 2
  if (n === 0) return 0
  let near = 0
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < means.length; c++) {
      if (Math.hypot(x[2 * i]! - means[c]![0], x[2 * i + 1]! - means[c]![1]) <= k * stds[c]!) {
        near++
        break
      }
    }
  }
  return near / n
}

/**
 * Fresh true samples for the metrics and the reference picture: set 0 is what samples are
 * measured against, set 1 the second set of the floor. Rng streams of their own, so a sample
 * job and a test get the same points for the same seed, and the first k of n points are the
 * set of k.
 */
export function freshTrueSamples(toy: ToyDataset, n: number, seed: number, which: 0 | 1 | 2 = 0): Float32Array {
  return toy.sample(n, new Rng(0x5eed * 1000 + seed * 3 + which))
}

/**
 * Metrics of samples x [n, 2] from a model of `toy`; null when no sample is finite. The fresh
 * true sets come from Rng(seed) streams of their own, so the numbers of two samplers run with
 * the same seed are measured against the same true points.
 */
export function toySampleMetrics(samples: Float32Array, toy: ToyDataset, opts: ToyMetricOptions = {}): ToySampleMetrics | null {
  const seed = opts.seed ?? 0
  const directions = opts.directions ?? SLICED_WASSERSTEIN_DEFAULTS.directions
  const { points, dropped } = finiteRows(samples)
  const n = points.length / 2
  if (n === 0) return null
  const truthA = freshTrueSamples(toy, n, seed, 0)
  const truthB = freshTrueSamples(toy, n, seed, 1)
  let logDensity: (x: Float32Array) => ArrayLike<number>
  let kde: ToySampleMetrics['kde'] = null
  if (hasDensity(toy)) logDensity = (x) => toy.logDensity(x)
  else {
    const m = opts.kdePoints ?? 4096
    const est = kdeLogDensity(freshTrueSamples(toy, m, seed, 2), 2)
    kde = { points: m, bandwidth: est.bandwidth }
    logDensity = est.logDensity
  }
  const sw = { directions, seed }
  const gmm = toy instanceof GmmToy ? (toy.config as { means: [number, number][]; stds: number[] }) : null
  return {
    count: n,
    nonFinite: dropped,
    density: kde ? 'kde' : 'exact',
    kde,
    logLikelihood: meanLogLikelihood(logDensity(points)),
    logLikelihoodRef: meanLogLikelihood(logDensity(truthA)),
    sw2: slicedWasserstein2(points, truthA, 2, sw),
    sw2Ref: slicedWasserstein2(truthB, truthA, 2, sw),
    directions,
    seed,
    nearModes: gmm ? shareNearModes(points, gmm.means, gmm.stds) : null,
    nearModesRef: gmm ? shareNearModes(truthA, gmm.means, gmm.stds) : null
  }
}
