// A data set's sample-quality report: every feature metric of N generated images against N
// test images, each next to the real-data value at the same N, since FD is biased upward at
// small N and only comparable at equal N (science.md §8).
//   fd          generated vs test
//   fdFloor     N training images vs N test images: what a perfect generator would score
//   fdCeiling   N noise images vs test: i.i.d. Gaussian pixels with the test images' pixel mean
//               and std (one value each, over all pixels and channels), clipped to the data
//               range, so brightness and contrast match and only structure is missing
//   kid, precision, recall   generated vs test; `realData` has the same three for train vs test
//   classHistogram, classEntropy (nats; at most ln(classes), ln 10 ≈ 2.303 for uniform classes),
//   meanConfidence           from the classifier's predictions on the generated images
// Plain data in and out (the net aside), so a worker can run it.
import { Rng } from '../rng'
import { argmaxRows, embed, type FeatureNet } from './feature-net'
import { imageCount, pickImages, toNetInput, type ImageArray } from './image-array'
import { frechetDistance, gaussianStats } from './frechet'
import { kernelInceptionDistance, sampleWithoutReplacement, type KidOptions, type KidResult } from './kid'
import { precisionRecall, PRECISION_RECALL_DEFAULTS } from './precision-recall'

export interface QualityReportOptions {
  net: FeatureNet
  /** Generated images (a seeded random n of them are used, as from the other two sets). */
  generated: ImageArray
  /** The data set's test split (or any held-out real images). */
  reference: ImageArray
  /** The data set's training split. */
  train: ImageArray
  /** Images drawn from each set (each needs at least n). */
  n: number
  seed?: number
  /** KID subsets (the seed is derived from `seed`). */
  kid?: Omit<KidOptions, 'seed'>
  /** Neighbour for precision/recall radii (default 3). */
  k?: number
  /** Images per forward pass. */
  batchSize?: number
  onProgress?: (p: { fraction: number; stage: QualityStage }) => void
  /** Checked between stages. */
  signal?: AbortSignal
}

export type QualityStage = 'features' | 'fd' | 'kid' | 'precision-recall' | 'done'

export interface QualityReport {
  n: number
  featureDim: number
  fd: number
  fdFloor: number
  fdCeiling: number
  kid: KidResult
  precision: number
  recall: number
  k: number
  /** The same metrics for N training images in place of the generated ones. */
  realData: { kid: KidResult; precision: number; recall: number }
  /** Generated images per predicted class. */
  classHistogram: number[]
  /** Entropy of classHistogram / n, in nats. */
  classEntropy: number
  /** ln(classes): the entropy of an even spread over the classes. */
  classEntropyMax: number
  /** Mean over generated images of the largest class probability. */
  meanConfidence: number
  /** How the ceiling's noise images were made. */
  noise: { mean: number; std: number; range: 'centered'; description: string }
}

export async function qualityReport(opts: QualityReportOptions): Promise<QualityReport> {
  const { net, n } = opts
  if (!(Number.isInteger(n) && n >= 2)) throw new Error(`qualityReport: n must be an integer ≥ 2, got ${n}`)
  const rng = new Rng(opts.seed ?? 0)
  const draw = (images: ImageArray, label: string): ImageArray => {
    const count = imageCount(images, `qualityReport ${label}`)
    if (count < n) throw new Error(`qualityReport: ${n} ${label} images needed, got ${count}`)
    return pickImages(images, sampleWithoutReplacement(count, n, rng))
  }
  const generated = draw(opts.generated, 'generated')
  const reference = draw(opts.reference, 'reference')
  const train = draw(opts.train, 'train')
  const noise = noiseLike(reference, rng)
  const step = async (fraction: number, stage: QualityStage) => {
    opts.onProgress?.({ fraction, stage })
    await new Promise((resolve) => setTimeout(resolve, 0))
    opts.signal?.throwIfAborted()
  }

  await step(0, 'features')
  const embedOpts = { batchSize: opts.batchSize }
  const gen = await embed(net, generated, embedOpts)
  await step(0.15, 'features')
  const ref = (await embed(net, reference, embedOpts)).features
  await step(0.3, 'features')
  const real = (await embed(net, train, embedOpts)).features
  await step(0.45, 'features')
  const noiseFeatures = (await embed(net, noise.images, embedOpts)).features
  await step(0.6, 'fd')
  const d = net.featureDim
  const refStats = gaussianStats(ref, d)
  const fd = frechetDistance(gaussianStats(gen.features, d), refStats)
  const fdFloor = frechetDistance(gaussianStats(real, d), refStats)
  const fdCeiling = frechetDistance(gaussianStats(noiseFeatures, d), refStats)
  await step(0.7, 'kid')
  const kidOpts = { ...opts.kid, seed: rng.nextSeed() }
  const kid = await kernelInceptionDistance(gen.features, ref, d, kidOpts)
  const realKid = await kernelInceptionDistance(real, ref, d, kidOpts)
  await step(0.85, 'precision-recall')
  const k = opts.k ?? PRECISION_RECALL_DEFAULTS.k
  const pr = await precisionRecall(ref, gen.features, d, { k })
  const realPr = await precisionRecall(ref, real, d, { k })
  const classes = net.config.classes
  const { histogram, entropy, entropyMax, meanConfidence } = classStats(gen.probs, classes)
  await step(1, 'done')
  return {
    n,
    featureDim: d,
    fd,
    fdFloor,
    fdCeiling,
    kid,
    precision: pr.precision,
    recall: pr.recall,
    k,
    realData: { kid: realKid, precision: realPr.precision, recall: realPr.recall },
    classHistogram: histogram,
    classEntropy: entropy,
    classEntropyMax: entropyMax,
    meanConfidence,
    noise: { mean: noise.mean, std: noise.std, range: 'centered', description: noise.description }
  }
}

/** Histogram of predicted classes, its entropy (nats; at most entropyMax = ln classes) and the mean top probability. */
export function classStats(probs: Float32Array, classes: number): { histogram: number[]; entropy: number; entropyMax: number; meanConfidence: number } {
  const n = probs.length / classes
  const histogram = new Array<number>(classes).fill(0)
  let confidence = 0
  const predicted = argmaxRows(probs, classes)
  for (let i = 0; i < n; i++) {
    histogram[predicted[i]]++
    confidence += probs[i * classes + predicted[i]]
  }
  let entropy = 0
  for (const c of histogram) if (c > 0) entropy -= (c / n) * Math.log(c / n)
  return { histogram, entropy, entropyMax: Math.log(classes), meanConfidence: n > 0 ? confidence / n : NaN }
}

/**
 * As many noise images as `like` holds: i.i.d. N(mean, std²) per value, mean and std those of
 * `like`'s pixels on the [−1, 1] scale, clipped to [−1, 1].
 */
export function noiseLike(like: ImageArray, rng: Rng): { images: ImageArray; mean: number; std: number; description: string } {
  const n = imageCount(like, 'noiseLike')
  const scaled = toNetInput(like, 0, n)
  let sum = 0
  let sumSq = 0
  for (const v of scaled) {
    sum += v
    sumSq += v * v
  }
  const mean = sum / scaled.length
  const std = Math.sqrt(Math.max(sumSq / scaled.length - mean * mean, 0))
  const data = new Float32Array(scaled.length)
  for (let i = 0; i < data.length; i++) data[i] = Math.min(Math.max(mean + std * rng.normal(), -1), 1)
  const description = `i.i.d. Gaussian pixels, mean ${mean.toFixed(3)} and std ${std.toFixed(3)} on the [−1, 1] scale (the test images' own), clipped to [−1, 1]`
  return { images: { data, shape: [...like.shape], range: 'centered' }, mean, std, description }
}
