// score_sde's VPSDE (DDPM in continuous time): β(t) = β_min + t(β_max − β_min),
// dx = −½β(t)x dt + √β(t) dw; kernel N(e^c x0, (1 − e^{2c}) I), c = −¼t²(β_max−β_min) − ½tβ_min.
import { tf } from '../tf'
import { BaseSde, perSample, timestepIndex } from './base'

export interface VpSdeParams {
  betaMin: number
  betaMax: number
  N: number
}

export const VP_DEFAULTS: VpSdeParams = { betaMin: 0.1, betaMax: 20, N: 1000 }

export function checkVpParams(name: string, p: VpSdeParams): void {
  if (!(p.betaMin > 0 && p.betaMax >= p.betaMin)) throw new Error(`${name} needs 0 < betaMin <= betaMax, got ${p.betaMin}, ${p.betaMax}`)
  if (!(Number.isInteger(p.N) && p.N >= 2)) throw new Error(`${name} needs an integer N >= 2, got ${p.N}`)
}

/** DDPM's β_i = linspace(β_min/N, β_max/N, N). */
export function ddpmBetas(p: VpSdeParams): Float32Array {
  const out = new Float32Array(p.N)
  for (let i = 0; i < p.N; i++) out[i] = p.betaMin / p.N + ((p.betaMax - p.betaMin) / p.N) * (i / (p.N - 1))
  return out
}

/** log of the mean coefficient, c(t) (shared by VP and sub-VP). */
export function vpLogMeanCoeff(t: tf.Tensor1D, p: VpSdeParams): tf.Tensor1D {
  return tf.sub(tf.mul(tf.square(t), -0.25 * (p.betaMax - p.betaMin)), tf.mul(t, 0.5 * p.betaMin)) as tf.Tensor1D
}

export function vpLogMeanCoeffAt(t: number, p: VpSdeParams): number {
  return -0.25 * t * t * (p.betaMax - p.betaMin) - 0.5 * t * p.betaMin
}

/**
 * The t ≥ 0 with c(t) = c (c ≤ 0): the root of ¼Δβ·t² + ½β_min·t + c = 0, written without
 * cancellation (and valid for Δβ = 0).
 */
export function vpTimeForLogMeanCoeff(c: number, p: VpSdeParams): number {
  const k = -c
  return (4 * k) / (p.betaMin + Math.sqrt(p.betaMin * p.betaMin + 4 * (p.betaMax - p.betaMin) * k))
}

export function vpBeta(t: tf.Tensor1D, p: VpSdeParams): tf.Tensor1D {
  return tf.add(tf.mul(t, p.betaMax - p.betaMin), p.betaMin) as tf.Tensor1D
}

export class VpSde extends BaseSde {
  readonly name = 'vpsde'
  readonly N: number
  readonly defaultEps = 1e-3
  readonly priorStd = 1
  readonly betaMin: number
  readonly betaMax: number
  readonly discreteBetas: Float32Array

  constructor(p: Partial<VpSdeParams> = {}) {
    super()
    const full = { ...VP_DEFAULTS, ...p }
    checkVpParams('vpsde', full)
    this.betaMin = full.betaMin
    this.betaMax = full.betaMax
    this.N = full.N
    this.discreteBetas = ddpmBetas(full)
  }

  protected get params(): VpSdeParams {
    return { betaMin: this.betaMin, betaMax: this.betaMax, N: this.N }
  }

  sde(x: tf.Tensor, t: tf.Tensor1D) {
    return tf.tidy(() => {
      const beta = vpBeta(t, this.params)
      return { drift: tf.mul(tf.mul(x, perSample(beta, x)), -0.5), diffusion: tf.sqrt(beta) as tf.Tensor1D }
    })
  }

  marginalCoeffs(t: tf.Tensor1D) {
    return tf.tidy(() => {
      const c = vpLogMeanCoeff(t, this.params)
      // 1 − e^{2c} = −expm1(2c): no cancellation at small t.
      return { meanCoeff: tf.exp(c) as tf.Tensor1D, std: tf.sqrt(tf.neg(tf.expm1(tf.mul(c, 2)))) as tf.Tensor1D }
    })
  }

  marginalStdAt(t: number): number {
    return Math.sqrt(-Math.expm1(2 * vpLogMeanCoeffAt(t, this.params)))
  }

  marginalMeanCoeffAt(t: number): number {
    return Math.exp(vpLogMeanCoeffAt(t, this.params))
  }

  diffusionAt(t: number): number {
    return Math.sqrt(this.betaMin + t * (this.betaMax - this.betaMin))
  }

  /** σ² = std²/m² = e^{−2c} − 1, so c = −½·log1p(σ²), a quadratic in t. */
  timeAtEdmSigma(sigma: number): number {
    return vpTimeForLogMeanCoeff(-0.5 * Math.log1p(sigma * sigma), this.params)
  }

  private discreteBeta(t: tf.Tensor1D): tf.Tensor1D {
    return tf.tidy(() => tf.gather(tf.tensor1d(this.discreteBetas), timestepIndex(t, this.N, this.T)) as tf.Tensor1D)
  }

  /** DDPM: f = (√(1−β_i) − 1)x, G = √β_i. */
  override discretize(x: tf.Tensor, t: tf.Tensor1D) {
    return tf.tidy(() => {
      const beta = this.discreteBeta(t)
      const sqrtAlpha = tf.sqrt(tf.sub(1, beta)) as tf.Tensor1D
      return { f: tf.sub(tf.mul(x, perSample(sqrtAlpha, x)), x), G: tf.sqrt(beta) as tf.Tensor1D }
    })
  }

  override langevinAlpha(t: tf.Tensor1D): tf.Tensor1D {
    return tf.tidy(() => tf.sub(1, this.discreteBeta(t)) as tf.Tensor1D)
  }

  ancestralStep(x: tf.Tensor, score: tf.Tensor, t: tf.Tensor1D) {
    return tf.tidy(() => {
      const beta = this.discreteBeta(t)
      const sqrtAlpha = tf.sqrt(tf.sub(1, beta)) as tf.Tensor1D
      return {
        mean: tf.div(tf.add(x, tf.mul(score, perSample(beta, x))), perSample(sqrtAlpha, x)),
        std: tf.sqrt(beta) as tf.Tensor1D
      }
    })
  }

  toConfig() {
    return { name: this.name, betaMin: this.betaMin, betaMax: this.betaMax, N: this.N }
  }
}
