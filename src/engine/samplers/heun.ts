// Heun's 2nd-order method on the probability-flow ODE: Karras, Aittala, Aila, Laine 2022,
// "Elucidating the Design Space of Diffusion-Based Generative Models" (EDM), Algorithm 2.
//
// Walks the EDM noise levels σ_i = (σ_max^{1/ρ} + i/(n−1)(σ_min^{1/ρ} − σ_max^{1/ρ}))^ρ from
// σ(T) to σ(eps) in the scaled x̃ = x/m(t) (denoiser.ts), where dx̃/dσ = (x̃ − x̂₀)/σ for every
// SDE here; the score is called at t(σ). Each step is an Euler step corrected by the trapezoid
// rule, except the last one to σ = 0 (with `denoise`), which is Euler only and lands on x̂₀:
// NFE = 2n − 1 (2n − 2 without denoise); EDM's 18 levels are NFE 35.
// Optional churn (stochastic Algorithm 2): at levels in [sTmin, sTmax], raise σ to
// σ̂ = σ(1 + γ), γ = min(sChurn/n, √2 − 1), by adding noise of std √(σ̂² − σ²)·sNoise, then step
// from σ̂. σ̂ is capped at σ(T): the score is not trained beyond T. sChurn = 0 is deterministic.
import { tf } from '../tf'
import type { ScoreFn, Sde } from '../sde/types'
import { tOfSigma } from './denoiser'
import { definedOnly } from './pc'
import { scaled, unscaled, walkSigmas } from './sigma-walk'
import type { SampleResult, SamplerOptions } from './types'

export interface HeunSettings {
  /** ρ of the Karras schedule (EDM: 7). */
  rho: number
  /** Total churn S_churn (0: deterministic). */
  sChurn: number
  /** Churn only at σ ≥ sTmin … */
  sTmin: number
  /** … and σ ≤ sTmax (undefined: no upper limit). */
  sTmax?: number
  /** Noise inflation S_noise. */
  sNoise: number
}

/** n 18: EDM's CIFAR-10 setting (NFE 35). */
export const HEUN_DEFAULTS = { n: 18, rho: 7, sChurn: 0, sTmin: 0, sNoise: 1 }

export function sampleHeun(scoreFn: ScoreFn, sde: Sde, opts: SamplerOptions & Partial<HeunSettings>): Promise<SampleResult> {
  const s = { ...HEUN_DEFAULTS, sTmax: Infinity, ...definedOnly(opts) }
  return walkSigmas(scoreFn, sde, { ...opts, n: s.n }, { schedule: 'karras', rho: s.rho }, ({ plan, n, noise, D }) => {
    const { sigmas, times, m } = plan
    const gammaMax = Math.min(s.sChurn / n, Math.SQRT2 - 1)
    return {
      step(x, i) {
        const sigma = sigmas[i]
        const next = sigmas[i + 1]
        const gamma = s.sChurn > 0 && sigma >= s.sTmin && sigma <= s.sTmax ? gammaMax : 0
        const sigmaHat = Math.min(sigma * (1 + gamma), sigmas[0])
        let xt = scaled(x, m[i])
        let tHat = times[i]
        let mHat = m[i]
        if (sigmaHat > sigma) {
          xt = tf.add(xt, tf.mul(noise.normal(x.shape), Math.sqrt(sigmaHat * sigmaHat - sigma * sigma) * s.sNoise))
          tHat = tOfSigma(sde, sigmaHat)
          mHat = sde.marginalMeanCoeffAt(tHat)
        }
        const d = tf.div(tf.sub(xt, D(unscaled(xt, mHat), tHat)), sigmaHat)
        const euler = tf.add(xt, tf.mul(d, next - sigmaHat))
        if (next === 0) return euler
        const d2 = tf.div(tf.sub(euler, D(unscaled(euler, m[i + 1]), times[i + 1])), next)
        return unscaled(tf.add(xt, tf.mul(tf.add(d, d2), (next - sigmaHat) / 2)), m[i + 1])
      }
    }
  })
}
