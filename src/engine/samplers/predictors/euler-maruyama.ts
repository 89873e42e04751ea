// Euler–Maruyama on the reverse SDE: x ← x − (f − g²s)·dt + g·√dt·z, walking back in time.
// dt is the grid spacing (T − ε)/(n − 1), as the tutorial's sampler (score_sde uses 1/N).
import { tf } from '../../tf'
import { perSample } from '../../sde/base'
import { Predictor, type Update } from './base'

export class EulerMaruyamaPredictor extends Predictor {
  update(x: tf.Tensor, t: tf.Tensor1D, dt: number): Update {
    const { drift, diffusion } = this.rsde.sde(x, t)
    const xMean = tf.sub(x, tf.mul(drift, dt))
    const z = this.ctx.noise.normal(x.shape)
    return { x: tf.add(xMean, tf.mul(z, perSample(tf.mul(diffusion, Math.sqrt(dt)) as tf.Tensor1D, x))), xMean }
  }
}
