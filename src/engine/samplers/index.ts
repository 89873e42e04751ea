// The sampler registry: each sampler's name, description and zod schema of its settings.
// runSampler checks user settings against the schema and fills defaults; listSamplers feeds the
// lab's engine.catalog, from which the UI's pickers and the CLI's sampler names come. Also the
// entry point for the sampling functions other layers call directly (re-exported below).
// Adding a sampler: one file plus one entry in SAMPLERS.
import { z } from 'zod'
import { lookup } from '../registry'
import type { ScoreFn, Sde } from '../sde/types'
import { sampleAdaptiveSde, ADAPTIVE_SDE_DEFAULTS } from './adaptive-sde'
import { sampleAld, ALD_DEFAULTS } from './annealed-langevin'
import { CORRECTORS } from './correctors'
import { sampleDdim, DDIM_DEFAULTS } from './ddim'
import { sampleDpmpp2m, DPMPP_2M_DEFAULTS } from './dpmpp-2m'
import { sampleDpmpp3mSde, DPMPP_3M_SDE_DEFAULTS } from './dpmpp-3m-sde'
import { sampleHeun, HEUN_DEFAULTS } from './heun'
import { sampleOde, ODE_DEFAULTS } from './ode'
import { PC_DEFAULTS, sampleAncestral, sampleEulerMaruyama, samplePc, sampleReverseDiffusion } from './pc'
import { PREDICTORS } from './predictors'
import { SIGMA_SCHEDULES, type SigmaSchedule } from './schedules'
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

const scheduleField = (d: SigmaSchedule) =>
  z.enum(SIGMA_SCHEDULES).default(d)
    .describe('Noise levels from σ(T) to σ(eps): logSNR (uniform in λ = −ln σ), time_uniform (uniform in t), karras (ρ = 7)')

const DdimSettingsSchema = CommonSettingsSchema.extend({
  n: z.number().int().min(2).default(DDIM_DEFAULTS.n).describe('Noise levels (NFE n with denoise, n − 1 without)'),
  eta: z.number().nonnegative().default(DDIM_DEFAULTS.eta).describe('η: 0 deterministic DDIM, 1 DDPM-like noise'),
  schedule: scheduleField(DDIM_DEFAULTS.schedule)
})

const HeunSettingsSchema = CommonSettingsSchema.extend({
  n: z.number().int().min(2).default(HEUN_DEFAULTS.n).describe('Noise levels (NFE 2n − 1 with denoise, 2n − 2 without)'),
  rho: z.number().positive().default(HEUN_DEFAULTS.rho).describe('ρ of the Karras σ schedule'),
  sChurn: z.number().nonnegative().default(HEUN_DEFAULTS.sChurn).describe('S_churn: noise re-injected per step (0: deterministic)'),
  sTmin: z.number().nonnegative().default(HEUN_DEFAULTS.sTmin).describe('Churn only at σ ≥ sTmin'),
  sTmax: z.number().positive().optional().describe('Churn only at σ ≤ sTmax (default: no limit)'),
  sNoise: z.number().positive().default(HEUN_DEFAULTS.sNoise).describe('S_noise: scale of the churn noise')
})

const Dpmpp2mSettingsSchema = CommonSettingsSchema.extend({
  n: z.number().int().min(2).default(DPMPP_2M_DEFAULTS.n).describe('Noise levels = NFE (n − 1 without denoise)'),
  schedule: scheduleField(DPMPP_2M_DEFAULTS.schedule)
})

const Dpmpp3mSdeSettingsSchema = CommonSettingsSchema.extend({
  n: z.number().int().min(2).default(DPMPP_3M_SDE_DEFAULTS.n).describe('Noise levels = NFE (n − 1 without denoise)'),
  eta: z.number().nonnegative().default(DPMPP_3M_SDE_DEFAULTS.eta).describe('η: 0 the probability-flow ODE, 1 the reverse SDE'),
  schedule: scheduleField(DPMPP_3M_SDE_DEFAULTS.schedule)
})

const AdaptiveSdeSettingsSchema = CommonSettingsSchema.extend({
  n: z.number().int().positive().optional().describe('Ignored: the step size is adaptive'),
  atol: z.number().positive().default(ADAPTIVE_SDE_DEFAULTS.atol).describe('Absolute tolerance (paper: 0.0078 for data in [−1, 1], 0.0039 for [0, 1])'),
  rtol: z.number().positive().default(ADAPTIVE_SDE_DEFAULTS.rtol).describe('Relative tolerance (paper: 0.01–0.1; larger is faster)'),
  safety: z.number().positive().max(1).default(ADAPTIVE_SDE_DEFAULTS.safety).describe('Safety factor on the proposed step'),
  exponent: z.number().positive().default(ADAPTIVE_SDE_DEFAULTS.exponent).describe('Step update h·err^(−exponent)'),
  hInit: z.number().positive().default(ADAPTIVE_SDE_DEFAULTS.hInit).describe('First step size at t = T'),
  norm: z.enum(['batch', 'sample']).default(ADAPTIVE_SDE_DEFAULTS.norm).describe('Error norm and step size over the whole batch, or per sample as in the paper (biased on low-dimensional data)')
})

type RunFn = (scoreFn: ScoreFn, sde: Sde, opts: SamplerOptions & Record<string, unknown>) => Promise<SampleResult>

export interface SamplerEntry {
  description: string
  settings: z.ZodObject
  run: RunFn
  /** Score evaluations of a run with n steps and these (parsed) settings; null where the solver picks its own steps. */
  nfe: (n: number, settings: Record<string, unknown>) => number | null
}

type Parsed = Record<string, unknown>
const denoised = (s: Parsed) => s.denoise !== false
/** One evaluation per step (the denoising last step reuses the last one). */
const perStep = (n: number) => n

export const SAMPLERS: Readonly<Record<string, SamplerEntry>> = {
  euler_maruyama: { description: 'Euler–Maruyama on the reverse SDE (NFE n)', settings: CommonSettingsSchema, run: sampleEulerMaruyama, nfe: perStep },
  reverse_diffusion: { description: 'Reverse-diffusion predictor alone (NFE n)', settings: CommonSettingsSchema, run: sampleReverseDiffusion, nfe: perStep },
  ancestral_sampling: { description: 'DDPM/SMLD ancestral sampling, VE and VP (NFE n)', settings: CommonSettingsSchema, run: sampleAncestral, nfe: perStep },
  pc: {
    description: 'Predictor–corrector: corrector first, then predictor, as score_sde (NFE n·(1 + nSteps))',
    settings: PcSettingsSchema,
    run: samplePc as RunFn,
    nfe: (n, s) => n * ((s.predictor === 'none' ? 0 : 1) + (s.corrector === 'none' ? 0 : (s.nSteps as number)))
  },
  ald: { description: 'Annealed Langevin dynamics of NCSN (NFE L·T)', settings: AldSettingsSchema, run: sampleAld as RunFn, nfe: (n, s) => n * (s.stepsPerLevel as number) + (denoised(s) ? 1 : 0) },
  ode: { description: 'Probability-flow ODE, adaptive RK45 or fixed-step (NFE reported)', settings: OdeSettingsSchema, run: sampleOde as RunFn, nfe: (n, s) => (s.method === 'rk45' ? null : s.method === 'rk4' ? 4 * n : n) },
  ddim: { description: 'DDIM (Song, Meng, Ermon 2021): η = 0 deterministic, η > 0 stochastic (NFE n)', settings: DdimSettingsSchema, run: sampleDdim as RunFn, nfe: (n, s) => (denoised(s) ? n : n - 1) },
  heun: { description: "EDM Heun, Karras et al. 2022 Algorithm 2, Karras σ schedule, optional churn (NFE 2n − 1)", settings: HeunSettingsSchema, run: sampleHeun as RunFn, nfe: (n, s) => (denoised(s) ? 2 * n - 1 : 2 * n - 2) },
  dpmpp_2m: { description: 'DPM-Solver++(2M), Lu et al. 2022: multistep data prediction in λ (NFE n)', settings: Dpmpp2mSettingsSchema, run: sampleDpmpp2m as RunFn, nfe: (n, s) => (denoised(s) ? n : n - 1) },
  dpmpp_3m_sde: { description: 'DPM-Solver++(3M) SDE, Lu et al. 2022: third-order multistep, η-scaled noise (NFE n)', settings: Dpmpp3mSdeSettingsSchema, run: sampleDpmpp3mSde as RunFn, nfe: (n, s) => (denoised(s) ? n : n - 1) },
  adaptive_sde: { description: "Gotta Go Fast (Jolicoeur-Martineau et al. 2021): adaptive EM + improved Euler (NFE 2 per attempt + 1, reported)", settings: AdaptiveSdeSettingsSchema, run: sampleAdaptiveSde as RunFn, nfe: () => null }
}

/**
 * What a sampler's runs cost with these settings: adaptive (the solver picks its steps), or the
 * steps that come closest to a target NFE (never below the sampler's minimum).
 */
export function samplerCost(name: string, settings: Record<string, unknown>): { adaptive: true } | { adaptive: false; nfeOf: (n: number) => number; stepsFor: (nfe: number) => number } {
  const entry = getSampler(name)
  const parsed = entry.settings.parse({ ...settings, n: undefined }) as Parsed
  if (entry.nfe(10, parsed) === null) return { adaptive: true }
  const minN = minSteps(entry)
  const nfeOf = (n: number) => entry.nfe(n, parsed)!
  const stepsFor = (target: number) => {
    let best = minN
    for (let n = minN; nfeOf(n) <= 2 * target + 2 && n <= 100_000; n++) if (Math.abs(nfeOf(n) - target) < Math.abs(nfeOf(best) - target)) best = n
    return best
  }
  return { adaptive: false, nfeOf, stepsFor }
}

/** The smallest n a sampler's settings accept (DDIM, Heun and DPM-Solver++ need 2 noise levels). */
function minSteps(entry: SamplerEntry): number {
  for (let n = 1; n <= 3; n++) if (entry.settings.safeParse({ n }).success) return n
  return 1
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
