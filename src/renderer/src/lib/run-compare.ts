// The hyper-parameter table of the runs ticked in the Runs panel: one row per setting, one
// value per run, and whether the runs differ on it. Pure; RunsCompareTable and its tests share it.
import type { RunSummary } from '@shared/contract'
import { formatNumber } from './format'

export interface CompareRow {
  key: string
  label: string
  /** One cell per run, in the runs' order ('—' where a run does not set it). */
  values: string[]
  differs: boolean
}

type Config = RunSummary['config']

const SETTINGS: { key: keyof Config; label: string }[] = [
  { key: 'dataset', label: 'Data set' },
  { key: 'model', label: 'Model' },
  { key: 'steps', label: 'Steps' },
  { key: 'batchSize', label: 'Batch size' },
  { key: 'lr', label: 'Learning rate' },
  { key: 'warmup', label: 'Warm-up steps' },
  { key: 'gradClip', label: 'Gradient clip' },
  { key: 'ema', label: 'EMA decay' },
  { key: 'weighting', label: 'Loss weighting' },
  { key: 'reduction', label: 'Reduction' },
  { key: 'seed', label: 'Seed' },
  { key: 'centered', label: 'Centred data' },
  { key: 'randomFlip', label: 'Random flip' },
  { key: 'checkpointEvery', label: 'Checkpoint every' },
  { key: 'keepLast', label: 'Keep last' },
  { key: 'keepBest', label: 'Keep best' },
  { key: 'previewEvery', label: 'Preview every' },
  { key: 'maxMinutes', label: 'Time budget (min)' }
]

const NONE = '—'

export function showValue(v: unknown): string {
  if (v === undefined || v === null) return NONE
  if (typeof v === 'number') return formatNumber(v)
  if (typeof v === 'boolean') return v ? 'yes' : 'no'
  return String(v)
}

/** Every setting of the runs' configs (the SDE and each of its parameters set by any run included). */
export function compareRows(runs: readonly Pick<RunSummary, 'config'>[]): CompareRow[] {
  const row = (key: string, label: string, pick: (c: Config) => unknown): CompareRow => {
    const values = runs.map((r) => showValue(pick(r.config)))
    return { key, label, values, differs: values.some((v) => v !== values[0]) }
  }
  const rows: CompareRow[] = []
  const add = (key: keyof Config, label: string) => rows.push(row(key, label, (c) => c[key]))
  add('dataset', 'Data set')
  add('model', 'Model')
  rows.push(row('sde', 'SDE', (c) => c.sde.name))
  const params = [...new Set(runs.flatMap((r) => Object.keys(r.config.sde.params)))].sort()
  for (const p of params) rows.push(row(`sde.${p}`, `SDE ${p}`, (c) => c.sde.params[p]))
  for (const s of SETTINGS.slice(2)) {
    // A time budget nobody set is not a setting of these runs.
    if (s.key === 'maxMinutes') {
      if (runs.some((r) => r.config.maxMinutes)) rows.push(row(s.key, s.label, (c) => c.maxMinutes || null)) // 0 and unset: none
    } else add(s.key, s.label)
  }
  return rows
}
