// Null predictor: "corrector-only" sampling is PC with this, no special case in the loop.
import type { tf } from '../../tf'
import { Predictor, type Update } from './base'

export class NonePredictor extends Predictor {
  override readonly nfe: number = 0

  update(x: tf.Tensor): Update {
    return { x, xMean: x }
  }
}
