// Shared logic for every SDE, written once (score_sde's abstract SDE): Gaussian-kernel
// marginals from m(t)/std(t), Euler–Maruyama discretisation, Gaussian prior, and the
// generic reverse SDE / probability-flow ODE. Subclasses give drift, diffusion and the
// kernel coefficients; only SDEs with an exact step (SMLD, DDPM) override `discretize`.
import { tf } from '../tf'
import type { ReverseSde, ScoreFn, Sde, SdeName } from './types'

/** Reshapes a per-sample [B] tensor so it broadcasts against x ([B,...]). */
export function perSample(v: tf.Tensor1D, x: tf.Tensor): tf.Tensor {
  if (x.rank <= 1) return v
  return tf.reshape(v, [v.shape[0], ...new Array<number>(x.rank - 1).fill(1)])
}

/** Number of elements per sample (C·H·W for images, D for points). */
export function sampleSize(x: tf.Tensor | number[]): number {
  const shape = Array.isArray(x) ? x : x.shape
  return shape.slice(1).reduce((a, b) => a * b, 1)
}

/** Index i = ⌊t(N−1)/T⌋ into the discrete schedules, as score_sde's `(t*(N-1)/T).long()`. */
export function timestepIndex(t: tf.Tensor1D, N: number, T: number): tf.Tensor1D {
  return tf.tidy(() => tf.cast(tf.clipByValue(tf.floor(tf.mul(t, (N - 1) / T)), 0, N - 1), 'int32') as tf.Tensor1D)
}

export abstract class BaseSde implements Sde {
  abstract readonly name: SdeName
  readonly T: number = 1
  abstract readonly N: number
  abstract readonly defaultEps: number
  /** Std of the zero-mean Gaussian prior p_T. */
  abstract readonly priorStd: number

  abstract sde(x: tf.Tensor, t: tf.Tensor1D): { drift: tf.Tensor; diffusion: tf.Tensor1D }
  abstract marginalCoeffs(t: tf.Tensor1D): { meanCoeff: tf.Tensor1D; std: tf.Tensor1D }
  abstract marginalStdAt(t: number): number
  abstract marginalMeanCoeffAt(t: number): number
  abstract diffusionAt(t: number): number
  abstract toConfig(): { name: SdeName } & Record<string, number | string>

  marginalProb(x0: tf.Tensor, t: tf.Tensor1D): { mean: tf.Tensor; std: tf.Tensor1D } {
    return tf.tidy(() => {
      const { meanCoeff, std } = this.marginalCoeffs(t)
      return { mean: tf.mul(x0, perSample(meanCoeff, x0)), std }
    })
  }

  priorSampling(shape: number[], seed: number): tf.Tensor {
    return tf.randomNormal(shape, 0, this.priorStd, 'float32', seed)
  }

  priorLogp(z: tf.Tensor): tf.Tensor1D {
    return tf.tidy(() => {
      const n = sampleSize(z)
      const s2 = this.priorStd * this.priorStd
      const sq = tf.sum(tf.square(tf.reshape(z, [z.shape[0], n])), 1)
      return tf.sub(tf.div(sq, -2 * s2), (n / 2) * Math.log(2 * Math.PI * s2)) as tf.Tensor1D
    })
  }

  /** Euler–Maruyama: f = f(x,t)·Δt, G = g(t)·√Δt with Δt = T/N. */
  discretize(x: tf.Tensor, t: tf.Tensor1D): { f: tf.Tensor; G: tf.Tensor1D } {
    return tf.tidy(() => {
      const dt = this.T / this.N
      const { drift, diffusion } = this.sde(x, t)
      return { f: tf.mul(drift, dt), G: tf.mul(diffusion, Math.sqrt(dt)) as tf.Tensor1D }
    })
  }

  langevinAlpha(t: tf.Tensor1D): tf.Tensor1D {
    return tf.onesLike(t)
  }

  reverse(scoreFn: ScoreFn, probabilityFlow = false): ReverseSde {
    const fwd = this
    const k = probabilityFlow ? 0.5 : 1
    return {
      T: fwd.T,
      N: fwd.N,
      probabilityFlow,
      sde(x, t) {
        return tf.tidy(() => {
          const { drift, diffusion } = fwd.sde(x, t)
          const score = scoreFn(x, t)
          const g2 = perSample(tf.square(diffusion), x)
          return {
            drift: tf.sub(drift, tf.mul(tf.mul(score, g2), k)),
            diffusion: (probabilityFlow ? tf.zerosLike(diffusion) : diffusion) as tf.Tensor1D
          }
        })
      },
      discretize(x, t) {
        return tf.tidy(() => {
          const { f, G } = fwd.discretize(x, t)
          const score = scoreFn(x, t)
          const G2 = perSample(tf.square(G), x)
          return {
            f: tf.sub(f, tf.mul(tf.mul(score, G2), k)),
            G: (probabilityFlow ? tf.zerosLike(G) : G) as tf.Tensor1D
          }
        })
      }
    }
  }
}
