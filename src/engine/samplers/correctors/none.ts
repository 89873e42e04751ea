// Null corrector: predictor-only sampling is PC with this.
import type { tf } from '../../tf'
import { Corrector } from './base'
import type { Update } from '../predictors/base'

export class NoneCorrector extends Corrector {
  override get nfe(): number {
    return 0
  }

  update(x: tf.Tensor): Update {
    return { x, xMean: x }
  }
}
