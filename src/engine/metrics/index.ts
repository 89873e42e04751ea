// Sample-quality metrics as plain functions (no tensors): sliced Wasserstein-2, log-likelihood
// under a known or kernel-estimated density, and the two together for 2-D toy sets.
export { slicedWasserstein2, randomDirections, w2SquaredSorted, SLICED_WASSERSTEIN_DEFAULTS, type SlicedWassersteinOptions } from './sliced-wasserstein'
export { meanLogLikelihood, kdeLogDensity, scottBandwidth, type KdeOptions } from './log-likelihood'
export { toySampleMetrics, shareNearModes, freshTrueSamples, NEAR_MODE_STDS, type ToySampleMetrics, type ToyMetricOptions, type DensitySource } from './toy'
