// Sample-quality metrics as plain functions (no tensors): sliced Wasserstein-2, log-likelihood
// under a known or kernel-estimated density, and the two together for 2-D toy sets.
export { slicedWasserstein2, randomDirections, w2SquaredSorted, SLICED_WASSERSTEIN_DEFAULTS, type SlicedWassersteinOptions } from './sliced-wasserstein'
export { meanLogLikelihood, kdeLogDensity, scottBandwidth, type KdeOptions } from './log-likelihood'
export { toySampleMetrics, shareNearModes, freshTrueSamples, finiteRows, NEAR_MODE_STDS, type ToySampleMetrics, type ToyMetricOptions, type DensitySource } from './toy'
export { FeatureNet, trainFeatureNet, embed, features, predictProbs, accuracy, FEATURE_NET_DEFAULTS, TRAIN_FEATURE_NET_DEFAULTS, type FeatureNetConfig, type TrainFeatureNetOptions, type FeatureNetTraining, type FeatureNetProgress, type EmbedOptions, type Embedding } from './feature-net'
export { encodeFeatureNet, decodeFeatureNet, FEATURE_NET_FORMAT, FEATURE_NET_VERSION, type FeatureNetMeta } from './feature-net-io'
export { imageCount, pickImages, toNetInput, type ImageArray, type PixelRange } from './image-array'
export { gaussianStats, frechetDistance, frechetDistanceOf, frechetToReference, type GaussianStats } from './frechet'
export { kernelInceptionDistance, defaultKidSubsetSize, KID_DEFAULTS, type KidOptions, type KidResult } from './kid'
export { precisionRecall, knnRadii, PRECISION_RECALL_DEFAULTS, type PrecisionRecall, type PrecisionRecallOptions } from './precision-recall'
export { qualityReport, classStats, noiseLike, type QualityReport, type QualityReportOptions, type QualityStage } from './quality'
