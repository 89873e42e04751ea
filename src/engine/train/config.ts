// Training settings, validated once at the boundary. Defaults are the tutorial's (Adam 1e-4,
// batch 64, no warm-up, no clipping, no EMA); TRAIN_PRESETS.score_sde has score_sde's.
import { z } from 'zod'

export const TrainConfigSchema = z
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
    reduction: z.enum(['sum', 'mean']).default('sum')
  })
  .strict()

export type TrainConfig = z.output<typeof TrainConfigSchema>
export type TrainConfigInput = z.input<typeof TrainConfigSchema>

export const TRAIN_PRESETS: Record<string, TrainConfigInput> = {
  tutorial: { lr: 1e-4, batchSize: 64, warmup: 0, gradClip: 0, emaDecay: null, reduction: 'sum' },
  /** score_sde CIFAR-10 (its sum carries a ½ that our 'sum' does not; use the same λ either way). */
  score_sde: { lr: 2e-4, batchSize: 128, warmup: 5000, gradClip: 1, emaDecay: 0.999, reduction: 'sum' }
}

export function resolveTrainConfig(input: TrainConfigInput = {}): TrainConfig {
  return TrainConfigSchema.parse(input)
}
