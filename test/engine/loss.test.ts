import { beforeAll, describe, expect, it } from 'vitest'
import { tf } from '../../src/engine/tf'
import { selectBackend } from '../../src/engine/backend/select'
import { createSde } from '../../src/engine/sde'
import type { ScoreFn, Sde } from '../../src/engine/sde/types'
import { perSample } from '../../src/engine/sde/base'
import { Rng } from '../../src/engine/rng'
import { bucketMeans, dsmLoss, gaussianDsmFloor, gaussianDsmFloorAt, TimeBucketAccumulator } from '../../src/engine/loss'

beforeAll(async () => {
  await selectBackend({ force: 'cpu' })
})

const MU = 0.7
const S = 0.4

/** Exact score of p_t = N(mμ, (m²s² + σ²)I) for data N(μ, s²I). */
function gaussianScore(sde: Sde): ScoreFn {
  return (x, t) =>
    tf.tidy(() => {
      const { meanCoeff, std } = sde.marginalCoeffs(t)
      const v = tf.add(tf.mul(tf.square(meanCoeff), S * S), tf.square(std)) as tf.Tensor1D
      return tf.neg(tf.div(tf.sub(x, tf.mul(perSample(meanCoeff, x), MU)), perSample(v, x)))
    })
}

function gaussianData(n: number, d: number, seed: number): tf.Tensor2D {
  return tf.tidy(() => tf.add(tf.mul(tf.randomNormal([n, d], 0, 1, 'float32', seed), S), MU) as tf.Tensor2D)
}

describe('DSM loss of the exact score on Gaussian data sits at its analytic floor', () => {
  const n = 20_000
  const d = 4
  for (const name of ['vesde_tutorial', 'vpsde', 'subvpsde', 'vesde']) {
    it(`${name}, std2 weighting, t ~ U(1e-5, 1)`, () => {
      const sde = createSde({ name })
      const x0 = gaussianData(n, d, 1)
      const { loss } = tf.tidy(() => {
        const r = dsmLoss(gaussianScore(sde), sde, x0, new Rng(2))
        return { loss: r.loss.dataSync()[0] }
      })
      x0.dispose()
      const floor = gaussianDsmFloor(sde, S, d)
      console.log(`${name}: loss of exact score ${loss.toFixed(4)} vs analytic floor ${floor.toFixed(4)}`)
      expect(floor).toBeGreaterThan(0.01)
      expect(Math.abs(loss / floor - 1)).toBeLessThan(0.03)
    })
  }

  it('every weighting and reduction at fixed times (vpsde and vesde_tutorial)', () => {
    const m = 5000
    for (const name of ['vpsde', 'vesde_tutorial']) {
      const sde = createSde({ name })
      const weightings = name === 'vpsde' ? ['std2', 'likelihood', 'vp_exp', 'uniform'] : ['std2', 'likelihood', 'uniform']
      for (const weighting of weightings) {
        for (const reduction of ['sum', 'mean'] as const) {
          for (const t of [0.01, 0.2, 0.7]) {
            const got = tf.tidy(() => {
              const x0 = gaussianData(m, d, 3)
              const r = dsmLoss(gaussianScore(sde), sde, x0, new Rng(4), { weighting, reduction, t: tf.fill([m], t) as tf.Tensor1D })
              return r.loss.dataSync()[0]
            })
            const want = gaussianDsmFloorAt(sde, t, S, d, weighting, reduction)
            expect(Math.abs(got / want - 1), `${name} ${weighting} ${reduction} t=${t}: ${got} vs ${want}`).toBeLessThan(0.05)
          }
        }
      }
    }
  })

  it('rejects vp_exp on a VE SDE and unknown names', () => {
    const ve = createSde({ name: 'vesde' })
    const x0 = tf.ones([2, 2])
    expect(() => dsmLoss(gaussianScore(ve), ve, x0, new Rng(0), { weighting: 'vp_exp' })).toThrow(/vp_exp/)
    expect(() => dsmLoss(gaussianScore(ve), ve, x0, new Rng(0), { weighting: 'nope' })).toThrow(/Unknown loss weighting "nope"/)
    x0.dispose()
  })
})

describe('loss bookkeeping', () => {
  it('returns per-sample losses whose batch mean is the loss, t in [eps, T], and no leaked tensors', () => {
    const sde = createSde({ name: 'vesde_tutorial' })
    const x0 = tf.randomNormal([64, 3, 3, 1], 0, 1, 'float32', 5)
    const before = tf.memory().numTensors
    const r = dsmLoss(gaussianScore(sde), sde, x0, new Rng(9))
    expect(r.perSample.shape).toEqual([64])
    const per = Array.from(r.perSample.dataSync())
    const t = Array.from(r.t.dataSync())
    expect(r.loss.dataSync()[0]).toBeCloseTo(per.reduce((a, b) => a + b, 0) / 64, 4)
    expect(Math.min(...t)).toBeGreaterThanOrEqual(1e-5)
    expect(Math.max(...t)).toBeLessThanOrEqual(1)
    tf.dispose([r.loss, r.perSample, r.t])
    expect(tf.memory().numTensors).toBe(before)
    x0.dispose()
  })

  it('buckets: 10 equal bins of t, NaN where empty, and an accumulator', () => {
    const means = bucketMeans([1, 3, 5, 7], [0.01, 0.05, 0.95, 1])
    expect(means[0]).toBe(2)
    expect(means[9]).toBe(6)
    expect(means.slice(1, 9).every(Number.isNaN)).toBe(true)
    const acc = new TimeBucketAccumulator()
    acc.add([1, 3], [0.15, 0.19])
    acc.add([5], [0.12])
    expect(acc.means()[1]).toBe(3)
    expect(acc.count()[1]).toBe(3)
  })
})
