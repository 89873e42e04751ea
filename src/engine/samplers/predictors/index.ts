// Predictors by score_sde name: adding one is a file plus a line here.
import { lookup } from '../../registry'
import type { Predictor, PredictorClass, PredictorContext } from './base'
import { AncestralSamplingPredictor } from './ancestral'
import { EulerMaruyamaPredictor } from './euler-maruyama'
import { NonePredictor } from './none'
import { ReverseDiffusionPredictor } from './reverse-diffusion'

export const PREDICTORS: Readonly<Record<string, PredictorClass>> = {
  euler_maruyama: EulerMaruyamaPredictor,
  reverse_diffusion: ReverseDiffusionPredictor,
  ancestral_sampling: AncestralSamplingPredictor,
  none: NonePredictor
}

export function getPredictor(name: string, ctx: PredictorContext): Predictor {
  const cls = lookup('predictor', PREDICTORS, name)
  return new cls(ctx)
}

export { Predictor, type PredictorContext, type Update } from './base'
