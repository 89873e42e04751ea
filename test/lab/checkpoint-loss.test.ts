// A checkpoint's loss is the smoothed training loss, so "best" is not decided by one lucky batch.
import { describe, expect, it } from 'vitest'
import { SmoothedLoss } from '../../src/lab/worker/train-job'
import { retain } from '../../src/lab/worker/retention'

describe('checkpoint loss', () => {
  it('is the debiased exponential average (TensorBoard classic smoothing), skipping non-finite losses', () => {
    const s = new SmoothedLoss(0.98)
    expect(s.value()).toBeNull()
    const ys = [5, 3, 4, Number.NaN, 2, 2.5, 1.8]
    ys.forEach((y) => s.add(y))
    // By hand: last = Σ (1−w) w^(n−1−i) yᵢ over the finite points, divided by 1 − wⁿ.
    const finite = ys.filter(Number.isFinite)
    const n = finite.length
    const last = finite.reduce((acc, y, i) => acc + (1 - 0.98) * 0.98 ** (n - 1 - i) * y, 0)
    expect(s.value()).toBeCloseTo(last / (1 - 0.98 ** n), 12)
    const c = new SmoothedLoss(0.98)
    for (let i = 0; i < 10; i++) c.add(7)
    expect(c.value()).toBeCloseTo(7, 12) // a constant passes through: no pull toward 0
  })

  it('one lucky batch does not make a checkpoint the best', () => {
    // Steady loss ≈ 1.0 with one batch at 0.2 just before checkpoint 200; the later checkpoint is better on average.
    const at100 = new SmoothedLoss(0.98)
    for (let i = 0; i < 100; i++) at100.add(1.0)
    const at200 = new SmoothedLoss(0.98)
    for (let i = 0; i < 199; i++) at200.add(i < 100 ? 1.0 : 0.9)
    at200.add(0.2)
    const at300 = new SmoothedLoss(0.98)
    for (let i = 0; i < 300; i++) at300.add(i < 100 ? 1.0 : i < 200 ? 0.9 : 0.8)
    const ck = (step: number, loss: number | null) => ({ file: `c${step}`, step, loss, time: 0, bytes: 0, best: false, hasEma: false })
    const { keep } = retain([ck(100, at100.value()), ck(200, at200.value()), ck(300, at300.value())], { keepLast: 1, keepBest: true })
    expect(keep.find((c) => c.best)!.step).toBe(300)
  })
})
