// score_sde's LangevinCorrector. The step follows the signal-to-noise rule
//   ε = 2α·(snr·‖z‖/‖∇log p‖)²   (norms: batch means of per-sample L2 norms),
// so one scalar step is shared by the batch. α = sde.langevinAlpha(t): 1 − β_i for the VP
// family as score_sde's code has it (the paper's Algorithm 4 says ∏ α; see score_sde #73), 1 for VE.
import { tf } from '../../tf'
import { Corrector, langevinSteps, meanNorm } from './base'
import type { Update } from '../predictors/base'

export class LangevinCorrector extends Corrector {
  update(x: tf.Tensor, t: tf.Tensor1D): Update {
    const alpha = this.ctx.sde.langevinAlpha(t)
    return langevinSteps(this.ctx, x, t, (grad, z) => {
      const ratio = tf.div(tf.mul(meanNorm(z), this.ctx.snr), meanNorm(grad))
      return tf.mul(tf.mul(tf.square(ratio), 2), alpha) as tf.Tensor1D
    })
  }
}
