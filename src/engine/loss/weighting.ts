// Loss weightings λ(t) for continuous denoising score matching, by name.
// The loss is λ(t)·‖s − ∇log p_0t‖² = (λ/σ²)·‖σs + z‖²; each entry gives the factor λ/σ²
// that multiplies the tutorial's ‖σs + z‖² (null for λ = σ², which then stays bit-identical).
import { lookup } from '../registry'
import { tf } from '../tf'
import type { Sde } from '../sde/types'

export interface Weighting {
  description: string
  /** λ(t)/σ(t)² as [B], or null when it is exactly 1. */
  scale(sde: Sde, t: tf.Tensor1D, std: tf.Tensor1D, meanCoeff: tf.Tensor1D): tf.Tensor1D | null
  /** Scalar λ(t), for analytic floors, plots and the UI. */
  lambdaAt(sde: Sde, t: number): number
  /** Throws when the weighting means nothing for this SDE. */
  check?(sde: Sde): void
}

export const WEIGHTINGS: Record<string, Weighting> = {
  std2: {
    description: 'λ = σ(t)²: the tutorial and score_sde default (‖σs + z‖²)',
    scale: () => null,
    lambdaAt: (sde, t) => sde.marginalStdAt(t) ** 2
  },
  likelihood: {
    description: 'λ = g(t)²: likelihood weighting (Song et al. 2021, arXiv 2101.09258)',
    scale: (sde, t, std) => tf.tidy(() => tf.div(tf.square(sde.sde(tf.zeros([t.shape[0], 1]), t).diffusion), tf.square(std)) as tf.Tensor1D),
    lambdaAt: (sde, t) => sde.diffusionAt(t) ** 2
  },
  vp_exp: {
    description: 'λ = 1 − exp(−∫β) = 1 − m(t)²: the VP kernel variance (VP-family SDEs only)',
    scale: (_sde, _t, std, meanCoeff) => tf.tidy(() => tf.div(tf.neg(tf.expm1(tf.mul(tf.log(meanCoeff), 2))), tf.square(std)) as tf.Tensor1D),
    lambdaAt: (sde, t) => -Math.expm1(2 * Math.log(sde.marginalMeanCoeffAt(t))),
    check(sde) {
      if (sde.marginalMeanCoeffAt(sde.T) === 1) {
        throw new Error(`Weighting "vp_exp" (1 − m(t)²) is 0 for ${sde.name}, whose mean does not decay; use it with vpsde or subvpsde.`)
      }
    }
  },
  uniform: {
    description: 'λ = 1: plain score matching, dominated by small t',
    scale: (_sde, _t, std) => tf.tidy(() => tf.reciprocal(tf.square(std)) as tf.Tensor1D),
    lambdaAt: () => 1
  }
}

export function getWeighting(name: string): Weighting {
  return lookup('loss weighting', WEIGHTINGS, name)
}
