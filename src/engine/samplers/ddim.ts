// DDIM: Song, Meng, Ermon 2021, "Denoising Diffusion Implicit Models" (ICLR), eq. 12, on the
// continuous SDEs. With m = m(t) and std = std(t) of the kernel N(m·x₀, std²·I), each step
// predicts x̂₀ and ε̂ from one score evaluation (Tweedie, denoiser.ts),
//   x̂₀ = (x + std²·s(x, t))/m,   ε̂ = (x − m·x̂₀)/std = −std·s(x, t),
// and moves to the next time keeping ε̂ partly and drawing the rest afresh:
//   x' = m'·x̂₀ + √(std'² − ς²)·ε̂ + ς·z,   ς = η·m'·√(σ'²(σ² − σ'²)/σ²),   σ = std/m.
// For VP this ς is DDIM's σ_t(η) = η·√((1−ᾱ')/(1−ᾱ))·√(1 − ᾱ/ᾱ'), ᾱ = m²: η = 0 is the
// deterministic DDIM (the first-order solver of the probability-flow ODE in σ) and η = 1 the
// DDPM posterior. For VE (m = 1) it is the σ-parameterised DDIM, x̂₀ = x + σ²·s. sub-VP uses
// the same formula with its own m and std.
// Levels uniform in t by default (DDIM's evenly skipped steps). With `denoise` the last step
// lands on x̂₀ (σ' = 0): NFE = n (n − 1 without denoise).
import { tf } from '../tf'
import type { ScoreFn, Sde } from '../sde/types'
import { definedOnly } from './pc'
import type { SigmaSchedule } from './schedules'
import { scaled, unscaled, walkSigmas } from './sigma-walk'
import type { SampleResult, SamplerOptions } from './types'

export interface DdimSettings {
  /** 0: deterministic DDIM; 1: DDPM-like ancestral noise. */
  eta: number
  schedule: SigmaSchedule
}

export const DDIM_DEFAULTS = { n: 50, eta: 0, schedule: 'time_uniform' as SigmaSchedule }

export function sampleDdim(scoreFn: ScoreFn, sde: Sde, opts: SamplerOptions & Partial<DdimSettings>): Promise<SampleResult> {
  const s = { ...DDIM_DEFAULTS, ...definedOnly(opts) }
  if (!(s.eta >= 0)) throw new Error(`ddim needs eta >= 0, got ${s.eta}`)
  return walkSigmas(scoreFn, sde, { ...opts, n: s.n }, { schedule: s.schedule }, ({ plan, noise, D }) => {
    const { sigmas, times, m } = plan
    return {
      step(x, i) {
        const sigma = sigmas[i]
        const next = sigmas[i + 1]
        const x0 = D(x, times[i])
        if (next === 0) return x0
        const epsHat = tf.div(tf.sub(scaled(x, m[i]), x0), sigma)
        // In x̃ = x/m: ς/m' = σ_up, and √(std'² − ς²)/m' = σ_down.
        const sigmaUp = Math.min(next, s.eta * Math.sqrt((next * next * (sigma * sigma - next * next)) / (sigma * sigma)))
        const sigmaDown = Math.sqrt(next * next - sigmaUp * sigmaUp)
        let xt = tf.add(x0, tf.mul(epsHat, sigmaDown))
        if (sigmaUp > 0) xt = tf.add(xt, tf.mul(noise.normal(x.shape), sigmaUp))
        return unscaled(xt, m[i + 1])
      }
    }
  })
}
