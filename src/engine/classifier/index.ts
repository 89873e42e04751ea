// The noise-conditional classifier p_t(y | x(t)) for classifier guidance: the net, its training
// and evaluation by time, and its file format. Guided sampling itself is
// samplers/controllable/conditional.ts (conditionalScore / sampleConditional).
export { NoiseClassifier, resolveNoiseClassifierConfig, noiseClassifierSpecs, NOISE_CLASSIFIER_DEFAULTS, DATA_SCALE, type NoiseClassifierConfig, type NoiseClassifierOptions } from './noise-classifier'
export { trainNoiseClassifier, accuracyByTime, TRAIN_NOISE_CLASSIFIER_DEFAULTS, type TrainNoiseClassifierOptions, type NoiseClassifierTraining, type NoiseClassifierProgress, type AccuracyByTimeOptions } from './train-noise-classifier'
export { encodeNoiseClassifier, decodeNoiseClassifier, NOISE_CLASSIFIER_FORMAT, NOISE_CLASSIFIER_VERSION, type NoiseClassifierMeta } from './noise-classifier-io'
