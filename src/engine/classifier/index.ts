// The noise-conditional classifier p_t(y | x(t)) for classifier guidance: the net, its training
// and evaluation by time, its file format and its resumable training state. Guided sampling
// itself is samplers/controllable/conditional.ts (conditionalScore / sampleConditional).
export { NoiseClassifier, resolveNoiseClassifierConfig, noiseClassifierSpecs, NOISE_CLASSIFIER_DEFAULTS, DATA_SCALE, type NoiseClassifierConfig, type NoiseClassifierOptions } from './noise-classifier'
export { trainNoiseClassifier, accuracyByTime, TRAIN_NOISE_CLASSIFIER_DEFAULTS, NOISE_CLASSIFIER_LOG_EVERY, type TrainNoiseClassifierOptions, type NoiseClassifierTraining, type NoiseClassifierProgress, type NoiseClassifierLogPoint, type AccuracyByTimeOptions } from './train-noise-classifier'
export { encodeNoiseClassifierState, decodeNoiseClassifierState, stateMismatch, NOISE_CLASSIFIER_STATE_FORMAT, NOISE_CLASSIFIER_STATE_VERSION, type NoiseClassifierTrainingState, type NoiseClassifierTrainingSettings, type NoiseClassifierLogWindow } from './noise-classifier-state'
export { encodeNoiseClassifier, decodeNoiseClassifier, noiseClassifierConfig, NOISE_CLASSIFIER_FORMAT, NOISE_CLASSIFIER_VERSION, type NoiseClassifierMeta } from './noise-classifier-io'
