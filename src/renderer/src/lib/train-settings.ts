// Every setting of a training run as the New-run form shows it: a label, a one-line
// explanation, and the limits of TrainConfigSchema (checked as you type, in words, before the
// schema itself and then the lab check them again).
import { DEFAULT_LABEL_DROPOUT, LIMITS, SSM_PROJECTIONS, TRAIN_OBJECTIVES, TrainConfigSchema, type NumRange, type TrainConfig } from '@shared/contract'
import type { Catalog } from '../stores/catalog'

export type NumberKey = 'steps' | 'maxMinutes' | 'batchSize' | 'lr' | 'warmup' | 'gradClip' | 'ema' | 'seed' | 'checkpointEvery' | 'keepLast' | 'previewEvery' | 'labelDropout'
export type BoolKey = 'keepBest' | 'centered' | 'randomFlip' | 'conditional'

export interface NumberField {
  key: NumberKey
  label: string
  help: string
  integer: boolean
  min: number
  /** The minimum itself is not allowed (lr > 0). */
  minExclusive?: boolean
  max?: number
}

/** The contract's range of a setting, as the form checks it (one owner: LIMITS). */
function limits(key: NumberKey): Pick<NumberField, 'integer' | 'min' | 'minExclusive' | 'max'> {
  const r: NumRange = LIMITS[key]
  return { integer: r.int === true, min: r.min, minExclusive: r.gt, max: r.max }
}

export const NUMBER_FIELDS: Record<NumberKey, NumberField> = {
  steps: { key: 'steps', label: 'Steps', help: 'Optimiser steps to train for (one batch each).', ...limits('steps') },
  maxMinutes: { key: 'maxMinutes', label: 'Time budget (min)', help: 'Ends the run with a checkpoint after this much training time, whatever the steps; 0 for none.', ...limits('maxMinutes') },
  batchSize: { key: 'batchSize', label: 'Batch size', help: 'Examples per step; larger is smoother but slower per step.', ...limits('batchSize') },
  lr: { key: 'lr', label: 'Learning rate', help: 'Adam step size (the tutorial uses 0.0001).', ...limits('lr') },
  warmup: { key: 'warmup', label: 'Warm-up steps', help: 'Learning rate ramps up linearly over these steps; 0 for none.', ...limits('warmup') },
  gradClip: { key: 'gradClip', label: 'Gradient clip', help: 'Clips the gradient norm to this value; 0 turns clipping off.', ...limits('gradClip') },
  ema: { key: 'ema', label: 'EMA decay', help: 'Decay of the weight average used for sampling (0.9999 in score_sde); 0 is off.', ...limits('ema') },
  seed: { key: 'seed', label: 'Seed', help: 'Seeds the weights, batches and noise: the same seed gives the same run.', ...limits('seed') },
  checkpointEvery: { key: 'checkpointEvery', label: 'Checkpoint every', help: 'Steps between checkpoints (one is also written at the end).', ...limits('checkpointEvery') },
  keepLast: { key: 'keepLast', label: 'Keep last', help: 'How many recent checkpoints to keep on disk.', ...limits('keepLast') },
  previewEvery: { key: 'previewEvery', label: 'Preview every', help: 'Steps between preview grids; 0 turns previews off.', ...limits('previewEvery') },
  labelDropout: { key: 'labelDropout', label: 'Label dropout', help: 'Share of training labels replaced by “no class”, so one network learns p(x) and p(x | class) (Ho & Salimans use 0.1–0.2).', ...limits('labelDropout') }
}

export const BOOL_FIELDS: Record<BoolKey, { key: BoolKey; label: string; help: string }> = {
  keepBest: { key: 'keepBest', label: 'Keep best', help: 'Also keep the checkpoint with the lowest loss.' },
  centered: { key: 'centered', label: 'Centred data', help: 'Scale images to [−1, 1] instead of [0, 1].' },
  randomFlip: { key: 'randomFlip', label: 'Random flips', help: 'Flip images left–right at random (augmentation).' },
  conditional: { key: 'conditional', label: 'Class-conditional', help: 'Also learn each class (a label embedding with label dropout), so Sample can draw one class by classifier-free guidance.' }
}

export const CHOICE_HELP = {
  dataset: 'What the model learns to generate.',
  model: 'The score network.',
  sde: 'The forward noising process.',
  weighting: 'λ(t) in the loss: how much each noise level counts.',
  reduction: 'Loss summed over pixels (tutorial) or averaged (score_sde).',
  objective: 'The loss: denoising score matching, or sliced score matching (needs a second derivative: mlp only).',
  projections: 'Sliced score matching’s random directions v: ±1 entries (lower variance) or Gaussian.'
} as const

export type Objective = (typeof TRAIN_OBJECTIVES)[number]
export type Projection = (typeof SSM_PROJECTIONS)[number]

/** The objectives as the form names them (the contract owns the names). */
export const OBJECTIVE_LABELS: Record<Objective, string> = { dsm: 'denoising', ssm: 'sliced' }

/** The form's text state: numbers stay as typed so half-typed values ("1e-") can be explained. */
export interface TrainDraft {
  dataset: string
  model: string
  sdeName: string
  /** SDE parameter overrides as typed; empty means the SDE's default. */
  sdeParams: Record<string, string>
  weighting: string
  reduction: 'sum' | 'mean'
  objective: Objective
  /** Kept while the objective is dsm, so switching back to ssm restores it; sent only with ssm. */
  projections: Projection
  numbers: Record<NumberKey, string>
  bools: Record<BoolKey, boolean>
}

export function draftFromConfig(c: TrainConfig): TrainDraft {
  const numbers = Object.fromEntries((Object.keys(NUMBER_FIELDS) as NumberKey[]).map((k) => [k, String(c[k] ?? (k === 'labelDropout' ? DEFAULT_LABEL_DROPOUT : 0))])) as Record<NumberKey, string>
  return {
    dataset: c.dataset,
    model: c.model,
    sdeName: c.sde.name,
    sdeParams: Object.fromEntries(Object.entries(c.sde.params).map(([k, v]) => [k, String(v)])),
    weighting: c.weighting,
    reduction: c.reduction,
    objective: c.objective ?? 'dsm',
    projections: c.projections ?? 'rademacher',
    numbers,
    bools: { keepBest: c.keepBest, centered: c.centered, randomFlip: c.randomFlip, conditional: c.conditional === true }
  }
}

/** Field key (as the lab names paths: "steps", "sde.sigma", "model") → problem in words. */
export type Problems = Record<string, string>

function parseNumber(text: string): number | null {
  const t = text.trim()
  if (t === '') return null
  const v = Number(t)
  return Number.isFinite(v) ? v : null
}

function checkNumber(f: NumberField, text: string): string | null {
  if (text.trim() === '') return 'Required.'
  const v = parseNumber(text)
  if (v === null) return `“${text.trim()}” is not a number.`
  if (f.integer && !Number.isInteger(v)) return 'Must be a whole number.'
  if (f.minExclusive ? v <= f.min : v < f.min) return f.minExclusive ? `Must be more than ${f.min}.` : `Must be at least ${f.min}.`
  if (f.max !== undefined && v > f.max) return `At most ${f.max.toLocaleString('en-US', { maximumFractionDigits: 10 })}.`
  return null
}

/** Checks the draft as the lab would; returns the config when there are no problems. */
export function validateDraft(d: TrainDraft, catalog: Catalog | null): { config: TrainConfig | null; problems: Problems } {
  const problems: Problems = {}
  const numbers = {} as Record<NumberKey, number>
  for (const f of Object.values(NUMBER_FIELDS)) {
    if (f.key === 'labelDropout' && !d.bools.conditional) continue // only a conditional run has one
    const p = checkNumber(f, d.numbers[f.key])
    if (p) problems[f.key] = p
    else numbers[f.key] = Number(d.numbers[f.key].trim())
  }
  const params: Record<string, number> = {}
  for (const [k, text] of Object.entries(d.sdeParams)) {
    if (text.trim() === '') continue
    const v = parseNumber(text)
    if (v === null) problems[`sde.${k}`] = `“${text.trim()}” is not a number.`
    else if (v <= 0) problems[`sde.${k}`] = 'Must be more than 0.'
    else params[k] = v
  }
  if (catalog) {
    const ds = catalog.datasets.find((x) => x.name === d.dataset)
    if (!ds) problems.dataset = 'Choose a data set.'
    if (!catalog.models.some((m) => m.name === d.model)) problems.model = 'Choose a model.'
    if (!catalog.sdes.some((s) => s.name === d.sdeName)) problems['sde.name'] = 'Choose an SDE.'
    if (ds?.synthetic && d.model !== 'mlp') problems.model = '2-D toy data needs the “mlp” model.'
    if (ds && !ds.synthetic && d.model === 'mlp') problems.model = '“mlp” is for 2-D toy data; choose an image model.'
    if (ds && !ds.synthetic && numbers.batchSize > ds.size) problems.batchSize = `Larger than the ${ds.title} training set (${ds.size.toLocaleString('en-US')}).`
  }
  // Ranges whose ends are separate settings: checked against the SDE's defaults for the end left empty.
  const sdeDefaults = catalog?.sdes.find((s) => s.name === d.sdeName)?.defaults ?? {}
  const end = (k: string) => params[k] ?? sdeDefaults[k]
  for (const [lo, hi, strict] of [['sigmaMin', 'sigmaMax', true], ['betaMin', 'betaMax', false]] as const) {
    const [a, b] = [end(lo), end(hi)]
    if (a === undefined || b === undefined || problems[`sde.${lo}`] || problems[`sde.${hi}`]) continue
    if (strict ? a >= b : a > b) {
      const which = lo in params ? lo : hi
      problems[`sde.${which}`] = which === lo ? `Must be ${strict ? 'less than' : 'at most'} ${hi} (${b}).` : `Must be ${strict ? 'more than' : 'at least'} ${lo} (${a}).`
    }
  }
  if (numbers.checkpointEvery !== undefined && numbers.steps !== undefined && numbers.checkpointEvery > numbers.steps) {
    problems.checkpointEvery = `More than the ${numbers.steps.toLocaleString('en-US')} steps of the run.`
  }
  if (Object.keys(problems).length) return { config: null, problems }
  const { labelDropout, ...runNumbers } = numbers
  const { conditional, ...bools } = d.bools
  const candidate = {
    dataset: d.dataset,
    model: d.model,
    sde: { name: d.sdeName, params },
    weighting: d.weighting,
    reduction: d.reduction,
    ...runNumbers,
    // No budget is no field (as in the presets), not a budget of 0.
    maxMinutes: numbers.maxMinutes || undefined,
    ...bools,
    // An unconditional run has neither field (as the presets and older runs).
    ...(conditional ? { conditional: true, labelDropout } : {}),
    // dsm is no field (as the presets and older runs); ssm brings its projections.
    ...(d.objective === 'ssm' ? { objective: 'ssm', projections: d.projections } : {})
  }
  const parsed = TrainConfigSchema.safeParse(candidate)
  if (!parsed.success) {
    for (const issue of parsed.error.issues) problems[issue.path.join('.') || 'form'] ??= issue.message
    return { config: null, problems }
  }
  return { config: parsed.data, problems }
}

/** Field problems from a refused runs.start (the lab's `issues`), keyed like `validateDraft`'s. */
export function problemsFromError(err: unknown): Problems {
  const issues = (err as { issues?: { path: string; message: string }[] } | null)?.issues
  const out: Problems = {}
  for (const i of issues ?? []) {
    const path = i.path.replace(/^config\./, '')
    out[path] = i.message.charAt(0).toUpperCase() + i.message.slice(1) + (/[.!?]$/.test(i.message) ? '' : '.')
  }
  return out
}
