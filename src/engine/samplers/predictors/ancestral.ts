// Ancestral sampling (DDPM / SMLD ancestral steps). The exact step belongs to the SDE
// (`Sde.ancestralStep`), so this file never branches on the SDE's type.
import { tf } from '../../tf'
import { perSample } from '../../sde/base'
import { Predictor, type PredictorContext, type Update } from './base'

export class AncestralSamplingPredictor extends Predictor {
  constructor(ctx: PredictorContext) {
    super(ctx)
    if (!ctx.sde.ancestralStep) throw new Error(`ancestral_sampling needs an SDE with an ancestral step (vesde, vesde_tutorial, vpsde); "${ctx.sde.name}" has none`)
    if (ctx.probabilityFlow) throw new Error('ancestral_sampling has no probability-flow form')
  }

  update(x: tf.Tensor, t: tf.Tensor1D): Update {
    const score = this.ctx.scoreFn(x, t)
    const { mean, std } = this.ctx.sde.ancestralStep!(x, score, t)
    const z = this.ctx.noise.normal(x.shape)
    return { x: tf.add(mean, tf.mul(z, perSample(std, x))), xMean: mean }
  }
}
