// The one place the engine imports TensorFlow.js from, so every module shares the
// same tfjs-core instance (and therefore the same registered backends and kernels).
import * as tf from '@tensorflow/tfjs-core'
import '@tensorflow/tfjs-backend-cpu'
// Gradients: tfjs-core's own registration file is extensionless ESM that plain Node cannot
// load (it only works through a bundler), so they come from the union package's Node bundle.
import '@tensorflow/tfjs'

// PROD silences tfjs's console advice (e.g. "install tfjs-node"): the lab itself reports the
// backend in use and why the others were skipped, with the fix (score-lab doctor).
tf.env().set('PROD', true)

export { tf }
