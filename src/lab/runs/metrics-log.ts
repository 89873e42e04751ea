// metrics.jsonl: one JSON metric point per line, append-only. A crash can leave a torn last
// line; readers skip any line that does not parse instead of failing the whole run.
import fs from 'node:fs'
import { MetricPointSchema, type MetricPoint } from '../../shared/contract'
import { readJsonLines } from './jsonl'

export function readMetrics(file: string, afterStep = -Infinity): MetricPoint[] {
  return readJsonLines(file, MetricPointSchema).filter((p) => p.step > afterStep)
}

/** Appends points; one write call per batch so a crash tears at most the last line. */
export function appendMetrics(file: string, points: MetricPoint[]): void {
  if (points.length === 0) return
  // A torn last line from an earlier crash would glue onto our first line: start on a fresh line.
  let prefix = ''
  try {
    const fd = fs.openSync(file, 'r')
    try {
      const size = fs.fstatSync(fd).size
      if (size > 0) {
        const last = Buffer.alloc(1)
        fs.readSync(fd, last, 0, 1, size - 1)
        if (last[0] !== 0x0a) prefix = '\n'
      }
    } finally {
      fs.closeSync(fd)
    }
  } catch {
    /* no file yet */
  }
  fs.appendFileSync(file, prefix + points.map((p) => JSON.stringify(p)).join('\n') + '\n')
}

/** Drops points past `step` (after resuming from an earlier checkpoint, those steps are redone). */
export function truncateMetricsAfter(file: string, step: number): void {
  const kept = readMetrics(file).filter((p) => p.step <= step)
  const text = kept.map((p) => JSON.stringify(p)).join('\n') + (kept.length ? '\n' : '')
  const tmp = `${file}.tmp`
  fs.writeFileSync(tmp, text)
  fs.renameSync(tmp, file)
}

/** The logged loss at a step, read from the file once on first use (for checkpoints rebuilt from files). */
export function lossLookup(file: string): (step: number) => number | null {
  let byStep: Map<number, number | null> | null = null
  return (step) => {
    byStep ??= new Map(readMetrics(file).map((p) => [p.step, p.loss]))
    const loss = byStep.get(step)
    return typeof loss === 'number' && Number.isFinite(loss) ? loss : null
  }
}
