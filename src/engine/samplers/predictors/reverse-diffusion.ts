// Reverse diffusion (score_sde): the forward discretisation x_{i+1} = x_i + f_i + G_i z run
// backwards, x ← x − f_i + G_i²s + G_i z. The score term sits inside rsde.discretize (score_sde #67).
import { tf } from '../../tf'
import { perSample } from '../../sde/base'
import { Predictor, type Update } from './base'

export class ReverseDiffusionPredictor extends Predictor {
  update(x: tf.Tensor, t: tf.Tensor1D): Update {
    const { f, G } = this.rsde.discretize(x, t)
    const xMean = tf.sub(x, f)
    const z = this.ctx.noise.normal(x.shape)
    return { x: tf.add(xMean, tf.mul(z, perSample(G, x))), xMean }
  }
}
