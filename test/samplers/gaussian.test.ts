// Every sampler, on VE and VP, with the exact score of N(μ, s²I): 5,000 samples must have the
// data's mean and covariance. Tolerances (absolute): mean 0.04 (8% of s = 0.5), covariance
// entries 0.04 (16% of s² = 0.25); Monte-Carlo std at n = 5000 is ≈0.007 (mean) and ≈0.005 (var),
// the rest is discretisation bias at 100 steps (and, for the ODE, the prior mismatch |μ|·s/σ_max).
import { beforeAll, describe, expect, it } from 'vitest'
import { tf } from '../../src/engine/tf'
import { createSde } from '../../src/engine/sde'
import { fastScore, gaussianToy, mixtureMoments, momentErrors, MU, S } from './helpers'
import { CASES, runCase } from './recovery-cases'

beforeAll(async () => {
  await tf.setBackend('cpu')
})

const truth = mixtureMoments([MU], [S], [1])

describe.each(['vesde', 'vpsde'])('Gaussian data, %s', (sdeName) => {
  const sde = createSde({ name: sdeName })
  const score = fastScore(gaussianToy(), sde)
  it.each(CASES)('$name recovers mean and covariance', async (c) => {
    const before = tf.memory().numTensors
    const { x, res } = await runCase(c, score, sde)
    const err = momentErrors(x, truth)
    console.log(`[gaussian ${sdeName}] ${c.name}: NFE ${res.nfe}, ${res.seconds.toFixed(2)} s, mean err ${err.mean.toFixed(4)}, cov err ${err.cov.toFixed(4)}`)
    expect(x.every(Number.isFinite)).toBe(true)
    expect(err.mean).toBeLessThan(0.04)
    expect(err.cov).toBeLessThan(0.04)
    expect(tf.memory().numTensors).toBe(before)
  })
})
