// DPM-Solver++(2M): Lu, Zhou, Bao, Chen, Li, Zhu 2022, "DPM-Solver++: Fast Solver for Guided
// Sampling of Diffusion Probabilistic Models" (arXiv 2211.01095), Algorithm 2: the multistep
// second-order solver of the probability-flow ODE in data prediction, in λ = log(m/std) = −ln σ.
//
// In the scaled x̃ = x/m (denoiser.ts) the ODE is dx̃/dλ = x̂₀ − x̃, so over a step of length
// h = λ' − λ the exact solution is x̃' = e^{−h}x̃ + ∫ e^{−(λ'−u)} x̂₀(u) du. The solver takes x̂₀
// linear in λ through this step's and the last step's evaluation:
//   x̃' = (σ'/σ)·x̃ − (e^{−h} − 1)·D,   D = (1 + 1/(2r))·x̂₀ − (1/(2r))·x̂₀_prev,   r = h_prev/h,
// with D = x̂₀ (first order, DDIM) on the first step and on the last step to σ' = 0.
// One score evaluation per step: NFE = n (n − 1 without denoise). Levels uniform in λ
// ('logSNR', DPM-Solver's choice for low-resolution data) by default.
import { tf } from '../tf'
import type { ScoreFn, Sde } from '../sde/types'
import { definedOnly } from './pc'
import type { SigmaSchedule } from './schedules'
import { scaled, unscaled, walkSigmas } from './sigma-walk'
import type { SampleResult, SamplerOptions } from './types'

export interface DpmppSettings {
  schedule: SigmaSchedule
}

/** n 20: "almost converged" per the DPM-Solver README. */
export const DPMPP_2M_DEFAULTS = { n: 20, schedule: 'logSNR' as SigmaSchedule }

export function sampleDpmpp2m(scoreFn: ScoreFn, sde: Sde, opts: SamplerOptions & Partial<DpmppSettings>): Promise<SampleResult> {
  const s = { ...DPMPP_2M_DEFAULTS, ...definedOnly(opts) }
  return walkSigmas(scoreFn, sde, { ...opts, n: s.n }, { schedule: s.schedule }, ({ plan, D }) => {
    const { sigmas, times, m } = plan
    let prev: tf.Tensor | null = null
    let hPrev = 0
    return {
      step(x, i) {
        const sigma = sigmas[i]
        const next = sigmas[i + 1]
        const x0 = D(x, times[i])
        if (next === 0) return x0
        const h = Math.log(sigma / next)
        let d = x0
        if (prev) {
          const r = hPrev / h
          d = tf.sub(tf.mul(x0, 1 + 1 / (2 * r)), tf.mul(prev, 1 / (2 * r)))
        }
        const xt = tf.sub(tf.mul(scaled(x, m[i]), next / sigma), tf.mul(d, Math.expm1(-h)))
        prev?.dispose()
        prev = tf.keep(x0)
        hPrev = h
        return unscaled(xt, m[i + 1])
      },
      dispose() {
        prev?.dispose()
      }
    }
  })
}
