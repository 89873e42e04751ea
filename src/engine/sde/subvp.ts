// score_sde's sub-VP SDE: same drift as VP, g(t) = √(β(t)(1 − e^{−2β_min t − (β_max−β_min)t²})),
// kernel N(e^c x0, (1 − e^{2c})² I): the std is 1 − e^{2c} (not its square root).
import { tf } from '../tf'
import { BaseSde, perSample, timestepIndex } from './base'
import { checkVpParams, ddpmBetas, VP_DEFAULTS, vpBeta, vpLogMeanCoeff, vpLogMeanCoeffAt, vpTimeForLogMeanCoeff, type VpSdeParams } from './vp'

export class SubVpSde extends BaseSde {
  readonly name = 'subvpsde'
  readonly N: number
  readonly defaultEps = 1e-3
  readonly priorStd = 1
  readonly betaMin: number
  readonly betaMax: number
  private readonly discreteBetas: Float32Array

  constructor(p: Partial<VpSdeParams> = {}) {
    super()
    const full = { ...VP_DEFAULTS, ...p }
    checkVpParams('subvpsde', full)
    this.betaMin = full.betaMin
    this.betaMax = full.betaMax
    this.N = full.N
    this.discreteBetas = ddpmBetas(full)
  }

  private get params(): VpSdeParams {
    return { betaMin: this.betaMin, betaMax: this.betaMax, N: this.N }
  }

  sde(x: tf.Tensor, t: tf.Tensor1D) {
    return tf.tidy(() => {
      const beta = vpBeta(t, this.params)
      // 1 − e^{−2β_min t − (β_max−β_min)t²} = −expm1(4c).
      const discount = tf.neg(tf.expm1(tf.mul(vpLogMeanCoeff(t, this.params), 4)))
      return { drift: tf.mul(tf.mul(x, perSample(beta, x)), -0.5), diffusion: tf.sqrt(tf.mul(beta, discount)) as tf.Tensor1D }
    })
  }

  marginalCoeffs(t: tf.Tensor1D) {
    return tf.tidy(() => {
      const c = vpLogMeanCoeff(t, this.params)
      return { meanCoeff: tf.exp(c) as tf.Tensor1D, std: tf.neg(tf.expm1(tf.mul(c, 2))) as tf.Tensor1D }
    })
  }

  marginalStdAt(t: number): number {
    return -Math.expm1(2 * vpLogMeanCoeffAt(t, this.params))
  }

  marginalMeanCoeffAt(t: number): number {
    return Math.exp(vpLogMeanCoeffAt(t, this.params))
  }

  diffusionAt(t: number): number {
    const beta = this.betaMin + t * (this.betaMax - this.betaMin)
    return Math.sqrt(beta * -Math.expm1(4 * vpLogMeanCoeffAt(t, this.params)))
  }

  /** σ = std/m = (1 − e^{2c})/e^{c} = 2·sinh(−c), so c = −asinh(σ/2), a quadratic in t. */
  timeAtEdmSigma(sigma: number): number {
    return vpTimeForLogMeanCoeff(-Math.asinh(sigma / 2), this.params)
  }

  /**
   * score_sde only defines α_i for VPSDE (its Langevin corrector would fail on subVP);
   * we use the same DDPM α_i = 1 − β_i, the natural extension, so a corrector can run here.
   */
  override langevinAlpha(t: tf.Tensor1D): tf.Tensor1D {
    return tf.tidy(() => tf.sub(1, tf.gather(tf.tensor1d(this.discreteBetas), timestepIndex(t, this.N, this.T))) as tf.Tensor1D)
  }

  toConfig() {
    return { name: this.name, betaMin: this.betaMin, betaMax: this.betaMax, N: this.N }
  }
}
