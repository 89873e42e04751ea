// score_sde's AnnealedLangevinDynamics corrector: NCSN's step written with the marginal std,
// ε = 2α·(snr·σ_t)². NCSN's step_lr ε₀ at σ_L corresponds to snr = √(ε₀/(2σ_L²)).
import { tf } from '../../tf'
import { Corrector, langevinSteps } from './base'
import type { Update } from '../predictors/base'

export class AnnealedLangevinCorrector extends Corrector {
  update(x: tf.Tensor, t: tf.Tensor1D): Update {
    const alpha = this.ctx.sde.langevinAlpha(t)
    const { std } = this.ctx.sde.marginalCoeffs(t)
    const step = tf.mul(tf.mul(tf.square(tf.mul(std, this.ctx.snr)), 2), alpha) as tf.Tensor1D
    return langevinSteps(this.ctx, x, t, () => step)
  }
}
