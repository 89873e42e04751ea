// DPM-Solver++(3M) SDE: the third-order multistep data-prediction solver of Lu et al. 2022,
// "DPM-Solver++: Fast Solver for Guided Sampling of Diffusion Probabilistic Models"
// (arXiv 2211.01095: its SDE form and the authors' third-order multistep), in λ = −ln σ.
//
// In the scaled x̃ = x/m (denoiser.ts), with k = 1 + η, the family of reverse processes
//   dx̃ = −k·(x̃ − x̂₀) dλ + √(2η)·σ dW
// all have the data's marginals (η = 0: the probability-flow ODE). Over h = λ' − λ it solves to
//   x̃' = e^{−kh}x̃ + k∫₀ʰ e^{−k(h−v)} x̂₀(λ + v) dv + σ'·√(1 − e^{−2ηh})·z,
// and with x̂₀ expanded to second order in λ the integral is, exactly for a quadratic x̂₀,
//   (1 − e^{−kh})·x̂₀ + φ₂(kh)·h·x̂₀′ + φ₃(kh)·h²·x̂₀″,
//   φ₂(u) = 1 − (1 − e^{−u})/u,   φ₃(u) = ½ − 1/u + (1 − e^{−u})/u².
// x̂₀′ and x̂₀″ are divided differences of the last three evaluations (two on the second step,
// none on the first). Note: k-diffusion's and the DPM-Solver code's 3M weight x̂₀″ by half of
// this (their second difference estimates ½h²x̂₀″); the full weight makes the ODE case (η = 0)
// third order, checked in test/samplers/fast-samplers.test.ts.
// One score evaluation per step: NFE = n (n − 1 without denoise); the last step to σ' = 0
// returns x̂₀. Levels uniform in λ by default.
import { tf } from '../tf'
import type { ScoreFn, Sde } from '../sde/types'
import { definedOnly } from './pc'
import type { SigmaSchedule } from './schedules'
import { scaled, unscaled, walkSigmas } from './sigma-walk'
import type { SampleResult, SamplerOptions } from './types'

export interface Dpmpp3mSdeSettings {
  /** Noise: 0 is the probability-flow ODE (DPM-Solver++(3M)), 1 the reverse SDE. */
  eta: number
  schedule: SigmaSchedule
}

export const DPMPP_3M_SDE_DEFAULTS = { n: 30, eta: 1, schedule: 'logSNR' as SigmaSchedule }

/** φ₂(u) = 1 − (1 − e^{−u})/u and φ₃(u) = ½ − 1/u + (1 − e^{−u})/u², by series near 0. */
export function phi23(u: number): [number, number] {
  if (u < 1e-2) return [u / 2 - (u * u) / 6 + (u * u * u) / 24, u / 6 - (u * u) / 24 + (u * u * u) / 120]
  const c1 = -Math.expm1(-u)
  return [1 - c1 / u, 0.5 - 1 / u + c1 / (u * u)]
}

export function sampleDpmpp3mSde(scoreFn: ScoreFn, sde: Sde, opts: SamplerOptions & Partial<Dpmpp3mSdeSettings>): Promise<SampleResult> {
  const s = { ...DPMPP_3M_SDE_DEFAULTS, ...definedOnly(opts) }
  if (!(s.eta >= 0)) throw new Error(`dpmpp_3m_sde needs eta >= 0, got ${s.eta}`)
  return walkSigmas(scoreFn, sde, { ...opts, n: s.n }, { schedule: s.schedule }, ({ plan, noise, D }) => {
    const { sigmas, times, m } = plan
    // Last two evaluations x̂₀ (newest first) and the λ-lengths of the steps after each.
    let hist: tf.Tensor[] = []
    let hs: number[] = []
    return {
      step(x, i) {
        const sigma = sigmas[i]
        const next = sigmas[i + 1]
        const x0 = D(x, times[i])
        if (next === 0) return x0
        const h = Math.log(sigma / next)
        const u = (1 + s.eta) * h
        const [phi2, phi3] = phi23(u)
        let xt = tf.add(tf.mul(scaled(x, m[i]), Math.exp(-u)), tf.mul(x0, -Math.expm1(-u)))
        if (hist.length >= 1) {
          const d0 = tf.div(tf.sub(x0, hist[0]), hs[0]) // x̂₀′ at the middle of the last step
          if (hist.length === 2) {
            const d1 = tf.div(tf.sub(hist[0], hist[1]), hs[1])
            const second = tf.div(tf.sub(d0, d1), (hs[0] + hs[1]) / 2) // x̂₀″
            const first = tf.add(d0, tf.mul(second, hs[0] / 2)) // x̂₀′ at λ
            xt = tf.add(xt, tf.add(tf.mul(first, phi2 * h), tf.mul(second, phi3 * h * h)))
          } else {
            xt = tf.add(xt, tf.mul(d0, phi2 * h))
          }
        }
        if (s.eta > 0) xt = tf.add(xt, tf.mul(noise.normal(x.shape), next * Math.sqrt(-Math.expm1(-2 * s.eta * h))))
        if (hist.length === 2) hist[1].dispose()
        hist = [tf.keep(x0), ...hist].slice(0, 2)
        hs = [h, ...hs].slice(0, 2)
        return unscaled(xt, m[i + 1])
      },
      dispose() {
        for (const t of hist) t.dispose()
      }
    }
  })
}
