// score_sde's Predictor: one class per method, each built from (sde, score, probability_flow)
// and updating (x, t) → (x, x_mean), where x_mean is the step without its noise term.
import type { tf } from '../../tf'
import type { ReverseSde, ScoreFn, Sde } from '../../sde/types'
import type { NoiseSource } from '../noise'

/** A type alias, not an interface, so tf.tidy accepts it as a TensorContainer. */
export type Update = {
  x: tf.Tensor
  xMean: tf.Tensor
}

export interface PredictorContext {
  sde: Sde
  scoreFn: ScoreFn
  /** Drift f − ½g²s and no noise (the probability-flow ODE discretised by this predictor). */
  probabilityFlow: boolean
  noise: NoiseSource
}

export abstract class Predictor {
  /** Score evaluations per update. */
  readonly nfe: number = 1
  protected readonly rsde: ReverseSde

  constructor(protected readonly ctx: PredictorContext) {
    this.rsde = ctx.sde.reverse(ctx.scoreFn, ctx.probabilityFlow)
  }

  /** One step from t to t − dt (dt > 0, the spacing of the time grid). Runs inside tf.tidy. */
  abstract update(x: tf.Tensor, t: tf.Tensor1D, dt: number): Update
}

export type PredictorClass = new (ctx: PredictorContext) => Predictor
