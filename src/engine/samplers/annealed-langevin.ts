// Annealed Langevin dynamics of NCSN (Song & Ermon 2019, ermongroup/ncsn anneal_Langevin_dynamics):
// noise levels σ₁ > … > σ_L (geometric), `stepsPerLevel` Langevin moves at each, with step
//   α_i = ε·σ_i²/σ_L²   (ε = stepLr; NCSN: 2e-5 with σ 1 → 0.01, L = 10, T = 100).
// The time-conditional model is driven at t_i = std⁻¹(σ_i): the SDE's marginal std inverted by
// bisection (it is increasing in t for every SDE here). Starts from the same seeded x_T as
// every other sampler (NCSN itself started from U[0,1)). NFE = L·T (+1 with denoise).
import { tf } from '../tf'
import { perSample } from '../sde/base'
import type { ScoreFn, Sde } from '../sde/types'
import { definedOnly } from './pc'
import { Progress, disposeExcept } from './progress'
import { initialX, resolveCommon } from './setup'
import type { SampleResult, SamplerOptions } from './types'

export interface AldSettings {
  /** σ₁; default std(T). */
  sigmaMax: number
  /** σ_L; default std(eps). */
  sigmaMin: number
  /** Langevin moves per noise level (NCSN's n_steps_each). */
  stepsPerLevel: number
  /** ε, the step at σ_L (NCSN's step_lr). */
  stepLr: number
}

export const ALD_DEFAULTS = { nLevels: 10, stepsPerLevel: 100, stepLr: 2e-5 }

/** t with marginalStdAt(t) = sigma, by bisection on [0, T] (60 halvings: float64 exact). */
export function timeForStd(sde: Sde, sigma: number): number {
  const lo0 = sde.marginalStdAt(0)
  const hi0 = sde.marginalStdAt(sde.T)
  const tol = 1e-6 * hi0
  if (sigma > hi0 + tol || sigma < lo0 - tol) {
    throw new Error(`σ = ${sigma} is outside the SDE's std range [${lo0}, ${hi0}]`)
  }
  let lo = 0
  let hi = sde.T
  for (let k = 0; k < 60; k++) {
    const mid = (lo + hi) / 2
    if (sde.marginalStdAt(mid) < sigma) lo = mid
    else hi = mid
  }
  return (lo + hi) / 2
}

/** Geometric levels exp(linspace(ln σ₁, ln σ_L, L)). */
export function geometricSigmas(sigmaMax: number, sigmaMin: number, L: number): Float64Array {
  const out = new Float64Array(L)
  for (let i = 0; i < L; i++) out[i] = L === 1 ? sigmaMax : Math.exp(Math.log(sigmaMax) + ((Math.log(sigmaMin) - Math.log(sigmaMax)) * i) / (L - 1))
  return out
}

export async function sampleAld(scoreFn: ScoreFn, sde: Sde, opts: SamplerOptions & Partial<AldSettings>): Promise<SampleResult> {
  const r = resolveCommon(sde, { ...opts, n: opts.n ?? ALD_DEFAULTS.nLevels })
  const s = { ...ALD_DEFAULTS, sigmaMax: sde.marginalStdAt(sde.T), sigmaMin: sde.marginalStdAt(r.eps), ...definedOnly(opts) }
  if (!(s.sigmaMax > s.sigmaMin && s.sigmaMin > 0)) throw new Error(`ald needs sigmaMax > sigmaMin > 0, got ${s.sigmaMax}, ${s.sigmaMin}`)
  if (!Number.isInteger(s.stepsPerLevel) || s.stepsPerLevel < 1) throw new Error(`stepsPerLevel must be a positive integer, got ${s.stepsPerLevel}`)
  const sigmas = geometricSigmas(s.sigmaMax, s.sigmaMin, r.n)
  const times = Array.from(sigmas, (sigma) => timeForStd(sde, sigma))
  const B = r.fullShape[0]
  const total = r.n * s.stepsPerLevel
  const progress = new Progress(opts, sde, times[0], times[r.n - 1], total)
  const sigmaL2 = s.sigmaMin * s.sigmaMin

  let x = initialX(sde, opts, r)
  try {
    await progress.report(0, times[0], x)
    let step = 0
    for (let i = 0; i < r.n; i++) {
      const alpha = (s.stepLr * sigmas[i] * sigmas[i]) / sigmaL2
      for (let k = 0; k < s.stepsPerLevel; k++) {
        const cur = x
        x = tf.tidy(() => {
          const t = tf.fill([B], times[i]) as tf.Tensor1D
          const grad = scoreFn(cur, t)
          const z = r.noise.normal(cur.shape)
          return tf.add(tf.add(cur, tf.mul(grad, alpha)), tf.mul(z, Math.sqrt(2 * alpha)))
        })
        cur.dispose()
        progress.nfe += 1
        await progress.report(++step, times[i], x)
      }
    }
    if (r.denoise) {
      // Tweedie's formula E[x₀ | x_t] = (x + σ²·s(x, t))/m(t): NCSNv2's x + σ_L²·s for VE (m = 1).
      const cur = x
      const tL = times[r.n - 1]
      x = tf.tidy(() => {
        const t = tf.fill([B], tL) as tf.Tensor1D
        const { meanCoeff, std } = sde.marginalCoeffs(t)
        const x0 = tf.add(cur, tf.mul(scoreFn(cur, t), perSample(tf.square(std) as tf.Tensor1D, cur)))
        return tf.div(x0, perSample(meanCoeff, cur))
      })
      cur.dispose()
      progress.nfe += 1
    }
  } catch (err) {
    disposeExcept([x])
    throw err
  }
  return progress.result(x, total)
}
