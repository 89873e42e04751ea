// tf.variable(t) shares t's data but leaves t itself tracked: built from a temporary, every
// variable would leave one tensor behind (~30 per model, Adam and EMA each as many again).
import { tf } from '../tf'

/** A variable that takes over `initial` (disposed here; do not use it afterwards). */
export function variableFrom(initial: tf.Tensor, trainable: boolean, name?: string): tf.Variable {
  const v = tf.variable(initial, trainable, name)
  initial.dispose()
  return v
}
