// The PyTorch tutorial's VE SDE dx = σ^t dw (σ = 25): g(t) = σ^t,
// std(t) = √((σ^{2t} − 1)/(2 ln σ)) exactly (std(0) = 0), std(1) = 9.8452.
import { tf } from '../tf'
import { BaseSde, perSample } from './base'

export interface VeTutorialSdeParams {
  sigma: number
  N: number
}

/** N = 500: the tutorial's samplers take 500 steps. */
export const VE_TUTORIAL_DEFAULTS: VeTutorialSdeParams = { sigma: 25, N: 500 }

export class VeTutorialSde extends BaseSde {
  readonly name = 'vesde_tutorial'
  readonly N: number
  /** The tutorial samples to eps = 1e-3. */
  readonly defaultEps = 1e-3
  readonly sigma: number
  readonly priorStd: number
  private readonly logSigma: number

  constructor(p: Partial<VeTutorialSdeParams> = {}) {
    super()
    const { sigma, N } = { ...VE_TUTORIAL_DEFAULTS, ...p }
    if (!(sigma > 1)) throw new Error(`vesde_tutorial needs sigma > 1, got ${sigma}`)
    if (!(Number.isInteger(N) && N >= 2)) throw new Error(`vesde_tutorial needs an integer N >= 2, got ${N}`)
    this.sigma = sigma
    this.N = N
    this.logSigma = Math.log(sigma)
    this.priorStd = this.marginalStdAt(1)
  }

  /** std(t) through expm1, which keeps full precision at t = 1e-5 (σ^{2t} − 1 ≈ 6e-5). */
  private std(t: tf.Tensor1D): tf.Tensor1D {
    return tf.sqrt(tf.div(tf.expm1(tf.mul(t, 2 * this.logSigma)), 2 * this.logSigma)) as tf.Tensor1D
  }

  sde(x: tf.Tensor, t: tf.Tensor1D) {
    return tf.tidy(() => ({ drift: tf.zerosLike(x), diffusion: tf.exp(tf.mul(t, this.logSigma)) as tf.Tensor1D }))
  }

  marginalCoeffs(t: tf.Tensor1D) {
    return tf.tidy(() => ({ meanCoeff: tf.onesLike(t), std: this.std(t) }))
  }

  marginalStdAt(t: number): number {
    return Math.sqrt(Math.expm1(2 * t * this.logSigma) / (2 * this.logSigma))
  }

  marginalMeanCoeffAt(): number {
    return 1
  }

  diffusionAt(t: number): number {
    return Math.pow(this.sigma, t)
  }

  /** m = 1, so σ² = (σ₀^{2t} − 1)/(2 ln σ₀): t = ln(1 + 2σ² ln σ₀)/(2 ln σ₀). */
  timeAtEdmSigma(sigma: number): number {
    return Math.log1p(2 * sigma * sigma * this.logSigma) / (2 * this.logSigma)
  }

  /** std(t) and std(t − T/N) (clamped at 0): the exact variance added over one step. */
  private adjacentStds(t: tf.Tensor1D): { sigma: tf.Tensor1D; prev: tf.Tensor1D } {
    return tf.tidy(() => ({ sigma: this.std(t), prev: this.std(tf.relu(tf.sub(t, this.T / this.N)) as tf.Tensor1D) }))
  }

  /** Exact VE step (SMLD-like on the continuous schedule): f = 0, G² = std(t)² − std(t − Δ)². */
  override discretize(x: tf.Tensor, t: tf.Tensor1D) {
    return tf.tidy(() => {
      const { sigma, prev } = this.adjacentStds(t)
      return { f: tf.zerosLike(x), G: tf.sqrt(tf.relu(tf.sub(tf.square(sigma), tf.square(prev)))) as tf.Tensor1D }
    })
  }

  ancestralStep(x: tf.Tensor, score: tf.Tensor, t: tf.Tensor1D) {
    return tf.tidy(() => {
      const { sigma, prev } = this.adjacentStds(t)
      const d = tf.relu(tf.sub(tf.square(sigma), tf.square(prev))) as tf.Tensor1D
      return {
        mean: tf.add(x, tf.mul(score, perSample(d, x))),
        std: tf.sqrt(tf.div(tf.mul(tf.square(prev), d), tf.square(sigma))) as tf.Tensor1D
      }
    })
  }

  toConfig() {
    return { name: this.name, sigma: this.sigma, N: this.N }
  }
}
