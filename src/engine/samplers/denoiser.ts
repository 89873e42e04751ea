// The denoiser view of a score model, shared by every sampler that needs it (k-diffusion's
// "the model is a denoiser" adapter, written once for all SDEs here).
//
// Every SDE here has the kernel N(m(t)·x₀, std(t)²·I). Tweedie's formula gives the posterior mean
//   x̂₀ = E[x₀ | x_t] = (x + std(t)²·s(x, t)) / m(t),
// and the scaled variable x̃ = x/m(t) is x₀ plus noise of std σ(t) = std(t)/m(t): the EDM noise
// level of Karras et al. 2022 (EDM). In x̃ every SDE becomes the VE case, whose probability-flow ODE
// is dx̃/dσ = (x̃ − x̂₀)/σ. σ(t) increases with t, so a sampler can walk σ and call the score at
// t(σ): each SDE inverts σ in closed form (Sde.timeAtEdmSigma), with bisection as the fallback.
import { tf } from '../tf'
import { perSample } from '../sde/base'
import type { ScoreFn, Sde } from '../sde/types'

/** EDM noise level σ(t) = std(t)/m(t) (std(t) for VE, whose m = 1). */
export function edmSigma(sde: Sde, t: number): number {
  return sde.marginalStdAt(t) / sde.marginalMeanCoeffAt(t)
}

/** t with edmSigma(sde, t) = sigma: the SDE's closed form, else bisection on [0, T]. */
export function tOfSigma(sde: Sde, sigma: number): number {
  if (!(sigma > 0)) throw new Error(`tOfSigma needs σ > 0, got ${sigma}`)
  return sde.timeAtEdmSigma ? sde.timeAtEdmSigma(sigma) : invertIncreasing((t) => edmSigma(sde, t), sigma, sde.T, 'σ')
}

/** t with marginalStdAt(t) = std (annealed Langevin's levels), by bisection on [0, T]. */
export function timeForStd(sde: Sde, std: number): number {
  return invertIncreasing((t) => sde.marginalStdAt(t), std, sde.T, 'std')
}

/** x with f(x) = y for f increasing on [0, hi]: 60 halvings, exact in float64. */
function invertIncreasing(f: (x: number) => number, y: number, hi: number, what: string): number {
  const f0 = f(0)
  const f1 = f(hi)
  const tol = 1e-6 * f1
  if (y > f1 + tol || y < f0 - tol) throw new Error(`${what} = ${y} is outside the SDE's range [${f0}, ${f1}]`)
  let lo = 0
  for (let k = 0; k < 60; k++) {
    const mid = (lo + hi) / 2
    if (f(mid) < y) lo = mid
    else hi = mid
  }
  return (lo + hi) / 2
}

/**
 * Tweedie's x̂₀ = (x + std(t)²·s(x, t))/m(t): for VE x + σ²·s. One score evaluation.
 * `t` is one time for the whole batch, or a [B] tensor of per-sample times. Call inside tf.tidy.
 */
export function denoised(score: ScoreFn, sde: Sde, x: tf.Tensor, t: number | tf.Tensor1D): tf.Tensor {
  return tf.tidy(() => {
    if (typeof t === 'number') {
      const std = sde.marginalStdAt(t)
      const m = sde.marginalMeanCoeffAt(t)
      const x0 = tf.add(x, tf.mul(score(x, tf.fill([x.shape[0]], t) as tf.Tensor1D), std * std))
      return m === 1 ? x0 : tf.div(x0, m)
    }
    const { meanCoeff, std } = sde.marginalCoeffs(t)
    const x0 = tf.add(x, tf.mul(score(x, t), perSample(tf.square(std) as tf.Tensor1D, x)))
    return tf.div(x0, perSample(meanCoeff, x))
  })
}
