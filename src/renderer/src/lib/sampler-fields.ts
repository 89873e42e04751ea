// The settings a sampler takes, as form fields: which keys of its catalog defaults the user
// sets (the lab fills batch size, seed, steps, ε and trajectory itself), a one-line
// explanation of each, and the settings → file-name and caption text used by exports.
import { formatNumber } from './format'

export type SettingValue = number | string | boolean
export type SamplerSettings = Record<string, SettingValue>

/** Keys the request carries itself (count, seed, steps, eps…), never inside `settings`. */
const COMMON = new Set(['batchSize', 'seed', 'eps', 'n', 'denoise', 'every'])

/** One line per setting, in a researcher's words. Unknown keys fall back to their name. */
export const SETTING_HELP: Record<string, string> = {
  steps: 'Steps from t = T down to ε (ald: noise levels L); more is slower, usually cleaner',
  snr: 'Sets the Langevin step size; the default follows the SDE: 0.16 for VE, 0.01 for VP and sub-VP',
  nSteps: 'Corrector steps per noise level; each costs one more NFE',
  predictor: 'The step down to the next noise level (none: corrector only)',
  corrector: 'Run before each predictor step (none: predictor only)',
  probabilityFlow: 'Predict along the probability-flow ODE instead of the reverse SDE',
  method: 'rk45: adaptive, steps set by the tolerances; rk4 / euler: fixed steps',
  rtol: 'Relative tolerance of rk45: smaller is more accurate, costs more NFE',
  atol: 'Absolute tolerance of rk45',
  stepsPerLevel: 'Langevin steps at each noise level (T in NCSN)',
  stepLr: 'Step size ε of Langevin dynamics: α_i = ε·σ_i²/σ_L²',
  eps: "Where the reverse process stops (empty: the SDE's default)",
  seed: 'Same seed → same starting noise in every sampler',
  count: 'Images in the grid (points for a 2-D toy run)',
  useEma: 'Averaged weights from training: usually cleaner samples',
  trajectoryFrames: 'Snapshots of x_t for the scrubber and the GIF (0: none)'
}

/** Labels for the settings whose key does not read well. */
export const SETTING_LABELS: Record<string, string> = {
  snr: 'SNR', nSteps: 'Corrector steps', probabilityFlow: 'Probability flow', rtol: 'rtol', atol: 'atol',
  stepsPerLevel: 'Steps per level', stepLr: 'Step size ε', predictor: 'Predictor', corrector: 'Corrector', method: 'Method'
}

/** Choices for the string settings the engine knows (a text field for any other). */
export const SETTING_CHOICES: Record<string, string[]> = {
  predictor: ['reverse_diffusion', 'euler_maruyama', 'ancestral_sampling', 'none'],
  corrector: ['langevin', 'ald', 'none'],
  method: ['rk45', 'rk4', 'euler']
}

export interface SettingField {
  key: string
  kind: 'number' | 'integer' | 'text' | 'choice' | 'boolean'
  help: string
  choices?: string[]
}

/** The sampler-specific fields: the catalog defaults minus the request's own keys. */
export function samplerFields(defaults: Record<string, unknown>): SettingField[] {
  const fields: SettingField[] = []
  for (const [key, value] of Object.entries(defaults)) {
    if (COMMON.has(key)) continue
    const help = SETTING_HELP[key] ?? key
    if (typeof value === 'boolean') fields.push({ key, kind: 'boolean', help })
    else if (typeof value === 'number') fields.push({ key, kind: Number.isInteger(value) && !/tol|lr|snr/i.test(key) ? 'integer' : 'number', help })
    else if (typeof value === 'string') fields.push(SETTING_CHOICES[key]?.includes(value) ? { key, kind: 'choice', help, choices: SETTING_CHOICES[key] } : { key, kind: 'text', help })
  }
  return fields
}

/**
 * Whether a field ('steps', alias 'n', or a setting) takes part in a run with these settings:
 * the adaptive ode method rk45 chooses its own steps, the fixed-step methods (rk4, euler) have
 * no tolerances, pc without a corrector has no snr or corrector steps, and without a predictor
 * no probability flow. The form hides the others and the captions leave them out.
 */
export function settingApplies(sampler: string, key: string, settings: Record<string, unknown>): boolean {
  if (sampler === 'ode') {
    // rk45 is the engine's default method (ODE_DEFAULTS).
    const adaptive = (settings.method ?? 'rk45') === 'rk45'
    if (key === 'steps' || key === 'n') return !adaptive
    if (key === 'rtol' || key === 'atol') return adaptive
  }
  if (sampler === 'pc') {
    if (key === 'snr' || key === 'nSteps') return settings.corrector !== 'none'
    if (key === 'probabilityFlow') return settings.predictor !== 'none'
  }
  return true
}

/** The sampler's fields that apply to the current settings (see settingApplies). */
export function applicableFields(sampler: string, defaults: Record<string, unknown>, settings: Record<string, unknown>): SettingField[] {
  return samplerFields(defaults).filter((f) => settingApplies(sampler, f.key, { ...defaults, ...settings }))
}

/** The catalog defaults of the sampler's own settings (what the form starts from). */
export function defaultSettings(defaults: Record<string, unknown>): SamplerSettings {
  const out: SamplerSettings = {}
  for (const f of samplerFields(defaults)) out[f.key] = defaults[f.key] as SettingValue
  return out
}

/** A catalogue sampler entry: its defaults, and those that depend on the SDE (pc's snr), by SDE name. */
export interface SamplerDefaultsEntry {
  defaults: Record<string, unknown>
  sdeDefaults?: Record<string, Record<string, unknown>>
}

/**
 * The defaults a sampler starts from on a run with this SDE: the catalogue's, with the
 * SDE-dependent ones (src/lab/catalog.ts SDE_SAMPLER_DEFAULTS, e.g. pc's snr 0.01 on VP) put in.
 * Without an SDE (no run chosen yet) the plain defaults.
 */
export function defaultsForSde(entry: SamplerDefaultsEntry | undefined, sdeName: string | undefined): Record<string, unknown> | undefined {
  if (!entry) return undefined
  const bySde = sdeName ? entry.sdeDefaults?.[sdeName] : undefined
  return bySde ? { ...entry.defaults, ...bySde } : entry.defaults
}

/**
 * A choice moved to a run with another SDE: each SDE-dependent setting still at the old SDE's
 * default (or the plain default) takes the new SDE's; values the user typed stay.
 */
export function retargetChoice<C extends { settings: SamplerSettings }>(choice: C, entry: SamplerDefaultsEntry | undefined, fromSde: string | undefined, toSde: string | undefined): C {
  if (!entry?.sdeDefaults) return choice
  const before = defaultsForSde(entry, fromSde) ?? {}
  const after = defaultsForSde(entry, toSde) ?? {}
  const keys = new Set(Object.values(entry.sdeDefaults).flatMap((d) => Object.keys(d)))
  const settings = { ...choice.settings }
  let changed = false
  for (const key of keys) {
    const v = settings[key]
    if (v === undefined || !(v === before[key] || v === entry.defaults[key])) continue
    if (after[key] !== undefined && after[key] !== v) {
      settings[key] = after[key] as SettingValue
      changed = true
    }
  }
  return changed ? { ...choice, settings } : choice
}

/** Steps the sampler starts from: ald's L from its defaults, else the SDE's N. */
export function defaultSteps(defaults: Record<string, unknown>, sdeN: number | undefined): number | undefined {
  return typeof defaults.n === 'number' ? defaults.n : sdeN
}

/** A problem with one field's value, in words, or null. */
export function checkSetting(field: SettingField, value: SettingValue | undefined): string | null {
  if (field.kind === 'number' || field.kind === 'integer') {
    if (typeof value !== 'number' || !Number.isFinite(value)) return 'Enter a number.'
    if (value <= 0) return 'Must be more than 0.'
    if (field.kind === 'integer' && !Number.isInteger(value)) return 'Must be a whole number.'
  }
  if (field.kind === 'text' && (typeof value !== 'string' || !value.trim())) return 'Enter a value.'
  return null
}

/** Settings that differ from the defaults, as short name=value parts for file names and captions. */
export function settingParts(settings: Record<string, unknown>, defaults: Record<string, unknown>): string[] {
  const keys = ['snr', 'rtol', 'atol', 'method', 'predictor', 'corrector', 'nSteps', 'stepLr', 'stepsPerLevel']
  const parts: string[] = []
  for (const key of keys) {
    const v = settings[key]
    if (v === undefined) continue
    if (key !== 'snr' && v === defaults[key]) continue
    parts.push(`${key}${typeof v === 'number' ? formatNumber(v) : String(v)}`)
  }
  return parts
}

/** Short names of samplers and predictors, for file names and captions. */
export const SHORT: Record<string, string> = { euler_maruyama: 'em', reverse_diffusion: 'rd', ancestral_sampling: 'ancestral' }

/** e.g. fashion-mnist_pc_snr0.16_seed0.png — safe on every file system. */
export function sampleFileName(o: {
  dataset: string; sampler: string; steps?: number; settings: Record<string, unknown>; defaults?: Record<string, unknown>; seed: number; ext: string
}): string {
  const parts = [o.dataset, SHORT[o.sampler] ?? o.sampler, ...(o.steps ? [`n${o.steps}`] : []), ...settingParts(o.settings, o.defaults ?? {}), `seed${o.seed}`]
  return `${parts.join('_').replace(/[^A-Za-z0-9._-]+/g, '-')}.${o.ext}`
}

/** Every problem of a sampler choice, by field key ('steps' or a setting), in words. */
export function choiceProblems(c: { sampler: string; steps: number | null; settings: SamplerSettings }, defaults: Record<string, unknown> | undefined): Record<string, string> {
  const problems: Record<string, string> = {}
  if (!c.sampler || !defaults) {
    problems.sampler = 'Choose a sampler.'
    return problems
  }
  // Only the fields shown: a hidden one (steps of rk45, rtol of euler…) does not take part in the run.
  if (c.steps !== null && settingApplies(c.sampler, 'steps', { ...defaults, ...c.settings }) && (!Number.isInteger(c.steps) || c.steps < 1 || c.steps > 100_000)) {
    problems.steps = 'A whole number from 1 to 100,000.'
  }
  for (const f of applicableFields(c.sampler, defaults, c.settings)) {
    const p = checkSetting(f, c.settings[f.key])
    if (p) problems[f.key] = p
  }
  return problems
}

export type CommonProblems = Partial<Record<'seed' | 'count' | 'eps' | 'frames', string>>

/** Problems of the settings every sample shares (and of the trajectory frame count). */
export function commonProblems(c: { seed: number; count: number; eps: number | null }, frames = 0): CommonProblems {
  const p: CommonProblems = {}
  if (!Number.isInteger(c.seed) || c.seed < 0 || c.seed > 2 ** 31 - 1) p.seed = 'A whole number ≥ 0.'
  if (!Number.isInteger(c.count) || c.count < 1 || c.count > 4096) p.count = 'A whole number from 1 to 4096.'
  if (c.eps !== null && !(c.eps > 0 && c.eps < 1)) p.eps = 'Between 0 and 1 (e.g. 1e-3), or empty.'
  if (!Number.isInteger(frames) || frames < 0 || frames > 200) p.frames = 'A whole number from 0 to 200.'
  return p
}

/** A sampler with its catalogue defaults: what choosing it in a picker starts from. */
export function initialChoice(sampler: string, defaults: Record<string, unknown> | undefined): { sampler: string; steps: number | null; settings: SamplerSettings } {
  return { sampler, steps: defaults ? (defaultSteps(defaults, undefined) ?? null) : null, settings: defaults ? defaultSettings(defaults) : {} }
}
