// The Trainer's own settings (optimiser, schedule, EMA, batch, seed, loss), validated once at
// the boundary and stored in checkpoints. Not the contract's TrainConfig, which is a whole run
// (data set, model, SDE, steps, ...) and from which the lab derives these. Defaults are the
// tutorial's (Adam 1e-4, batch 64, no warm-up, no clipping, no EMA).
import { z } from 'zod'
import { PROJECTIONS, SSM_DEFAULTS } from '../loss/projections'

export const TrainerConfigSchema = z
  .object({
    lr: z.number().positive().default(1e-4),
    beta1: z.number().min(0).lt(1).default(0.9),
    beta2: z.number().min(0).lt(1).default(0.999),
    adamEps: z.number().positive().default(1e-8),
    /** Linear warm-up steps (0: none). */
    warmup: z.number().int().min(0).default(0),
    /** Global-norm gradient clip (0: none). */
    gradClip: z.number().min(0).default(0),
    /** EMA decay (null: no EMA, as the tutorial; score_sde 0.999 VE, 0.9999 VP/subVP). */
    emaDecay: z.number().min(0).lt(1).nullable().default(null),
    batchSize: z.number().int().positive().default(64),
    seed: z.number().int().default(0),
    /** Smallest t of the loss. */
    lossEps: z.number().positive().lt(1).default(1e-5),
    weighting: z.string().default('std2'),
    reduction: z.enum(['sum', 'mean']).default('sum'),
    /** Name in OBJECTIVES (loss/objectives.ts): 'dsm' (denoising) or 'ssm' (sliced score matching). */
    objective: z.string().default('dsm'),
    /** ssm only: distribution of the projections v, and how many per sample. */
    projections: z.enum(PROJECTIONS).default(SSM_DEFAULTS.projections),
    projectionCount: z.number().int().min(1).max(64).default(SSM_DEFAULTS.projectionCount),
    /**
     * Classifier-free guidance: probability of replacing a label by the null label ∅, so one
     * network learns s(x, t, y) and s(x, t, ∅). Default 0.1 (Ho & Salimans) for a conditional
     * model, resolved by the Trainer; ignored for an unconditional one.
     */
    labelDropout: z.number().min(0).lt(1).optional()
  })
  .strict()

export type TrainerConfig = z.output<typeof TrainerConfigSchema>
export type TrainerConfigInput = z.input<typeof TrainerConfigSchema>

export function resolveTrainerConfig(input: TrainerConfigInput = {}): TrainerConfig {
  return TrainerConfigSchema.parse(input)
}
