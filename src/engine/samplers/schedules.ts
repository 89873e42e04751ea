// Noise-level schedules for the samplers that walk σ (k-diffusion's get_sigmas_*): each gives
// n EDM noise levels from σ(T) down to σ(eps), and the σ-walk plan pairs them with their times.
// Schedule and solver are chosen independently.
import type { Sde } from '../sde/types'
import { edmSigma, tOfSigma } from './denoiser'
import { timeGrid } from './setup'

/** The σ spacings a fixed-step σ-walking sampler can use. */
export const SIGMA_SCHEDULES = ['karras', 'logSNR', 'time_uniform'] as const
export type SigmaSchedule = (typeof SIGMA_SCHEDULES)[number]

/** Karras et al. 2022 eq. 5: σ_i = (σ_max^{1/ρ} + i/(n−1)·(σ_min^{1/ρ} − σ_max^{1/ρ}))^ρ. */
export function karrasSigmas(n: number, sigmaMin: number, sigmaMax: number, rho = 7): Float64Array {
  const out = new Float64Array(n)
  const a = Math.pow(sigmaMax, 1 / rho)
  const b = Math.pow(sigmaMin, 1 / rho)
  for (let i = 0; i < n; i++) out[i] = n === 1 ? sigmaMax : Math.pow(a + (i / (n - 1)) * (b - a), rho)
  return out
}

/** Geometric levels exp(linspace(ln σ_max, ln σ_min, n)): uniform in λ = −ln σ, i.e. in logSNR. */
export function geometricSigmas(sigmaMax: number, sigmaMin: number, n: number): Float64Array {
  const out = new Float64Array(n)
  for (let i = 0; i < n; i++) out[i] = n === 1 ? sigmaMax : Math.exp(Math.log(sigmaMax) + ((Math.log(sigmaMin) - Math.log(sigmaMax)) * i) / (n - 1))
  return out
}

/**
 * What a σ-walking sampler steps through: levels σ_0 = σ(T) > … > σ_{n−1} = σ(eps) with their
 * times, and, with `denoise`, a last level σ_n = 0 (t = 0, m = 1), where x is the denoised x̂₀.
 * `m[i]` is the mean coefficient m(t_i): x = m·x̃.
 */
export interface SigmaPlan {
  sigmas: Float64Array
  times: Float64Array
  m: Float64Array
  /** Steps: n with denoise (the last one lands on σ = 0), n − 1 without. */
  steps: number
}

export function sigmaPlan(sde: Sde, eps: number, n: number, schedule: SigmaSchedule, denoise: boolean, rho = 7): SigmaPlan {
  if (!Number.isInteger(n) || n < 2) throw new Error(`a σ schedule needs n >= 2 levels, got ${n}`)
  const sigmaMax = edmSigma(sde, sde.T)
  const sigmaMin = edmSigma(sde, eps)
  let sigmas: Float64Array
  let times: Float64Array
  if (schedule === 'time_uniform') {
    times = timeGrid(sde.T, eps, n)
    sigmas = times.map((t) => edmSigma(sde, t))
  } else {
    sigmas = schedule === 'karras' ? karrasSigmas(n, sigmaMin, sigmaMax, rho) : geometricSigmas(sigmaMax, sigmaMin, n)
    // The end points exactly (a closed-form inverse may round T to 1 − 1e-16).
    times = sigmas.map((s, i) => (i === 0 ? sde.T : i === n - 1 ? eps : tOfSigma(sde, s)))
  }
  const len = denoise ? n + 1 : n
  const plan = { sigmas: new Float64Array(len), times: new Float64Array(len), m: new Float64Array(len).fill(1), steps: len - 1 }
  plan.sigmas.set(sigmas)
  plan.times.set(times)
  for (let i = 0; i < n; i++) plan.m[i] = sde.marginalMeanCoeffAt(times[i])
  return plan
}
