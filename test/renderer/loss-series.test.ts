// The chart's incremental series equal the whole-series computation, across x-axes and redos.
import { describe, expect, it } from 'vitest'
import { LossSeries, pointsToCsv } from '../../src/renderer/src/lib/loss-series'
import { classicSmoothing } from '../../src/renderer/src/lib/smoothing'
import { mergePoints } from '../../src/renderer/src/lib/metric-points'
import type { MetricPoint } from '../../src/shared/contract'

const pt = (step: number, loss: number | null = 10 / step): MetricPoint => ({ step, wallTime: 1_700_000_000_000 + step * 50, loss, gradNorm: 1, lr: 1e-3, imagesPerSec: 100 })

describe('LossSeries', () => {
  it('builds raw and smoothed series incrementally, equal to classicSmoothing of the whole', () => {
    const points: MetricPoint[] = []
    const s = new LossSeries('step', 0.6)
    for (let batch = 0; batch < 5; batch++) {
      mergePoints(points, Array.from({ length: 20 }, (_, i) => pt(batch * 20 + i + 1)))
      expect(s.sync(points)).toBe(true)
    }
    expect(s.sync(points)).toBe(false)
    const whole = classicSmoothing(s.raw, 0.6)
    s.smooth.forEach((p, i) => expect(p.y).toBeCloseTo(whole[i]!.y, 10))
    expect(s.raw.map((p) => p.x)).toEqual(points.map((p) => p.step))
  })

  it('maps relative time in seconds from the first point and wall time in ms', () => {
    const points = [pt(1), pt(2), pt(3)]
    const rel = new LossSeries('relative', 0)
    rel.sync(points)
    expect(rel.raw.map((p) => p.x)).toEqual([0, 0.05, 0.1])
    const wall = new LossSeries('wall', 0)
    wall.sync(points)
    expect(wall.raw[0]!.x).toBe(points[0]!.wallTime)
  })

  it('maps steps to epochs with the run batch size over the training-set size', () => {
    const s = new LossSeries('epoch', 0, 64 / 60_000)
    s.sync([pt(1), pt(937), pt(1875)])
    expect(s.raw.map((p) => Number(p.x.toFixed(4)))).toEqual([0.0011, 0.9995, 2])
  })

  it('rebuilds after a resume redoes steps, and keeps a missing loss as a gap', () => {
    const points = Array.from({ length: 10 }, (_, i) => pt(i + 1))
    const s = new LossSeries('step', 0.5)
    s.sync(points)
    mergePoints(points, [pt(7, 99), pt(8, null)])
    s.sync(points)
    expect(s.raw.map((p) => p.x)).toEqual([1, 2, 3, 4, 5, 6, 7, 8])
    expect(s.raw[6]!.y).toBe(99)
    expect(s.raw[7]!.y).toBeNaN()
  })

  it('writes CSV with a header and one line per point', () => {
    const csv = pointsToCsv([{ name: 'a, "b"', id: 'r1', points: [pt(1), pt(2, null)] }]).trim().split('\n')
    expect(csv[0]).toBe('run,run_id,step,wall_time,loss,grad_norm,lr,images_per_sec')
    expect(csv[1]).toMatch(/^"a, ""b""",r1,1,2023-/)
    expect(csv[2]).toMatch(/,2,[^,]+,,1,0.001,100$/)
  })
})
