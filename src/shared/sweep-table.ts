// A sweep's points as a table, for the CSV the Compare panel downloads and `score-lab sweep`
// writes: one row per point, the floor and ceiling repeated on every row so each row reads alone.
import type { SweepResult } from './contract'

export const SWEEP_COLUMNS = ['sampler', 'label', 'steps', 'nfe', 'seconds', 'metric', 'quality', 'floor', 'ceiling', 'kid_mean', 'kid_std', 'precision', 'recall', 'class_entropy', 'class_entropy_max', 'mean_confidence', 'class_histogram', 'fid', 'fid_floor', 'n', 'seed', 'checkpoint'] as const

function cell(v: unknown): string {
  if (v === null || v === undefined) return ''
  const s = typeof v === 'number' ? String(Number.isInteger(v) ? v : Number(v.toPrecision(6))) : String(v)
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s
}

export function sweepRows(r: SweepResult): (string | number | null)[][] {
  return r.points.map((p) => [p.sampler, p.label, p.steps, p.nfe, p.seconds, r.metric, p.quality, r.floor, r.ceiling, p.kid?.mean ?? null, p.kid?.std ?? null, p.precision, p.recall, p.classes?.entropy ?? null, p.classes?.entropyMax ?? null, p.classes?.meanConfidence ?? null, p.classes ? p.classes.histogram.join(' ') : null, p.fid ?? null, r.fidFloor ?? null, r.n, r.seed, r.checkpoint])
}

export function sweepCsv(r: SweepResult): string {
  return [SWEEP_COLUMNS.join(','), ...sweepRows(r).map((row) => row.map(cell).join(','))].join('\n') + '\n'
}
