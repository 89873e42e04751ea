// Sample quality of image runs: the data set's feature classifier (trained by a 'classifier'
// job) embeds N test images once; each set of generated images is then read as its Fréchet
// distance to them (with KID and improved precision/recall), beside N training images (the
// floor) and N noise images (the ceiling) measured the same way.
import fs from 'node:fs'
import { decodeFeatureNet } from '../../engine/metrics/feature-net-io'
import { embed, type FeatureNet } from '../../engine/metrics/feature-net'
import { frechetToReference, gaussianStats } from '../../engine/metrics/frechet'
import { kernelInceptionDistance } from '../../engine/metrics/kid'
import { precisionRecall } from '../../engine/metrics/precision-recall'
import { classStats, noiseLike } from '../../engine/metrics/quality'
import { pickImages, type ImageArray } from '../../engine/metrics/image-array'
import { sampleWithoutReplacement } from '../../engine/metrics/kid'
import { Rng } from '../../engine/rng'
import type { TrainConfig } from '../../shared/contract'
import { DatasetStore } from '../datasets/store'
import { classifierPath, fidWeightsHelp, fidWeightsPath } from '../classifiers'
import { FidInception } from '../../engine/metrics/inception-fid'
import type { QualityMeasure } from './quality-types'

export async function imageMeasure(config: TrainConfig, shape: number[], dataDir: string, n: number, seed: number, onProgress: (fraction: number) => void, withFid = false): Promise<QualityMeasure> {
  const file = classifierPath(dataDir, config.dataset)
  if (!fs.existsSync(file)) {
    throw new Error(`Quality numbers of ${config.dataset} samples need its feature classifier, and there is none yet: train it once (Compare → Train the classifier, or score-lab train-classifier --dataset ${config.dataset}); it is kept in ${file}.`)
  }
  let net: FeatureNet
  try {
    net = decodeFeatureNet(new Uint8Array(fs.readFileSync(file)), file).net
  } catch (err) {
    // A torn or foreign file: say which, and how to replace it (training writes it atomically).
    throw new Error(`The ${config.dataset} feature classifier cannot be read (${(err as Error).message}). Train it again to replace it: Compare → Train the classifier, or score-lab train-classifier --dataset ${config.dataset}.`)
  }
  const store = new DatasetStore(dataDir)
  const [test, train] = [await store.load(config.dataset, 'test'), await store.load(config.dataset, 'train')]
  if (test.count < n) throw new Error(`N = ${n} is more than the ${test.count} test images of ${config.dataset}; choose N ≤ ${test.count}.`)
  const rng = new Rng(0x9a11 * 1000 + seed)
  const asImages = (s: typeof test): ImageArray => ({ data: s.images, shape: [s.count, s.height, s.width, s.channels] })
  const reference = pickImages(asImages(test), sampleWithoutReplacement(test.count, n, rng))
  const real = pickImages(asImages(train), sampleWithoutReplacement(train.count, n, rng))
  const d = net.featureDim
  // With FID, its Inception features (the slow part) take the second half of the progress.
  const share = withFid ? 0.5 : 1
  const ref = (await embed(net, reference)).features
  onProgress(0.4 * share)
  const fdOf = frechetToReference(gaussianStats(ref, d))
  const classes = net.config.classes
  const realEmbedding = await embed(net, real)
  const floor = fdOf(realEmbedding.features)
  const realClasses = classStats(realEmbedding.probs, classes)
  onProgress(0.8 * share)
  const ceiling = fdOf((await embed(net, noiseLike(reference, rng).images)).features)
  onProgress(share)
  let fid: FidMeasure | null = null
  try {
    fid = withFid ? await fidMeasure(dataDir, reference, real, (f) => onProgress(0.5 + 0.5 * f)) : null
  } catch (err) {
    net.dispose()
    throw err
  }
  const [h, w, c] = shape as [number, number, number]
  const range = config.centered ? 'centered' : 'unit'
  return {
    metric: 'fd',
    label: `Fréchet distance of ${config.dataset} classifier features to ${n.toLocaleString('en-US')} test images`,
    floor,
    ceiling,
    realClasses,
    ...(fid ? { fidFloor: fid.floor } : {}),
    async measure(samples) {
      const count = samples.length / (h * w * c)
      // A diverged sampler's NaNs would poison every statistic: say so instead of a number.
      if (!samples.every(Number.isFinite)) return { value: null, kid: null, precision: null, recall: null, classes: null, ...(fid ? { fid: null } : {}) }
      const embedding = await embed(net, { data: samples, shape: [count, h, w, c], range })
      const gen = embedding.features
      const kid = await kernelInceptionDistance(gen, ref, d, { seed })
      const pr = await precisionRecall(ref, gen, d)
      const images: ImageArray = { data: samples, shape: [count, h, w, c], range }
      return { value: fdOf(gen), kid: { mean: kid.mean, std: kid.std }, precision: pr.precision, recall: pr.recall, classes: classStats(embedding.probs, classes), ...(fid ? { fid: await fid.of(images) } : {}) }
    },
    dispose: () => {
      net.dispose()
      fid?.dispose()
    }
  }
}

interface FidMeasure {
  floor: number
  of(images: ImageArray): Promise<number>
  dispose(): void
}

/**
 * FID as pytorch-fid computes it (Inception-v3 pool3 of 299×299 bilinear resizes) to the same N
 * test images, through the weights the user put in the data folder; its floor is N training
 * images. The lab refuses a request for FID without the file; here a damaged one is named.
 */
async function fidMeasure(dataDir: string, reference: ImageArray, real: ImageArray, onProgress: (fraction: number) => void): Promise<FidMeasure> {
  const file = fidWeightsPath(dataDir)
  let inception: FidInception
  try {
    inception = FidInception.fromSafetensors(new Uint8Array(fs.readFileSync(file)), file)
  } catch (err) {
    throw new Error(`FID needs the Inception weights, and they cannot be read (${(err as Error).message}). To supply them, ${fidWeightsHelp(dataDir)}.`)
  }
  const d = inception.featureDim
  try {
    const fidOf = frechetToReference(gaussianStats(await inception.features(reference, { onProgress: (f) => onProgress(0.5 * f) }), d))
    const floor = fidOf(await inception.features(real, { onProgress: (f) => onProgress(0.5 + 0.5 * f) }))
    return {
      floor,
      of: async (images) => fidOf(await inception.features(images)),
      dispose: () => inception.dispose()
    }
  } catch (err) {
    inception.dispose()
    throw err
  }
}
