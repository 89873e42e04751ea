// Chart-ready loss series for one run: raw and smoothed {x, y} arrays built incrementally as
// points stream in and rebuilt only when the x-axis, the smoothing weight or the history itself
// (a resume redoing steps) changes. Each sync hands out new arrays rather than pushing into the
// old ones: Chart.js watches a dataset's array and handles every push one by one, which made
// loading a long history quadratic.
import type { MetricPoint } from '@shared/contract'
import { EmaSmoother, type XY } from './smoothing'

/** 'epoch' = step · batch size / training-set size (image data sets only). */
export type XAxis = 'step' | 'epoch' | 'relative' | 'wall'

export class LossSeries {
  raw: XY[] = []
  smooth: XY[] = []
  private smoother: EmaSmoother
  private done = 0
  private lastStep = -1
  private t0 = 0

  constructor(
    readonly xAxis: XAxis,
    readonly weight: number,
    /** Epochs per step (batch size / training-set size), for the epoch axis. */
    readonly epochsPerStep = 0
  ) {
    this.smoother = new EmaSmoother(weight)
  }

  /** Brings the arrays up to date with `points` (sorted by step); returns false when nothing changed. */
  sync(points: readonly MetricPoint[]): boolean {
    const consistent = this.done <= points.length && (this.done === 0 || points[this.done - 1]!.step === this.lastStep)
    if (!consistent) this.reset()
    if (this.done === points.length) return false
    if (this.done === 0 && points.length) this.t0 = points[0]!.wallTime
    const raw: XY[] = []
    const smooth: XY[] = []
    for (let i = this.done; i < points.length; i++) {
      const p = points[i]!
      const x =
        this.xAxis === 'step' ? p.step : this.xAxis === 'epoch' ? p.step * this.epochsPerStep : this.xAxis === 'relative' ? (p.wallTime - this.t0) / 1000 : p.wallTime
      const y = p.loss ?? Number.NaN
      raw.push({ x, y })
      smooth.push({ x, y: this.smoother.next(y) })
    }
    this.raw = this.raw.length ? this.raw.concat(raw) : raw
    this.smooth = this.smooth.length ? this.smooth.concat(smooth) : smooth
    this.done = points.length
    this.lastStep = points[points.length - 1]!.step
    return true
  }

  private reset(): void {
    this.raw = []
    this.smooth = []
    this.smoother = new EmaSmoother(this.weight)
    this.done = 0
    this.lastStep = -1
  }
}

export function pointsToCsv(runs: { name: string; id: string; points: readonly MetricPoint[] }[]): string {
  const lines = ['run,run_id,step,wall_time,loss,grad_norm,lr,images_per_sec']
  const cell = (v: number | null) => (v === null || v === undefined ? '' : String(v))
  const quote = (s: string) => (/[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s)
  for (const r of runs) {
    for (const p of r.points) {
      lines.push([quote(r.name), r.id, p.step, new Date(p.wallTime).toISOString(), cell(p.loss), cell(p.gradNorm), cell(p.lr), cell(p.imagesPerSec)].join(','))
    }
  }
  return lines.join('\n') + '\n'
}
