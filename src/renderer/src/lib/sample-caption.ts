// What a sample (or a Compare entry about to run) is called wherever it is shown: the grid
// captions, the cost chart's bars and the exported figure all read sampleCaption/sampleLabels,
// so they cannot disagree. A caption names the settings that ran and only those: the ode
// method with its steps (euler, rk4) or tolerances (rk45), pc's predictor + corrector with
// snr, ald's levels and Langevin steps. Settings that did not apply are left out.
import type { Condition } from '@shared/contract'
import { formatInt, formatNumber } from './format'
import { SHORT, settingApplies } from './sampler-fields'

/** A sample record ({ sampler, settings } with steps as settings.n) or a Compare entry ({ sampler, steps, settings }). */
export interface CaptionSource {
  sampler: string
  settings: Record<string, unknown>
  steps?: number | null
}

/** The part of engine.catalog captions read: each sampler's defaults. */
export interface CaptionCatalog {
  samplers: readonly { name: string; defaults: Record<string, unknown> }[]
}

export interface CaptionOptions {
  /** The SDE's N: the steps of a fixed-step sampler that was given none. */
  sdeN?: number
}

/** Keys of the request itself (batch, seed, trajectory…): the same for every entry of a comparison. */
const REQUEST_KEYS = new Set(['batchSize', 'seed', 'eps', 'every', 'denoise'])

/**
 * The sampler settings that took part in the run: the catalogue defaults for what the source
 * left out, its steps as n (else the SDE's N), minus what does not apply (rk45's n, euler's tolerances…).
 */
export function ranSettings(src: CaptionSource, catalog?: CaptionCatalog | null, opts: CaptionOptions = {}): Record<string, unknown> {
  const defaults = catalog?.samplers.find((s) => s.name === src.sampler)?.defaults ?? {}
  const all: Record<string, unknown> = {}
  for (const [k, v] of [...Object.entries(defaults), ...Object.entries(src.settings)]) {
    if (v !== undefined && v !== null && !REQUEST_KEYS.has(k)) all[k] = v
  }
  if (typeof src.steps === 'number') all.n = src.steps
  if (all.n === undefined && opts.sdeN !== undefined) all.n = opts.sdeN
  const out: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(all)) if (settingApplies(src.sampler, k, all)) out[k] = v
  // A fixed-step sampler always takes steps, even when neither the source nor the SDE says how many.
  if (out.n === undefined && settingApplies(src.sampler, 'n', all)) out.n = null
  return out
}

/** 1e-3, 2.5e-4 for small values (tolerances, step sizes); 0.16, 1,000 otherwise. */
export function formatSetting(v: number): string {
  if (v !== 0 && Math.abs(v) < 0.01) return Number(v.toPrecision(3)).toExponential().replace('e+', 'e')
  return formatNumber(v)
}

const show = (v: unknown): string => (typeof v === 'number' ? formatSetting(v) : String(v))

/** The caption's parts in order: sampler, then its settings (e.g. ['ode', 'euler', '50 steps']). */
export function captionParts(src: CaptionSource, catalog?: CaptionCatalog | null, opts: CaptionOptions = {}): string[] {
  const s = ranSettings(src, catalog, opts)
  const defaults = catalog?.samplers.find((x) => x.name === src.sampler)?.defaults ?? {}
  const parts = [src.sampler]
  const done = new Set<string>()
  const take = (key: string, text: string | null) => {
    done.add(key)
    if (text !== null && key in s) parts.push(text)
  }
  take('method', show(s.method))
  const n = s.n
  const count = typeof n === 'number' ? formatInt(n) : "SDE's N"
  take('n', src.sampler === 'ald' ? `${count} levels` : `${count} steps`)
  if ('predictor' in s || 'corrector' in s) {
    const p = s.predictor === undefined ? undefined : String(s.predictor)
    const c = s.corrector === undefined ? undefined : String(s.corrector)
    const name = (x: string) => SHORT[x] ?? x
    done.add('predictor').add('corrector')
    if (p && c) parts.push(p === 'none' ? `${name(c)} only` : c === 'none' ? `${name(p)} only` : `${name(p)} + ${name(c)}`)
    else if (p || c) parts.push(name((p ?? c)!))
  }
  take('snr', `snr ${show(s.snr)}`)
  take('nSteps', s.nSteps === 1 ? null : `${show(s.nSteps)} corrector steps`)
  take('probabilityFlow', s.probabilityFlow === true ? 'probability flow' : null)
  take('rtol', `rtol ${show(s.rtol)}`)
  take('atol', `atol ${show(s.atol)}`)
  take('stepsPerLevel', `${show(s.stepsPerLevel)} steps/level`)
  take('stepLr', `lr ${show(s.stepLr)}`)
  take('sigmaMax', `σmax ${show(s.sigmaMax)}`)
  take('sigmaMin', `σmin ${show(s.sigmaMin)}`)
  // Settings of samplers added later: named when not their default.
  for (const [k, v] of Object.entries(s)) if (!done.has(k) && v !== defaults[k]) parts.push(`${k} ${show(v)}`)
  if (src.settings.denoise === false) parts.push('no denoise')
  return parts
}

/** e.g. "ode · rk45 · rtol 1e-3 · atol 1e-3", "ode · euler · 50 steps", "pc · 30 steps · rd + langevin · snr 0.16". */
export function sampleCaption(src: CaptionSource, catalog?: CaptionCatalog | null, opts: CaptionOptions = {}): string {
  return captionParts(src, catalog, opts).join(' · ')
}

/**
 * Captions of several samples side by side, each unique: a caption shows every setting that
 * applies, so two equal ones ran the same settings and the later ones get "#2", "#3".
 */
export function sampleLabels(sources: readonly CaptionSource[], catalog?: CaptionCatalog | null, opts: CaptionOptions = {}): string[] {
  const seen = new Map<string, number>()
  return sources.map((src) => {
    const caption = sampleCaption(src, catalog, opts)
    const k = (seen.get(caption) ?? 0) + 1
    seen.set(caption, k)
    return k === 1 ? caption : `${caption} #${k}`
  })
}

/** A caption broken into lines of at most about `width` characters, at its " · " joins (chart axis labels). */
export function wrapCaption(caption: string, width = 22): string[] {
  const lines: string[] = []
  for (const part of caption.split(' · ')) {
    const last = lines.length ? lines[lines.length - 1]! : null
    if (last !== null && last.length + 3 + part.length <= width) lines[lines.length - 1] = `${last} · ${part}`
    else lines.push(part)
  }
  return lines
}

export interface ConditionCaptionOptions {
  /** The record's sample count: the data-set images a condition used are start..start+count−1. */
  count?: number
  /** The data set's class names, to name a class beside its number. */
  classNames?: readonly string[]
}

/**
 * A condition in words, for a sample's caption and the Control history: "class 3 · w 2",
 * "every class · 8 per class · w 2", "inpaint: drawn mask · test 100–163",
 * "inpaint: center region · dropped image", "colorise · train 0–63".
 */
export function conditionCaption(c: Condition, opts: ConditionCaptionOptions = {}): string {
  const weight = c.kind === 'class' || c.kind === 'classes' ? (c.guidance !== undefined ? ` · w ${formatSetting(c.guidance)}` : c.scale !== undefined ? ` · scale ${formatSetting(c.scale)}` : '') : ''
  if (c.kind === 'class') {
    const name = opts.classNames?.[c.label]
    return `class ${c.label}${name && name !== String(c.label) ? ` · ${name}` : ''}${weight}`
  }
  if (c.kind === 'classes') return `every class · ${formatInt(c.perClass)} per class${weight}`
  let source: string
  if (c.image) source = 'dropped image'
  else {
    const start = c.start ?? 0
    const n = opts.count
    source = n === undefined ? `${c.split} set from ${formatInt(start)}` : n <= 1 ? `${c.split} ${formatInt(start)}` : `${c.split} ${formatInt(start)}–${formatInt(start + n - 1)}`
  }
  if (c.kind === 'inpaint') return `inpaint: ${typeof c.mask === 'string' ? `${c.mask} region` : 'drawn mask'} · ${source}`
  return `colorise · ${source}`
}
