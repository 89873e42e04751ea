// Annealed Langevin dynamics of NCSN (Song & Ermon 2019, ermongroup/ncsn anneal_Langevin_dynamics):
// noise levels σ₁ > … > σ_L (geometric), `stepsPerLevel` Langevin moves at each, with step
//   α_i = ε·σ_i²/σ_L²   (ε = stepLr; NCSN: 2e-5 with σ 1 → 0.01, L = 10, T = 100).
// The time-conditional model is driven at t_i = std⁻¹(σ_i): the SDE's marginal std inverted by
// bisection (it is increasing in t for every SDE here). Starts from the same seeded x_T as
// every other sampler (NCSN itself started from U[0,1)). NFE = L·T (+1 with denoise).
import { tf } from '../tf'
import type { ScoreFn, Sde } from '../sde/types'
import { denoised, timeForStd } from './denoiser'
import { definedOnly } from './pc'
import { Progress, disposeExcept } from './progress'
import { geometricSigmas } from './schedules'
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
      x = denoised(scoreFn, sde, cur, tL)
      cur.dispose()
      progress.nfe += 1
    }
  } catch (err) {
    disposeExcept([x])
    throw err
  }
  return progress.result(x, total)
}
