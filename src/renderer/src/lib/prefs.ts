// What the lab remembers between panel switches and reloads, in localStorage: one key per
// section (the panel and selected run, run colours, a run's chart, its Sample and Compare
// forms), under the data folder, so two labs on two folders never mix. Each value is stored as
// { v: PREFS_VERSION, data } and validated on read: a missing, unparsable or other-version value
// gives the defaults, and within a section each malformed field falls back to its own default.
// Pure (no storage here); usePersistentState reads and writes these through localStorage.
import { z } from 'zod'
import { LIMITS, ranged } from '@shared/contract'

export const PREFS_VERSION = 1

/** The panels of App.vue, in their order (Alt+1…). */
export const PANEL_IDS = ['system', 'runs', 'training', 'datasets', 'sample', 'control', 'compare', 'studies'] as const
export type PanelId = (typeof PANEL_IDS)[number]

/** Where one section of one data folder's state lives in localStorage. */
export function prefsKey(dataDir: string, section: string): string {
  return `score-lab/${encodeURIComponent(dataDir)}/${section}`
}

/** A run's own sections: its chart, its Sample form, its Control form, its Compare form. */
export function runSection(runId: string, section: 'chart' | 'sample' | 'control' | 'compare'): string {
  return `run/${encodeURIComponent(runId)}/${section}`
}

/** A stored value as text: its data in a versioned envelope. */
export function encodePrefs(data: unknown): string {
  return JSON.stringify({ v: PREFS_VERSION, data })
}

/** The data of a stored value, read by `parse` (which never throws); the defaults for anything else. */
export function decodePrefs<T>(raw: string | null | undefined, parse: (data: unknown) => T): T {
  if (typeof raw !== 'string') return parse(undefined)
  let doc: unknown
  try {
    doc = JSON.parse(raw)
  } catch {
    return parse(undefined)
  }
  const ok = typeof doc === 'object' && doc !== null && !Array.isArray(doc) && (doc as { v?: unknown }).v === PREFS_VERSION
  return parse(ok ? (doc as { data?: unknown }).data : undefined)
}

const finite = z.number().refine(Number.isFinite)
const RUN_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/
const runId = z.string().regex(RUN_ID)
const obj = (data: unknown): Record<string, unknown> => (typeof data === 'object' && data !== null && !Array.isArray(data) ? (data as Record<string, unknown>) : {})
/** One field: its value when valid, else the fallback. */
function field<T>(schema: z.ZodType<T>, value: unknown, fallback: T): T {
  const r = schema.safeParse(value)
  return r.success ? r.data : fallback
}

// ---- the panel and the selected run ----

export interface UiPrefs {
  panel: PanelId | null
  /** The run selected in Runs (shown in Training). */
  runId: string | null
  /** The run chosen in Sample and Compare. */
  sampleRunId: string | null
}

export function parseUiPrefs(data: unknown): UiPrefs {
  const d = obj(data)
  return {
    panel: field(z.enum(PANEL_IDS).nullable(), d.panel, null),
    runId: field(runId.nullable(), d.runId, null),
    sampleRunId: field(runId.nullable(), d.sampleRunId, null)
  }
}

/** The Runs panel's hyper-parameter table. */
export interface RunsComparePrefs {
  /** Only the settings on which the ticked runs differ. */
  onlyDifferences: boolean
}

export function parseRunsComparePrefs(data: unknown): RunsComparePrefs {
  return { onlyDifferences: field(z.boolean(), obj(data).onlyDifferences, false) }
}

// ---- run colours ----

const COLOR = /^#[0-9a-f]{6}$/i
export const isColor = (v: unknown): v is string => typeof v === 'string' && COLOR.test(v)

/** Run id → #rrggbb; entries with a bad id or colour are dropped one by one. */
export function parseColors(data: unknown): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [id, color] of Object.entries(obj(data))) if (RUN_ID.test(id) && isColor(color)) out[id] = color.toLowerCase()
  return out
}

/**
 * Colours for runs that have none yet, in the order given (oldest first): each takes the palette
 * colour fewest runs use so far (the earliest on a tie), so the curves on a chart tell apart and a
 * run keeps its colour when others come and go.
 */
export function assignColors(ids: readonly string[], colors: Readonly<Record<string, string>>, palette: readonly string[]): Record<string, string> {
  const uses = new Map(palette.map((c) => [c.toLowerCase(), 0]))
  for (const id of ids) {
    const c = colors[id]?.toLowerCase()
    if (c && uses.has(c)) uses.set(c, uses.get(c)! + 1)
  }
  const added: Record<string, string> = {}
  for (const id of ids) {
    if (colors[id] || !palette.length) continue
    let best = palette[0]!.toLowerCase()
    for (const [c, n] of uses) if (n < uses.get(best)!) best = c
    uses.set(best, uses.get(best)! + 1)
    added[id] = best
  }
  return added
}

// ---- a run's loss chart ----

export type ChartXAxis = 'step' | 'epoch' | 'relative' | 'wall'
export type Normalize = 'off' | 'first' | 'minmax'
export type Range = [number, number]
export interface ChartPrefs {
  yScale: 'linear' | 'log'
  smoothing: number
  xAxis: ChartXAxis
  /** Overlaid curves of different scales: each divided by its first value, or min–max scaled to [0, 1]. */
  normalize: Normalize
  /** The zoomed ranges (null: fit to the data); cleared when the axes change. */
  zoom: { x: Range | null; y: Range | null }
}

export const DEFAULT_SMOOTHING = 0.6

export function defaultChartPrefs(): ChartPrefs {
  return { yScale: 'linear', smoothing: DEFAULT_SMOOTHING, xAxis: 'step', normalize: 'off', zoom: { x: null, y: null } }
}

const range = z.tuple([finite, finite]).refine(([a, b]) => a < b)

export function parseChartPrefs(data: unknown): ChartPrefs {
  const d = obj(data)
  const zoom = obj(d.zoom)
  const def = defaultChartPrefs()
  return {
    yScale: field(z.enum(['linear', 'log']), d.yScale, def.yScale),
    smoothing: field(finite.min(0).max(0.999), d.smoothing, def.smoothing),
    xAxis: field(z.enum(['step', 'epoch', 'relative', 'wall']), d.xAxis, def.xAxis),
    normalize: field(z.enum(['off', 'first', 'minmax']), d.normalize, def.normalize),
    zoom: { x: field(range.nullable(), zoom.x, null), y: field(range.nullable(), zoom.y, null) }
  }
}

// ---- a run's Sample and Compare forms ----

export type SettingValue = number | string | boolean
export interface ChoicePrefs {
  sampler: string
  steps: number | null
  settings: Record<string, SettingValue>
}
export interface CommonPrefs {
  seed: number
  count: number
  eps: number | null
  useEma: boolean
}
export interface SampleFormPrefs {
  choice: ChoicePrefs
  common: CommonPrefs
  trajectoryFrames: number
}
/** Quality against cost: the Compare panel's samplers at each budget, N samples per point. */
export interface SweepPrefs {
  /** Target NFE per point (fixed-step samplers). */
  nfe: number[]
  /** Samples per point. */
  n: number
  /** Image runs: also FID through the user-supplied Inception weights. */
  fid: boolean
}
export interface CompareFormPrefs {
  entries: ChoicePrefs[]
  common: CommonPrefs
  sweep: SweepPrefs
}

/** Points for a 2-D toy run (a cloud reads well with many); images for an image run (an 8×8 grid). */
export const TOY_COUNT = 1000
export const IMAGE_COUNT = 64
export const MAX_COMPARE_ENTRIES = LIMITS.compareEntries.max

export function defaultCommon(toy: boolean): CommonPrefs {
  return { seed: 0, count: toy ? TOY_COUNT : IMAGE_COUNT, eps: null, useEma: true }
}
export function defaultSampleForm(toy: boolean): SampleFormPrefs {
  return { choice: { sampler: '', steps: null, settings: {} }, common: defaultCommon(toy), trajectoryFrames: 20 }
}
export const DEFAULT_SWEEP_NFE = [10, 20, 50, 100]
export function defaultSweep(toy: boolean): SweepPrefs {
  return { nfe: [...DEFAULT_SWEEP_NFE], n: toy ? TOY_COUNT : 1000, fid: false }
}
export function defaultCompareForm(toy: boolean): CompareFormPrefs {
  return { entries: [], common: defaultCommon(toy), sweep: defaultSweep(toy) }
}

const settingValue = z.union([finite, z.string().max(64), z.boolean()])
const samplerName = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/)

/** A sampler choice, or null when it is not one (no sampler name). */
function parseChoice(data: unknown): ChoicePrefs | null {
  const d = obj(data)
  const sampler = field(samplerName, d.sampler, '')
  if (!sampler) return null
  const settings: Record<string, SettingValue> = {}
  for (const [k, v] of Object.entries(obj(d.settings))) {
    if (k.length <= 32 && settingValue.safeParse(v).success) settings[k] = v as SettingValue
  }
  return { sampler, steps: field(ranged(LIMITS.samplerSteps).nullable(), d.steps, null), settings }
}

function parseCommon(data: unknown, toy: boolean): CommonPrefs {
  const d = obj(data)
  const def = defaultCommon(toy)
  return {
    seed: field(ranged(LIMITS.seed), d.seed, def.seed),
    count: field(ranged(LIMITS.count), d.count, def.count),
    eps: field(ranged(LIMITS.eps).nullable(), d.eps, def.eps),
    useEma: field(z.boolean(), d.useEma, def.useEma)
  }
}

export function parseSampleForm(data: unknown, toy: boolean): SampleFormPrefs {
  const d = obj(data)
  const def = defaultSampleForm(toy)
  return {
    choice: parseChoice(d.choice) ?? def.choice,
    common: parseCommon(d.common, toy),
    trajectoryFrames: field(ranged(LIMITS.trajectoryFrames), d.trajectoryFrames, def.trajectoryFrames)
  }
}

export function parseCompareForm(data: unknown, toy: boolean): CompareFormPrefs {
  const d = obj(data)
  const entries = Array.isArray(d.entries) ? d.entries.slice(0, MAX_COMPARE_ENTRIES).map(parseChoice) : []
  return {
    // A list with any broken entry starts over from the defaults rather than half of it.
    entries: entries.every((e) => e !== null) ? (entries as ChoicePrefs[]) : [],
    common: parseCommon(d.common, toy),
    sweep: parseSweep(d.sweep, toy)
  }
}

function parseSweep(data: unknown, toy: boolean): SweepPrefs {
  const d = obj(data)
  const def = defaultSweep(toy)
  const budgets = z.array(ranged(LIMITS.nfeBudget)).min(LIMITS.sweepBudgets.min).max(LIMITS.sweepBudgets.max)
  return { nfe: field(budgets, d.nfe, def.nfe), n: field(ranged(LIMITS.qualityCount), d.n, def.n), fid: field(z.boolean(), d.fid, def.fid) }
}

// ---- links: #run=<id>&panel=training ----

export interface RunLink {
  runId: string | null
  panel: PanelId | null
}

/** The run and panel a location hash names (either may be missing or malformed: null). */
export function parseRunLink(hash: string): RunLink {
  const params = new URLSearchParams(hash.replace(/^#/, ''))
  const run = params.get('run')
  const panel = params.get('panel')
  return {
    runId: run && RUN_ID.test(run) ? run : null,
    panel: panel && (PANEL_IDS as readonly string[]).includes(panel) ? (panel as PanelId) : null
  }
}

/** A link to a run: the page's address (no query: never the access token) with #run=…&panel=…. */
export function runLink(pageUrl: string, runId: string, panel: PanelId = 'training'): string {
  const url = new URL(pageUrl)
  url.search = ''
  url.hash = new URLSearchParams({ run: runId, panel }).toString()
  return url.toString()
}
