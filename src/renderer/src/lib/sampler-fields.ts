// The settings a sampler takes, as form fields: each setting engine.catalog lists for it (the
// engine's registry: key, label, description, type, default, range, choices) except those the
// request carries itself (the lab fills batch size, seed, steps, ε and trajectory), the problems
// of their values in words, and the settings → file-name text used by exports.
import { LIMITS, SAMPLER_SETTING_LIMITS, rangeText, ranged, type NumRange, type ProcOutput } from '@shared/contract'
import { SAMPLER_SHORT_NAMES } from '@shared/samplers'
import { formatNumber } from './format'

export type SettingValue = number | string | boolean
export type SamplerSettings = Record<string, SettingValue>

/** A sampler's setting as engine.catalog lists it. */
export type CatalogSetting = ProcOutput<'engine.catalog'>['samplers'][number]['settings'][number]
/** A numeric setting's bounds: `gt` leaves the minimum out, `lt` the maximum. */
export type SettingRange = NonNullable<CatalogSetting['range']>

/**
 * Settings the request carries as fields of its own, never inside `settings`: batchSize is the
 * count, n the steps, every follows the trajectory frames; the form has its own fields for them.
 */
const COMMON = new Set(['batchSize', 'seed', 'eps', 'n', 'every'])

/** One line for each of the request's own fields (the sampler settings' come from the catalogue). */
export const SETTING_HELP: Record<string, string> = {
  eps: "Where the reverse process stops (empty: the SDE's default)",
  seed: 'Same seed → same starting noise in every sampler',
  count: 'Images in the grid (points for a 2-D toy run)',
  useEma: 'Averaged weights from training: usually cleaner samples',
  trajectoryFrames: 'Snapshots of x_t for the scrubber and the GIF (0: none)'
}

/** The values a string setting takes, by key: a catalogue sampler's `choices` (from the engine's registries). */
export type SettingChoices = Record<string, string[]>

export interface SettingField {
  key: string
  kind: 'number' | 'integer' | 'text' | 'choice' | 'boolean'
  label: string
  help: string
  choices?: string[]
  /** A numeric setting's range, when it has one. */
  range?: SettingRange
  /** No default: empty leaves it to the sampler (heun's sTmax: no limit). */
  optional?: boolean
}

/** The sampler's own fields, from its catalogue settings (in the registry's order), minus the request's keys. */
export function settingFields(settings: readonly CatalogSetting[]): SettingField[] {
  return settings.filter((s) => !COMMON.has(s.key)).map((s) => ({
    key: s.key,
    kind: s.type,
    label: s.label,
    help: s.description,
    ...(s.choices ? { choices: s.choices } : {}),
    ...(s.range ? { range: s.range } : {}),
    ...(s.default === undefined ? { optional: true } : {})
  }))
}

/**
 * The sampler-specific fields read from its catalogue defaults alone, for callers that have only
 * those: no optional settings, no labels or help, and bounds only where the contract has them
 * (SAMPLER_SETTING_LIMITS). A string setting with catalogue `choices` is a pick list, any other a text field.
 */
export function samplerFields(defaults: Record<string, unknown>, choices: SettingChoices = {}): SettingField[] {
  const fields: SettingField[] = []
  for (const [key, value] of Object.entries(defaults)) {
    if (COMMON.has(key)) continue
    const limit = Object.hasOwn(SAMPLER_SETTING_LIMITS, key) ? SAMPLER_SETTING_LIMITS[key]! : undefined
    const options = Object.hasOwn(choices, key) ? choices[key] : undefined
    const about = { key, label: key, help: key }
    if (typeof value === 'boolean') fields.push({ ...about, kind: 'boolean' })
    else if (typeof value === 'number') fields.push({ ...about, kind: limit?.int ? 'integer' : 'number', ...(limit ? { range: limit } : {}) })
    else if (typeof value === 'string') fields.push(options?.includes(value) ? { ...about, kind: 'choice', choices: options } : { ...about, kind: 'text' })
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

/** What the form knows of a catalogue sampler: its defaults and, where the caller has them, its settings. */
export interface SamplerFieldSource {
  defaults: Record<string, unknown>
  settings?: readonly CatalogSetting[]
}

/** The sampler's fields: from its catalogue settings, else read from its defaults (samplerFields). */
function fieldsOf(source: SamplerFieldSource): SettingField[] {
  return source.settings ? settingFields(source.settings) : samplerFields(source.defaults)
}

/** The sampler's fields that apply to the current settings (see settingApplies). */
export function applicableFields(sampler: string, source: SamplerFieldSource, settings: Record<string, unknown>): SettingField[] {
  return fieldsOf(source).filter((f) => settingApplies(sampler, f.key, { ...source.defaults, ...settings }))
}

/** The catalog defaults of the sampler's own settings (what the form starts from). */
export function defaultSettings(defaults: Record<string, unknown>): SamplerSettings {
  const out: SamplerSettings = {}
  for (const f of samplerFields(defaults)) out[f.key] = defaults[f.key] as SettingValue
  return out
}

/**
 * A catalogue sampler entry: its defaults, those that depend on the SDE (pc's snr), by SDE name,
 * and those that depend on the data range (adaptive_sde's atol), by range.
 */
export interface SamplerDefaultsEntry {
  defaults: Record<string, unknown>
  sdeDefaults?: Record<string, Record<string, unknown>>
  rangeDefaults?: { centered?: Record<string, unknown>; zeroOne?: Record<string, unknown> }
}

/**
 * The defaults a sampler starts from on a run with this SDE and data range (`centered`): the
 * catalogue's, with the run-dependent ones (src/lab/catalog.ts SDE_SAMPLER_DEFAULTS, e.g. pc's
 * snr 0.01 on VP; DATA_RANGE_SAMPLER_DEFAULTS, e.g. adaptive_sde's atol 0.0039 for [0, 1]) put
 * in, as the jobs fill them. Without a run (none chosen yet) the plain defaults.
 */
export function defaultsForSde(entry: SamplerDefaultsEntry | undefined, sdeName: string | undefined, centered?: boolean): Record<string, unknown> | undefined {
  if (!entry) return undefined
  const bySde = sdeName ? entry.sdeDefaults?.[sdeName] : undefined
  const byRange = centered === undefined ? undefined : entry.rangeDefaults?.[centered ? 'centered' : 'zeroOne']
  return bySde || byRange ? { ...entry.defaults, ...bySde, ...byRange } : entry.defaults
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

/** Whether a number lies in a range, as the contract checks it (one owner: LIMITS). */
function fits(r: NumRange, value: number): boolean {
  return ranged(r).safeParse(value).success
}

/** A range as a sentence: "A whole number from 1 to 4096." */
function rangeSentence(r: NumRange): string {
  const text = rangeText(r)
  return `${text.charAt(0).toUpperCase()}${text.slice(1)}.`
}

const showBound = (n: number) => (Number.isInteger(n) ? n.toLocaleString('en-US') : String(n))

/** A problem with one field's value, in words, or null. */
export function checkSetting(field: SettingField, value: SettingValue | undefined): string | null {
  if (field.kind === 'number' || field.kind === 'integer') {
    if (value === undefined && field.optional) return null
    if (typeof value !== 'number' || !Number.isFinite(value)) return 'Enter a number.'
    if (field.kind === 'integer' && !Number.isInteger(value)) return 'Must be a whole number.'
    const r = field.range
    if (r?.max !== undefined && (r.lt ? value >= r.max : value > r.max)) return r.lt ? `Must be less than ${showBound(r.max)}.` : `At most ${showBound(r.max)}.`
    if (r?.min !== undefined && (r.gt ? value <= r.min : value < r.min)) return r.gt ? `Must be more than ${showBound(r.min)}.` : `Must be at least ${showBound(r.min)}.`
  }
  if (field.kind === 'text' && (typeof value !== 'string' || !value.trim())) return 'Enter a value.'
  return null
}

/**
 * The sampler's own settings that differ from the defaults, as short name+value parts for file
 * names (snr always: its default follows the SDE). The request's keys (n as steps, seed) are not parts.
 */
export function settingParts(settings: Record<string, unknown>, defaults: Record<string, unknown>): string[] {
  const parts: string[] = []
  for (const [key, v] of Object.entries(settings)) {
    if (v === undefined || v === null || COMMON.has(key)) continue
    if (key !== 'snr' && v === defaults[key]) continue
    parts.push(typeof v === 'boolean' ? (v ? key : `no-${key}`) : `${key}${typeof v === 'number' ? formatNumber(v) : String(v)}`)
  }
  return parts
}

/** Short names of samplers and predictors, for file names and captions (src/shared/samplers.ts). */
export const SHORT: Readonly<Record<string, string>> = SAMPLER_SHORT_NAMES

/** e.g. fashion-mnist_pc_snr0.16_seed0.png — safe on every file system. */
export function sampleFileName(o: {
  dataset: string; sampler: string; steps?: number; settings: Record<string, unknown>; defaults?: Record<string, unknown>; seed: number; ext: string
}): string {
  const parts = [o.dataset, SHORT[o.sampler] ?? o.sampler, ...(o.steps ? [`n${o.steps}`] : []), ...settingParts(o.settings, o.defaults ?? {}), `seed${o.seed}`]
  return `${parts.join('_').replace(/[^A-Za-z0-9._-]+/g, '-')}.${o.ext}`
}

/**
 * The bounds of a sampler's steps: its n's in the catalogue (ddim, heun and DPM-Solver++ take at
 * least 2), else the contract's.
 */
export function stepsRange(settings: readonly CatalogSetting[] | undefined): NumRange {
  const r = settings?.find((s) => s.key === 'n')?.range
  const { min, max } = LIMITS.samplerSteps
  return r ? { ...LIMITS.samplerSteps, min: Math.max(min, r.min ?? min), max: Math.min(max, r.max ?? max) } : LIMITS.samplerSteps
}

/**
 * Every problem of a sampler choice, by field key ('steps' or a setting), in words. With the
 * sampler's catalogue `settings`, every setting is checked against its own range; callers that
 * pass only the defaults get their fields' checks (samplerFields).
 */
export function choiceProblems(c: { sampler: string; steps: number | null; settings: SamplerSettings }, defaults: Record<string, unknown> | undefined, settings?: readonly CatalogSetting[]): Record<string, string> {
  const problems: Record<string, string> = {}
  if (!c.sampler || !defaults) {
    problems.sampler = 'Choose a sampler.'
    return problems
  }
  // Only the fields shown: a hidden one (steps of rk45, rtol of euler…) does not take part in the run.
  const steps = stepsRange(settings)
  if (c.steps !== null && settingApplies(c.sampler, 'steps', { ...defaults, ...c.settings }) && !fits(steps, c.steps)) {
    problems.steps = rangeSentence(steps)
  }
  for (const f of applicableFields(c.sampler, { defaults, ...(settings ? { settings } : {}) }, c.settings)) {
    const p = checkSetting(f, c.settings[f.key])
    if (p) problems[f.key] = p
  }
  return problems
}

export type CommonProblems = Partial<Record<'seed' | 'count' | 'eps' | 'frames', string>>

/** Problems of the settings every sample shares (and of the trajectory frame count). */
export function commonProblems(c: { seed: number; count: number; eps: number | null }, frames = 0): CommonProblems {
  const p: CommonProblems = {}
  if (!fits(LIMITS.seed, c.seed)) p.seed = c.seed > LIMITS.seed.max ? rangeSentence(LIMITS.seed) : `A whole number ≥ ${LIMITS.seed.min}.`
  if (!fits(LIMITS.count, c.count)) p.count = rangeSentence(LIMITS.count)
  if (c.eps !== null && !fits(LIMITS.eps, c.eps)) p.eps = `${rangeSentence(LIMITS.eps).slice(0, -1)} (e.g. 1e-3), or empty.`
  if (!fits(LIMITS.trajectoryFrames, frames)) p.frames = rangeSentence(LIMITS.trajectoryFrames)
  return p
}

/** A sampler with its catalogue defaults: what choosing it in a picker starts from. */
export function initialChoice(sampler: string, defaults: Record<string, unknown> | undefined): { sampler: string; steps: number | null; settings: SamplerSettings } {
  return { sampler, steps: defaults ? (defaultSteps(defaults, undefined) ?? null) : null, settings: defaults ? defaultSettings(defaults) : {} }
}
