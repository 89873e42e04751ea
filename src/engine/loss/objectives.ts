// Training objectives by name: the one owner of the names (the contract's TRAIN_OBJECTIVES is
// tied to these keys by test/engine/ssm.test.ts). Each maps a batch to per-sample losses [B] and
// their times, so the trainer's logging and per-t buckets work for all of them.
import { lookup } from '../registry'
import type { Rng } from '../rng'
import type { ScoreFn, Sde } from '../sde/types'
import type { tf } from '../tf'
import { dsmLoss, type DsmResult } from './dsm'
import { ssmLoss, type SsmOptions } from './ssm'
import { secondOrderProblem } from '../nets/second-order'

export interface Objective {
  description: string
  loss(scoreFn: ScoreFn, sde: Sde, x0: tf.Tensor, rng: Rng, opts: SsmOptions): DsmResult
  /** Why this objective cannot train `model` (by registry name), or null. */
  problemWith(model: string): string | null
}

export const OBJECTIVES: Record<string, Objective> = {
  dsm: {
    description: 'Denoising score matching: regress s(x̃, t) on the perturbation kernel score −z/σ(t)',
    loss: (scoreFn, sde, x0, rng, opts) => dsmLoss(scoreFn, sde, x0, rng, opts),
    problemWith: () => null
  },
  ssm: {
    description: 'Sliced score matching (variance-reduced): vᵀ∇ₓ(vᵀs) + ½‖s‖² on perturbed data, no kernel score needed',
    loss: ssmLoss,
    problemWith(model) {
      const why = secondOrderProblem(model)
      return why && `Objective "ssm" (sliced score matching) needs the gradient of a gradient, and model "${model}" cannot give it: ${why}. Train it with objective "dsm", or use the "mlp" model.`
    }
  }
}

export function getObjective(name: string): Objective {
  return lookup('objective', OBJECTIVES, name)
}

/** Throws when `objective` cannot train `model` (at setup, not at step 1). */
export function checkObjective(objective: string, model: string): void {
  const why = getObjective(objective).problemWith(model)
  if (why) throw new Error(why)
}
