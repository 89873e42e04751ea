// The settings each sampler takes: one zod schema per sampler (SAMPLERS in index.ts names which),
// whose fields carry their description (.describe) and, where the key does not read well, a
// label (.meta title). runSampler validates and defaults with them; describeSettings turns a
// schema into the list engine.catalog serves, from which the sampler forms build their fields
// and the CLI its flags (score-lab samplers). Adding a setting: one field here.
// The defaults are the sampler files' own (PC_DEFAULTS, HEUN_DEFAULTS…), so this module loads
// TensorFlow.js with them: the CLI loads it only for the commands that sample.
import { z } from 'zod'
import { ADAPTIVE_SDE_DEFAULTS } from './adaptive-sde'
import { ALD_DEFAULTS } from './annealed-langevin'
import { CORRECTORS } from './correctors'
import { DDIM_DEFAULTS } from './ddim'
import { DPMPP_2M_DEFAULTS } from './dpmpp-2m'
import { DPMPP_3M_SDE_DEFAULTS } from './dpmpp-3m-sde'
import { HEUN_DEFAULTS } from './heun'
import { ODE_DEFAULTS } from './ode'
import { PC_DEFAULTS } from './pc'
import { PREDICTORS } from './predictors'
import { SIGMA_SCHEDULES, type SigmaSchedule } from './schedules'

const names = (o: object) => Object.keys(o) as [string, ...string[]]

/** Settings every sampler takes (shape, callbacks and signal are supplied by the caller, not the user). */
export const CommonSettingsSchema = z.object({
  batchSize: z.number().int().positive().default(64).describe('Samples per batch'),
  seed: z.number().int().nonnegative().default(0).describe('Same seed → same initial noise in every sampler'),
  eps: z.number().positive().lt(1).optional().describe("End time ε (default: the SDE's, 1e-3 VP/tutorial, 1e-5 VE)").meta({ title: 'End time ε' }),
  n: z.number().int().positive().optional().describe("Steps from t = T down to ε (default: the SDE's N); more is slower, usually cleaner").meta({ title: 'Steps' }),
  denoise: z.boolean().default(true).describe('Last step without noise'),
  every: z.number().int().nonnegative().default(0).describe('Report x_t every k steps (0: never)').meta({ title: 'Report every' })
})

const tolerance = (d: number, description: string, title: string) => z.number().positive().default(d).describe(description).meta({ title })

/** PC's settings; the controllable samplers (controllable/index.ts) take the same. */
export const PcSettingsSchema = CommonSettingsSchema.extend({
  predictor: z.enum(names(PREDICTORS)).default(PC_DEFAULTS.predictor).describe('The step down to the next noise level (none: corrector only)'),
  corrector: z.enum(names(CORRECTORS)).default(PC_DEFAULTS.corrector).describe('Run before each predictor step (none: predictor only)'),
  snr: z.number().positive().default(PC_DEFAULTS.snr).describe("Langevin signal-to-noise ratio: sets the corrector's step size").meta({ title: 'SNR' }),
  nSteps: z.number().int().positive().default(PC_DEFAULTS.nSteps).describe('Corrector steps per noise level; each costs one more NFE').meta({ title: 'Corrector steps' }),
  probabilityFlow: z.boolean().default(PC_DEFAULTS.probabilityFlow).describe('Predict along the probability-flow ODE instead of the reverse SDE')
})

export const AldSettingsSchema = CommonSettingsSchema.extend({
  n: z.number().int().min(1).default(ALD_DEFAULTS.nLevels).describe('Noise levels L').meta({ title: 'Noise levels' }),
  sigmaMax: z.number().positive().optional().describe('σ₁, the largest noise level (default std(T))').meta({ title: 'σ max' }),
  sigmaMin: z.number().positive().optional().describe('σ_L, the smallest noise level (default std(eps))').meta({ title: 'σ min' }),
  stepsPerLevel: z.number().int().positive().default(ALD_DEFAULTS.stepsPerLevel).describe('Langevin steps at each noise level (T in NCSN)'),
  stepLr: z.number().positive().default(ALD_DEFAULTS.stepLr).describe('Step size ε of Langevin dynamics: α_i = ε·σ_i²/σ_L²').meta({ title: 'Step size ε' })
})

export const OdeSettingsSchema = CommonSettingsSchema.extend({
  method: z.enum(['rk45', 'rk4', 'euler']).default(ODE_DEFAULTS.method).describe('rk45: adaptive Dormand–Prince; rk4/euler: n fixed steps'),
  rtol: tolerance(ODE_DEFAULTS.rtol, 'Relative tolerance of rk45: smaller is more accurate, costs more NFE', 'rtol'),
  atol: tolerance(ODE_DEFAULTS.atol, 'Absolute tolerance of rk45', 'atol'),
  temperature: z.number().positive().default(ODE_DEFAULTS.temperature).describe('Scales the prior sample x(T) before the flow maps it to data: below 1, smoother and less varied samples (Kingma & Dhariwal\'s temperature)').meta({ title: 'Temperature' })
})

const scheduleField = (d: SigmaSchedule) =>
  z.enum(SIGMA_SCHEDULES).default(d)
    .describe('Noise levels from σ(T) to σ(eps): logSNR (uniform in λ = −ln σ), time_uniform (uniform in t), karras (ρ = 7)')

const noiseLevels = (d: number, description: string) => z.number().int().min(2).default(d).describe(description).meta({ title: 'Noise levels' })

export const DdimSettingsSchema = CommonSettingsSchema.extend({
  n: noiseLevels(DDIM_DEFAULTS.n, 'Noise levels (NFE n with denoise, n − 1 without)'),
  eta: z.number().nonnegative().default(DDIM_DEFAULTS.eta).describe('η: 0 deterministic DDIM, 1 DDPM-like noise').meta({ title: 'η' }),
  schedule: scheduleField(DDIM_DEFAULTS.schedule)
})

export const HeunSettingsSchema = CommonSettingsSchema.extend({
  n: noiseLevels(HEUN_DEFAULTS.n, 'Noise levels (NFE 2n − 1 with denoise, 2n − 2 without)'),
  rho: z.number().positive().default(HEUN_DEFAULTS.rho).describe('ρ of the Karras σ schedule').meta({ title: 'ρ' }),
  sChurn: z.number().nonnegative().default(HEUN_DEFAULTS.sChurn).describe('S_churn: noise re-injected per step (0: deterministic)').meta({ title: 'S_churn' }),
  sTmin: z.number().nonnegative().default(HEUN_DEFAULTS.sTmin).describe('Churn only at σ ≥ sTmin').meta({ title: 'S_tmin' }),
  sTmax: z.number().positive().optional().describe('Churn only at σ ≤ sTmax (default: no limit)').meta({ title: 'S_tmax' }),
  sNoise: z.number().positive().default(HEUN_DEFAULTS.sNoise).describe('S_noise: scale of the churn noise').meta({ title: 'S_noise' })
})

export const Dpmpp2mSettingsSchema = CommonSettingsSchema.extend({
  n: noiseLevels(DPMPP_2M_DEFAULTS.n, 'Noise levels = NFE (n − 1 without denoise)'),
  schedule: scheduleField(DPMPP_2M_DEFAULTS.schedule)
})

export const Dpmpp3mSdeSettingsSchema = CommonSettingsSchema.extend({
  n: noiseLevels(DPMPP_3M_SDE_DEFAULTS.n, 'Noise levels = NFE (n − 1 without denoise)'),
  eta: z.number().nonnegative().default(DPMPP_3M_SDE_DEFAULTS.eta).describe('η: 0 the probability-flow ODE, 1 the reverse SDE').meta({ title: 'η' }),
  schedule: scheduleField(DPMPP_3M_SDE_DEFAULTS.schedule)
})

export const AdaptiveSdeSettingsSchema = CommonSettingsSchema.extend({
  n: z.number().int().positive().optional().describe('Ignored: the step size is adaptive').meta({ title: 'Steps' }),
  atol: tolerance(ADAPTIVE_SDE_DEFAULTS.atol, 'Absolute tolerance (paper: 0.0078 for data in [−1, 1], 0.0039 for [0, 1])', 'atol'),
  rtol: tolerance(ADAPTIVE_SDE_DEFAULTS.rtol, 'Relative tolerance (paper: 0.01–0.1; larger is faster)', 'rtol'),
  safety: z.number().positive().max(1).default(ADAPTIVE_SDE_DEFAULTS.safety).describe('Safety factor on the proposed step'),
  exponent: z.number().positive().default(ADAPTIVE_SDE_DEFAULTS.exponent).describe('Step update h·err^(−exponent)'),
  hInit: z.number().positive().default(ADAPTIVE_SDE_DEFAULTS.hInit).describe('First step size at t = T').meta({ title: 'First step h' }),
  norm: z.enum(['batch', 'sample']).default(ADAPTIVE_SDE_DEFAULTS.norm).describe('Error norm and step size over the whole batch, or per sample as in the paper (biased on low-dimensional data)')
})

/** Bounds of a numeric setting: `gt` leaves the minimum itself out, `lt` the maximum. */
export interface SettingRange {
  min?: number
  max?: number
  gt?: boolean
  lt?: boolean
}

/** One setting of a sampler, as the shells show it (engine.catalog). */
export interface SettingInfo {
  key: string
  /** The field's title, else the key in words (stepsPerLevel → "Steps per level"). */
  label: string
  type: 'number' | 'integer' | 'boolean' | 'choice'
  /** Absent where the sampler works it out (heun's sTmax: no limit; ald's σ max: std(T)). */
  default?: number | string | boolean
  description: string
  /** The names a choice setting takes. */
  choices?: string[]
  range?: SettingRange
}

interface JsonProperty {
  type?: string
  enum?: unknown[]
  default?: unknown
  title?: string
  description?: string
  minimum?: number
  exclusiveMinimum?: number
  maximum?: number
  exclusiveMaximum?: number
}

/** stepsPerLevel → "Steps per level". */
function words(key: string): string {
  const spaced = key.replace(/([A-Z])/g, ' $1').toLowerCase()
  return spaced.charAt(0).toUpperCase() + spaced.slice(1)
}

/** The schema's own bounds, without zod's ±2^53 − 1 for whole numbers. */
function rangeOf(p: JsonProperty): SettingRange | undefined {
  const r: SettingRange = {}
  const finite = (v: number | undefined): v is number => v !== undefined && Math.abs(v) < Number.MAX_SAFE_INTEGER
  if (finite(p.exclusiveMinimum)) Object.assign(r, { min: p.exclusiveMinimum, gt: true })
  else if (finite(p.minimum)) r.min = p.minimum
  if (finite(p.exclusiveMaximum)) Object.assign(r, { max: p.exclusiveMaximum, lt: true })
  else if (finite(p.maximum)) r.max = p.maximum
  return Object.keys(r).length ? r : undefined
}

/**
 * A sampler's settings read from its JSON Schema: its own first, then those every sampler takes
 * (CommonSettingsSchema's), each group in schema order. A setting of another kind than a number,
 * a switch or a fixed set of names is an error: the forms and the CLI could not offer it.
 */
export function describeSettings(schema: z.ZodObject): SettingInfo[] {
  const json = z.toJSONSchema(schema, { io: 'input' }) as { properties?: Record<string, JsonProperty> }
  const common = (key: string) => Object.hasOwn(CommonSettingsSchema.shape, key)
  const properties = Object.entries(json.properties ?? {})
  return [...properties.filter(([key]) => !common(key)), ...properties.filter(([key]) => common(key))].map(([key, p]) => {
    const choices = Array.isArray(p.enum) && p.enum.every((v) => typeof v === 'string') ? (p.enum as string[]) : undefined
    const type = choices ? 'choice' : p.type === 'integer' || p.type === 'number' || p.type === 'boolean' ? p.type : null
    if (!type) throw new Error(`Sampler setting "${key}" is neither a number, a switch nor one of a set of names`)
    const range = type === 'number' || type === 'integer' ? rangeOf(p) : undefined
    return {
      key,
      label: p.title ?? words(key),
      type,
      ...(p.default !== undefined ? { default: p.default as number | string | boolean } : {}),
      description: p.description ?? '',
      ...(choices ? { choices: [...choices] } : {}),
      ...(range ? { range } : {})
    }
  })
}
