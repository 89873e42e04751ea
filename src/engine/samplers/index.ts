// The sampler registry: each sampler's name, description and zod schema of its settings.
// runSampler checks user settings against the schema and fills defaults; listSamplers feeds the
// lab's engine.catalog, from which the UI's pickers and the CLI's sampler names come. Also the
// entry point for the sampling functions other layers call directly (re-exported below).
// Adding a sampler: one file plus one entry in SAMPLERS.
import { z } from 'zod'
import { lookup } from '../registry'
import type { ScoreFn, Sde } from '../sde/types'
import { sampleAld, ALD_DEFAULTS } from './annealed-langevin'
import { CORRECTORS } from './correctors'
import { sampleOde, ODE_DEFAULTS } from './ode'
import { PC_DEFAULTS, sampleAncestral, sampleEulerMaruyama, samplePc, sampleReverseDiffusion } from './pc'
import { PREDICTORS } from './predictors'
import type { SampleResult, SamplerOptions } from './types'

const names = (o: object) => Object.keys(o) as [string, ...string[]]

/** Settings every sampler takes (shape, callbacks and signal are supplied by the caller, not the user). */
export const CommonSettingsSchema = z.object({
  batchSize: z.number().int().positive().default(64).describe('Samples per batch'),
  seed: z.number().int().nonnegative().default(0).describe('Same seed → same initial noise in every sampler'),
  eps: z.number().positive().lt(1).optional().describe("End time ε (default: the SDE's, 1e-3 VP/tutorial, 1e-5 VE)"),
  n: z.number().int().positive().optional().describe("Steps (noise levels for ald); default: the SDE's N"),
  denoise: z.boolean().default(true).describe('Last step without noise'),
  every: z.number().int().nonnegative().default(0).describe('Report x_t every k steps (0: never)')
})

/** PC's settings; the controllable samplers (controllable/index.ts) take the same. */
export const PcSettingsSchema = CommonSettingsSchema.extend({
  predictor: z.enum(names(PREDICTORS)).default(PC_DEFAULTS.predictor),
  corrector: z.enum(names(CORRECTORS)).default(PC_DEFAULTS.corrector),
  snr: z.number().positive().default(PC_DEFAULTS.snr).describe('Langevin signal-to-noise ratio'),
  nSteps: z.number().int().positive().default(PC_DEFAULTS.nSteps).describe('Corrector steps per noise level'),
  probabilityFlow: z.boolean().default(PC_DEFAULTS.probabilityFlow).describe('Predict along the probability-flow ODE')
})

const AldSettingsSchema = CommonSettingsSchema.extend({
  n: z.number().int().min(1).default(ALD_DEFAULTS.nLevels).describe('Noise levels L'),
  sigmaMax: z.number().positive().optional().describe('σ₁ (default std(T))'),
  sigmaMin: z.number().positive().optional().describe('σ_L (default std(eps))'),
  stepsPerLevel: z.number().int().positive().default(ALD_DEFAULTS.stepsPerLevel).describe('Langevin steps per level (T)'),
  stepLr: z.number().positive().default(ALD_DEFAULTS.stepLr).describe('ε: α_i = ε·σ_i²/σ_L²')
})

const OdeSettingsSchema = CommonSettingsSchema.extend({
  method: z.enum(['rk45', 'rk4', 'euler']).default(ODE_DEFAULTS.method).describe('rk45: adaptive Dormand–Prince; rk4/euler: n fixed steps'),
  rtol: z.number().positive().default(ODE_DEFAULTS.rtol),
  atol: z.number().positive().default(ODE_DEFAULTS.atol)
})

type RunFn = (scoreFn: ScoreFn, sde: Sde, opts: SamplerOptions & Record<string, unknown>) => Promise<SampleResult>

export interface SamplerEntry {
  description: string
  settings: z.ZodObject
  run: RunFn
}

export const SAMPLERS: Readonly<Record<string, SamplerEntry>> = {
  euler_maruyama: { description: 'Euler–Maruyama on the reverse SDE (NFE n)', settings: CommonSettingsSchema, run: sampleEulerMaruyama },
  reverse_diffusion: { description: 'Reverse-diffusion predictor alone (NFE n)', settings: CommonSettingsSchema, run: sampleReverseDiffusion },
  ancestral_sampling: { description: 'DDPM/SMLD ancestral sampling, VE and VP (NFE n)', settings: CommonSettingsSchema, run: sampleAncestral },
  pc: { description: 'Predictor–corrector: corrector first, then predictor, as score_sde (NFE n·(1 + nSteps))', settings: PcSettingsSchema, run: samplePc as RunFn },
  ald: { description: 'Annealed Langevin dynamics of NCSN (NFE L·T)', settings: AldSettingsSchema, run: sampleAld as RunFn },
  ode: { description: 'Probability-flow ODE, adaptive RK45 or fixed-step (NFE reported)', settings: OdeSettingsSchema, run: sampleOde as RunFn }
}

export function getSampler(name: string): SamplerEntry {
  return lookup('sampler', SAMPLERS, name)
}

/**
 * Validates `settings` against the sampler's schema (unknown keys are errors), fills defaults and runs.
 * `shape`, `x`, `onStep` and `signal` come from the caller, not from user settings.
 */
export async function runSampler(
  name: string, scoreFn: ScoreFn, sde: Sde, settings: Record<string, unknown>,
  runtime: Pick<SamplerOptions, 'shape' | 'x' | 'onStep' | 'signal'>
): Promise<SampleResult> {
  const entry = getSampler(name)
  const parsed = entry.settings.strict().safeParse(settings)
  if (!parsed.success) throw new Error(`Sampler "${name}": ${z.prettifyError(parsed.error)}`)
  return entry.run(scoreFn, sde, { ...(parsed.data as { batchSize: number }), ...runtime })
}

/** Every sampler with its description, defaults and JSON Schema of settings. */
export function listSamplers(): { name: string; description: string; defaults: Record<string, unknown>; schema: unknown }[] {
  return Object.entries(SAMPLERS).map(([name, e]) => ({
    name,
    description: e.description,
    defaults: e.settings.parse({}) as Record<string, unknown>,
    schema: z.toJSONSchema(e.settings, { io: 'input' })
  }))
}

export type { SampleResult, SamplerOptions, StepInfo } from './types'
export { samplePc } from './pc'
export { sampleOde } from './ode'
export { logLikelihood } from './likelihood'
export { initialNoise } from './noise'
