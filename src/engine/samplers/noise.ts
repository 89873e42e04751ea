// All randomness of a sampling run from one seed. The first draw is always x_T, so the same
// seed gives bit-identical initial noise to every sampler (side-by-side comparisons); later
// draws (Langevin and predictor noise) follow from the same stream. tf.randomNormal with an
// explicit seed runs in tfjs-core's JS generator, so the numbers do not depend on the backend.
import { Rng } from '../rng'
import { tf } from '../tf'
import type { Sde } from '../sde/types'

export class NoiseSource {
  private readonly rng: Rng
  private readonly initialSeed: number

  constructor(seed = 0) {
    this.rng = new Rng(seed)
    this.initialSeed = this.rng.nextSeed()
  }

  /** x_T ~ p_T for the given full shape [B, ...]. */
  initial(sde: Sde, shape: number[]): tf.Tensor {
    return sde.priorSampling(shape, this.initialSeed)
  }

  /** A fresh standard normal draw. */
  normal(shape: number[]): tf.Tensor {
    return tf.randomNormal(shape, 0, 1, 'float32', this.rng.nextSeed())
  }

  /** A fresh Rademacher (±1) draw. */
  rademacher(shape: number[]): tf.Tensor {
    return tf.tidy(() => tf.sub(tf.mul(tf.cast(tf.greater(tf.randomUniform(shape, 0, 1, 'float32', this.rng.nextSeed()), 0.5), 'float32'), 2), 1))
  }

  /** Uniform [0, 1) (dequantisation). */
  uniform(shape: number[]): tf.Tensor {
    return tf.randomUniform(shape, 0, 1, 'float32', this.rng.nextSeed())
  }
}

/** The initial noise every sampler starts from for this seed. */
export function initialNoise(sde: Sde, shape: number[], seed = 0): tf.Tensor {
  return new NoiseSource(seed).initial(sde, shape)
}
