// The sampler registry: each sampler's name, description and zod schema of its settings (the
// schemas: settings.ts). runSampler checks user settings against the schema and fills defaults;
// listSamplers feeds the lab's engine.catalog, from which the UI's pickers and sampler forms and
// the CLI's sampler names and setting flags come. Also the entry point for the sampling
// functions other layers call directly (re-exported below).
// Adding a sampler: one file plus one entry in SAMPLERS.
import { z } from 'zod'
import { lookup } from '../registry'
import type { ScoreFn, Sde } from '../sde/types'
import { sampleAdaptiveSde } from './adaptive-sde'
import { sampleAld } from './annealed-langevin'
import { sampleDdim } from './ddim'
import { sampleDpmpp2m } from './dpmpp-2m'
import { sampleDpmpp3mSde } from './dpmpp-3m-sde'
import { sampleHeun } from './heun'
import { sampleOde } from './ode'
import { sampleAncestral, sampleEulerMaruyama, samplePc, sampleReverseDiffusion } from './pc'
import {
  AdaptiveSdeSettingsSchema, AldSettingsSchema, CommonSettingsSchema, DdimSettingsSchema, Dpmpp2mSettingsSchema,
  Dpmpp3mSdeSettingsSchema, HeunSettingsSchema, OdeSettingsSchema, PcSettingsSchema, describeSettings, type SettingInfo
} from './settings'
import type { SampleResult, SamplerOptions } from './types'

export { CommonSettingsSchema, PcSettingsSchema }
export type { SettingInfo, SettingRange } from './settings'

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

/** Every sampler with its description, defaults, settings (described for forms and flags) and JSON Schema of settings. */
export function listSamplers(): { name: string; description: string; defaults: Record<string, unknown>; settings: SettingInfo[]; schema: unknown }[] {
  return Object.entries(SAMPLERS).map(([name, e]) => ({
    name,
    description: e.description,
    defaults: e.settings.parse({}) as Record<string, unknown>,
    settings: describeSettings(e.settings),
    schema: z.toJSONSchema(e.settings, { io: 'input' })
  }))
}

export type { SampleResult, SamplerOptions, StepInfo } from './types'
export { samplePc } from './pc'
export { sampleOde } from './ode'
export { logLikelihood } from './likelihood'
export { initialNoise } from './noise'
export { encodeFlow, decodeFlow, slerp, interpolateLatents, type FlowCodecOptions, type FlowCodecResult } from './flow-codec'
