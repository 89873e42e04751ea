// score-lab samplers, and the flags of sampler settings that sample, compare and sweep take.
// Both come from engine.catalog's list of each sampler's settings (the engine's registry:
// src/engine/samplers/settings.ts), so a new sampler or setting gets its flag and its line here
// without an edit. The option table is built only on a sampling command line: the catalogue
// loads the engine (TensorFlow.js), which `--help` and `runs list` must not.
import { parseArgs, type ParseArgsConfig } from 'node:util'
import { SAMPLER_SETTING_LIMITS, type ProcOutput } from '../../shared/contract'
import { SAMPLER_ALIASES, samplerKey, samplerShortName } from '../../shared/samplers'
import { UsageError, int, num, type Cli } from '../context'

export type CatalogSampler = ProcOutput<'engine.catalog'>['samplers'][number]
type Setting = CatalogSampler['settings'][number]
type Options = NonNullable<ParseArgsConfig['options']>
type Value = number | string | boolean

/** The commands whose command line takes sampler settings. */
const SAMPLING_COMMANDS = new Set(['sample', 'compare', 'sweep'])

/**
 * Settings the request carries as fields of its own, by the flag that sets each: the registry's
 * n is --steps (--n is the sample count, which is the batch size), and every follows the frames
 * of --gif (whose value is a file, not the setting's).
 */
const REQUEST_FLAGS: Readonly<Record<string, { flag: string; value?: string }>> = {
  batchSize: { flag: 'n' },
  seed: { flag: 'seed' },
  eps: { flag: 'eps' },
  n: { flag: 'steps' },
  every: { flag: 'gif', value: 'FILE.gif' }
}

/** Whether a setting is the sampler's own (its flag sets it in the request's settings), not a field of the request. */
const own = (s: Setting) => !Object.hasOwn(REQUEST_FLAGS, s.key)

/**
 * A setting's flag, without its dashes: the key in kebab case (sChurn → s-churn), no-<key> for a
 * switch that is on by default (--no-denoise), or the flag of the request field that carries it.
 */
export function settingFlag(s: Setting): string {
  if (!own(s)) return REQUEST_FLAGS[s.key]!.flag
  const kebab = s.key.replace(/([A-Z])/g, '-$1').toLowerCase()
  return s.type === 'boolean' && s.default === true ? `no-${kebab}` : kebab
}

/**
 * parseArgs' entries for the samplers' own settings. A flag may be another command's too (--rtol
 * is likelihood's, --sigma-max train's) when it takes the same kind of value.
 */
export function settingOptions(samplers: readonly CatalogSampler[], base: Options = {}): Options {
  const table: Options = {}
  for (const s of samplers.flatMap((x) => x.settings.filter(own))) {
    const flag = settingFlag(s)
    const type = s.type === 'boolean' ? 'boolean' : 'string'
    const before = table[flag] ?? base[flag]
    if (before && before.type !== type) throw new Error(`Sampler setting ${s.key}: --${flag} is already an option that takes a ${before.type}`)
    table[flag] = { type }
  }
  return table
}

/** --rho X, --steps N, --schedule NAME, --probability-flow. */
function flagUsage(s: Setting): string {
  const flag = `--${settingFlag(s)}`
  if (s.type === 'boolean') return flag
  return `${flag} ${REQUEST_FLAGS[s.key]?.value ?? (s.type === 'choice' ? 'NAME' : s.type === 'integer' ? 'N' : 'X')}`
}

/** A range as an interval: (0, 1], [1, 100000], [0, ∞). */
function intervalText(r: Setting['range']): string {
  if (!r) return ''
  const lo = r.min === undefined ? '(−∞' : `${r.gt ? '(' : '['}${r.min}`
  const hi = r.max === undefined ? '∞)' : `${r.max}${r.lt ? ')' : ']'}`
  return `${lo}, ${hi}`
}

/** What each sampler takes, for a message about a flag they do not. */
function takes(samplers: readonly CatalogSampler[]): string {
  return samplers.map((x) => {
    const flags = x.settings.filter(own).map((s) => `--${settingFlag(s)}`)
    return `${x.name} takes ${flags.length ? flags.join(' ') : 'no settings of its own'}`
  }).join('; ')
}

const SEE_ALL = 'score-lab samplers lists every setting with its range'

/**
 * A setting's value from its flag, parsed by its type. Its range is checked here only where the
 * contract has none (heun's sChurn…): the contract's own check names its bounds in words
 * (settings.snr: Langevin signal-to-noise ratio must be…), and the engine's would only come
 * once the job has started.
 */
function settingValue(s: Setting, raw: unknown): Value {
  const flag = settingFlag(s)
  if (s.type === 'boolean') return flag.startsWith('no-') ? raw !== true : raw === true
  const text = String(raw)
  if (s.type === 'choice') {
    if (!s.choices!.includes(text)) throw new UsageError(`--${flag} takes ${s.choices!.join(', ')}, got "${text}"`)
    return text
  }
  const v = s.type === 'integer' ? int(flag, text)! : num(flag, text)!
  const r = Object.hasOwn(SAMPLER_SETTING_LIMITS, s.key) ? undefined : s.range
  const low = r?.min !== undefined && (r.gt ? v <= r.min : v < r.min)
  const high = r?.max !== undefined && (r.lt ? v >= r.max : v > r.max)
  if (low || high) throw new UsageError(`--${flag} must be in ${intervalText(r)}, got ${text}`)
  return v
}

/**
 * The settings each of `samplers` gets from the command line's flags: a flag goes to the samplers
 * that take it (--rtol to ode, --snr to pc). A setting's flag that none of them takes is a usage
 * error naming the flags they do; `all` is every sampler of the catalogue.
 */
export function settingsFromFlags(samplers: readonly CatalogSampler[], flags: Record<string, unknown>, all: readonly CatalogSampler[]): Record<string, Value>[] {
  const settingFlags = new Set(all.flatMap((x) => x.settings.filter(own).map(settingFlag)))
  for (const flag of Object.keys(flags)) {
    if (!settingFlags.has(flag) || flags[flag] === undefined) continue
    if (samplers.some((x) => x.settings.some((s) => own(s) && settingFlag(s) === flag))) continue
    const owners = all.filter((x) => x.settings.some((s) => own(s) && settingFlag(s) === flag)).map((x) => x.name)
    throw new UsageError(`--${flag} is a setting of ${owners.join(', ')}, not of ${samplers.map((x) => x.name).join(', ')}: ${takes(samplers)} (${SEE_ALL})`)
  }
  return samplers.map((x) =>
    Object.fromEntries(x.settings.filter(own).flatMap((s) => (flags[settingFlag(s)] === undefined ? [] : [[s.key, settingValue(s, flags[settingFlag(s)])]])))
  )
}

/** The catalogue's samplers for names on the command line (short or full); an unknown one is a usage error naming them all. */
export function samplersNamed(list: readonly string[], all: readonly CatalogSampler[]): CatalogSampler[] {
  return list.map((given) => {
    const entry = all.find((x) => x.name === samplerKey(given.trim()))
    if (!entry) throw new UsageError(`unknown sampler "${given.trim()}" (choose ${[...Object.keys(SAMPLER_ALIASES), ...all.map((x) => x.name)].join(', ')})`)
    return entry
  })
}

/**
 * On a sampling command line, parseArgs' entries for every sampler setting's flag (none on other
 * command lines, which so load no engine). An option that is neither one of `options` nor a
 * setting's is refused here, naming what the samplers on the line take.
 */
export async function samplingOptions(argv: string[], options: Options): Promise<Options> {
  const { positionals, tokens, values } = parseArgs({ args: argv, options, strict: false, allowPositionals: true, tokens: true })
  if (!SAMPLING_COMMANDS.has(positionals[0] ?? '')) return {}
  const { catalog } = await import('../../lab/catalog')
  const all = catalog().samplers
  const table = settingOptions(all, options)
  // Long options only: a negative number after an option reads here as a short one (parseArgs
  // proper joins it to its option), and -h is the only short option.
  const unknown = tokens.find((t) => t.kind === 'option' && t.rawName.startsWith('--') && !Object.hasOwn(options, t.name) && !Object.hasOwn(table, t.name))
  if (unknown?.kind === 'option') {
    // sample's --sampler (pc when not given), compare's and sweep's --samplers.
    const named = positionals[0] === 'sample' ? [typeof values.sampler === 'string' ? values.sampler : 'pc'] : typeof values.samplers === 'string' ? values.samplers.split(',') : []
    const on = all.filter((x) => named.some((n) => samplerKey(n.trim()) === x.name))
    throw new UsageError(`unknown option ${unknown.rawName}${on.length ? `: ${takes(on)}` : ''} (${SEE_ALL})`)
  }
  return table
}

/** One sampler as `samplers --json` gives it: each setting with its flag. */
function listing(x: CatalogSampler) {
  const short = samplerShortName(x.name)
  return {
    name: x.name,
    ...(short !== x.name ? { alias: short } : {}),
    description: x.description,
    ...(x.sdeDefaults ? { sdeDefaults: x.sdeDefaults } : {}),
    settings: x.settings.map((s) => ({ ...s, flag: `--${settingFlag(s)}`, ...(own(s) ? {} : { requestField: true }) }))
  }
}

const same = (a: Setting, b: Setting) => a.key === b.key && a.description === b.description && a.default === b.default

/** A setting as a line of the listing: its flag, the values it takes and its default, what it does. */
function line(s: Setting): string {
  const values = s.type === 'choice' ? s.choices!.join('|') : intervalText(s.range)
  const dflt = s.default === undefined ? '' : `default ${s.type === 'boolean' ? (s.default ? 'on' : 'off') : String(s.default)}`
  // --gif's value is a file: the setting's range and default are not what it takes.
  const about = REQUEST_FLAGS[s.key]?.value ? `sets ${s.key}: ${s.description}` : s.description
  const takesText = REQUEST_FLAGS[s.key]?.value ? '' : [values, dflt].filter(Boolean).join(', ')
  return `  ${flagUsage(s).padEnd(22)} ${takesText.padEnd(38)} ${about}`
}

/** score-lab samplers [--json]: every sampler, its cost in NFE (in its description) and its settings with their flags. */
export async function samplersCommand(cli: Cli): Promise<number> {
  const { samplers } = await cli.call('engine.catalog', {})
  // The settings every sampler has alike (seed, batch…) once, above the samplers' own.
  const shared = samplers[0]?.settings.filter((s) => samplers.every((x) => x.settings.some((t) => same(s, t)))) ?? []
  cli.say('Every sampler:')
  for (const s of shared) cli.say(line(s))
  for (const x of samplers) {
    const short = samplerShortName(x.name)
    cli.say(`\n${x.name}${short !== x.name ? ` (${short})` : ''}: ${x.description}`)
    for (const s of x.settings.filter((t) => !shared.some((u) => same(u, t)))) cli.say(line(s))
    const bySde = Object.entries(x.sdeDefaults ?? {})
    for (const key of new Set(bySde.flatMap(([, d]) => Object.keys(d)))) {
      cli.say(`  default ${key} by SDE: ${bySde.flatMap(([sde, d]) => (key in d ? [`${sde} ${String(d[key])}`] : [])).join(', ')}`)
    }
  }
  cli.say('\nsample, compare and sweep take these flags; compare and sweep give each to the samplers that take it.')
  cli.result(samplers.map(listing))
  return 0
}
