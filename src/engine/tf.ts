// The one place the engine imports TensorFlow.js from, so every module shares the
// same tfjs-core instance (and therefore the same registered backends and kernels).
import * as tf from '@tensorflow/tfjs-core'
import '@tensorflow/tfjs-backend-cpu'

export { tf }
export type Tensor = tf.Tensor
export type Rank = tf.Rank
