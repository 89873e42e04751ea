// score_sde's VESDE (SMLD): σ(t) = σ_min (σ_max/σ_min)^t, dx = σ(t)√(2 ln(σ_max/σ_min)) dw.
// Like score_sde, the marginal std is σ(t) (the exact kernel variance is σ(t)² − σ_min²;
// the difference, 1e-4 at σ_min 0.01, is what every score_sde VE model was trained with).
import { tf } from '../tf'
import { BaseSde, perSample, timestepIndex } from './base'

export interface VeSdeParams {
  sigmaMin: number
  sigmaMax: number
  N: number
}

export const VE_DEFAULTS: VeSdeParams = { sigmaMin: 0.01, sigmaMax: 50, N: 1000 }

export class VeSde extends BaseSde {
  readonly name = 'vesde'
  readonly N: number
  readonly defaultEps = 1e-5
  readonly sigmaMin: number
  readonly sigmaMax: number
  readonly priorStd: number
  /** SMLD noise levels exp(linspace(ln σ_min, ln σ_max, N)), ascending. */
  readonly discreteSigmas: Float32Array
  private readonly logRatio: number

  constructor(p: Partial<VeSdeParams> = {}) {
    super()
    const { sigmaMin, sigmaMax, N } = { ...VE_DEFAULTS, ...p }
    if (!(sigmaMin > 0 && sigmaMax > sigmaMin)) throw new Error(`vesde needs 0 < sigmaMin < sigmaMax, got ${sigmaMin}, ${sigmaMax}`)
    if (!(Number.isInteger(N) && N >= 2)) throw new Error(`vesde needs an integer N >= 2, got ${N}`)
    this.sigmaMin = sigmaMin
    this.sigmaMax = sigmaMax
    this.N = N
    this.priorStd = sigmaMax
    this.logRatio = Math.log(sigmaMax / sigmaMin)
    this.discreteSigmas = new Float32Array(N)
    for (let i = 0; i < N; i++) this.discreteSigmas[i] = Math.exp(Math.log(sigmaMin) + (this.logRatio * i) / (N - 1))
  }

  private sigma(t: tf.Tensor1D): tf.Tensor1D {
    return tf.mul(tf.exp(tf.mul(t, this.logRatio)), this.sigmaMin) as tf.Tensor1D
  }

  sde(x: tf.Tensor, t: tf.Tensor1D) {
    return tf.tidy(() => ({
      drift: tf.zerosLike(x),
      diffusion: tf.mul(this.sigma(t), Math.sqrt(2 * this.logRatio)) as tf.Tensor1D
    }))
  }

  marginalCoeffs(t: tf.Tensor1D) {
    return tf.tidy(() => ({ meanCoeff: tf.onesLike(t), std: this.sigma(t) }))
  }

  marginalStdAt(t: number): number {
    return this.sigmaMin * Math.exp(t * this.logRatio)
  }

  marginalMeanCoeffAt(): number {
    return 1
  }

  diffusionAt(t: number): number {
    return this.marginalStdAt(t) * Math.sqrt(2 * this.logRatio)
  }

  /** m = 1, so σ = σ_min(σ_max/σ_min)^t: t = ln(σ/σ_min)/ln(σ_max/σ_min). */
  timeAtEdmSigma(sigma: number): number {
    return Math.log(sigma / this.sigmaMin) / this.logRatio
  }

  /** σ_i and σ_{i−1} (0 at i = 0) for the discrete index of t. */
  private adjacentSigmas(t: tf.Tensor1D): { sigma: tf.Tensor1D; prev: tf.Tensor1D } {
    return tf.tidy(() => {
      const i = timestepIndex(t, this.N, this.T)
      const table = tf.tensor1d(this.discreteSigmas)
      const sigma = tf.gather(table, i) as tf.Tensor1D
      const prevTable = tf.concat([tf.zeros([1]), tf.slice(table, 0, this.N - 1)])
      return { sigma, prev: tf.gather(prevTable, i) as tf.Tensor1D }
    })
  }

  /** SMLD: f = 0, G = √(σ_i² − σ_{i−1}²). */
  override discretize(x: tf.Tensor, t: tf.Tensor1D) {
    return tf.tidy(() => {
      const { sigma, prev } = this.adjacentSigmas(t)
      return { f: tf.zerosLike(x), G: tf.sqrt(tf.sub(tf.square(sigma), tf.square(prev))) as tf.Tensor1D }
    })
  }

  ancestralStep(x: tf.Tensor, score: tf.Tensor, t: tf.Tensor1D) {
    return tf.tidy(() => {
      const { sigma, prev } = this.adjacentSigmas(t)
      const d = tf.sub(tf.square(sigma), tf.square(prev)) as tf.Tensor1D
      return {
        mean: tf.add(x, tf.mul(score, perSample(d, x))),
        std: tf.sqrt(tf.div(tf.mul(tf.square(prev), d), tf.square(sigma))) as tf.Tensor1D
      }
    })
  }

  toConfig() {
    return { name: this.name, sigmaMin: this.sigmaMin, sigmaMax: this.sigmaMax, N: this.N }
  }
}
