// Every sampler, on VE and VP, with the exact score of the toy-gmm mixture
// 0.3·N((−1, 0.5), 0.3²I) + 0.7·N((1, −0.5), 0.5²I): mean and covariance of 5,000 samples within
// 0.05 and 0.07 (absolute; the variances are ≈0.9 and ≈0.39), and the share of samples nearer the
// small component within 0.03 of its weight 0.3, so a sampler that lost a mode would fail.
import { beforeAll, describe, expect, it } from 'vitest'
import { tf } from '../../src/engine/tf'
import { createSde } from '../../src/engine/sde'
import { fastScore, mixtureMoments, mixtureToy, momentErrors } from './helpers'
import { CASES, runCase } from './recovery-cases'

beforeAll(async () => {
  await tf.setBackend('cpu')
})

const means: [number, number][] = [[-1, 0.5], [1, -0.5]]
const truth = mixtureMoments(means, [0.3, 0.5], [0.3, 0.7])

/** Fraction of points assigned to component 0 by the Bayes rule of the true mixture. */
function shareOfFirst(x: Float32Array): number {
  let k0 = 0
  const n = x.length / 2
  for (let i = 0; i < n; i++) {
    const p = [x[2 * i], x[2 * i + 1]]
    const l0 = Math.log(0.3) - 2 * Math.log(0.3) - ((p[0] - means[0][0]) ** 2 + (p[1] - means[0][1]) ** 2) / (2 * 0.09)
    const l1 = Math.log(0.7) - 2 * Math.log(0.5) - ((p[0] - means[1][0]) ** 2 + (p[1] - means[1][1]) ** 2) / (2 * 0.25)
    if (l0 > l1) k0++
  }
  return k0 / n
}

describe.each(['vesde', 'vpsde'])('toy-gmm mixture, %s', (sdeName) => {
  const sde = createSde({ name: sdeName })
  const score = fastScore(mixtureToy(), sde)
  it.each(CASES)('$name recovers the mixture', async (c) => {
    const { x, res } = await runCase(c, score, sde)
    const err = momentErrors(x, truth)
    const share = shareOfFirst(x)
    console.log(`[gmm ${sdeName}] ${c.name}: NFE ${res.nfe}, ${res.seconds.toFixed(2)} s, mean err ${err.mean.toFixed(4)}, cov err ${err.cov.toFixed(4)}, weight of small mode ${share.toFixed(3)}`)
    expect(err.mean).toBeLessThan(0.05)
    expect(err.cov).toBeLessThan(0.07)
    expect(Math.abs(share - 0.3)).toBeLessThan(0.03)
  })
})
