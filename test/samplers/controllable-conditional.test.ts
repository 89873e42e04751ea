// Class-conditional sampling (score_sde JAX's get_pc_conditional_sampler) on a 2-D Gaussian
// mixture, whose noise-conditional classifier p_t(k | x) is exact. Then
//   ∇ log p_t(x) + ∇ log p_t(k | x) = −(x − m μ_k)/(m² s_k² + σ²),
// the score of component k alone: (1) the two agree pointwise (float32 round-off only), and
// (2) PC sampling with class k gives component k's N(μ_k, s_k² I). Tolerances as the Gaussian
// sampler tests (absolute): mean 0.04, covariance entries 0.04; with 2000 samples per class the
// Monte-Carlo standard error is ≤ 0.011 (mean) and ≤ 0.008 (variance, s = 0.5).
import { beforeAll, describe, expect, it } from 'vitest'
import { tf } from '../../src/engine/tf'
import { createSde } from '../../src/engine/sde'
import { GmmToy } from '../../src/engine/toy'
import { conditionalScore, gmmClassifier, runConditional, sampleConditional } from '../../src/engine/samplers/controllable'
import { fastScore, momentErrors } from './helpers'

beforeAll(async () => {
  await tf.setBackend('cpu')
})

const MEANS: [number, number][] = [[-1.5, 0.5], [1, -1], [0.5, 1.5]]
const STDS = [0.3, 0.5, 0.4]
const WEIGHTS = [0.3, 0.5, 0.2]
const toy = new GmmToy({ means: MEANS, stds: STDS, weights: WEIGHTS })

describe.each(['vesde', 'vpsde'])('class-conditional, %s', (sdeName) => {
  const sde = createSde({ name: sdeName })

  it('score + ∇ log p_t(k | x) of the exact classifier is the score of component k (default 8-Gaussian toy and a 3-component one)', () => {
    for (const mixture of [new GmmToy(), toy]) {
      const { means, stds } = mixture.config as { means: [number, number][]; stds: number[] }
      let worst = 0
      tf.tidy(() => {
        const x = tf.randomNormal([64, 2], 0, 2, 'float32', 3)
        for (const tv of [0.02, 0.2, 0.6, 1]) {
          const t = tf.fill([64], tv) as tf.Tensor1D
          const m = sde.marginalMeanCoeffAt(tv)
          const s = sde.marginalStdAt(tv)
          for (let k = 0; k < means.length; k++) {
            const got = conditionalScore(mixture.scoreFn(sde), gmmClassifier(mixture, sde), k)(x, t)
            const v = m * m * stds[k] ** 2 + s * s
            const want = tf.div(tf.sub(x, tf.tensor2d([[m * means[k][0], m * means[k][1]]])), -v)
            const scaleK = tf.max(tf.abs(want)).dataSync()[0]
            worst = Math.max(worst, tf.max(tf.abs(tf.sub(got, want))).dataSync()[0] / (1 + scaleK))
          }
        }
      })
      console.log(`[conditional ${sdeName}] ${means.length} components: max |error| / (1 + max |score|) = ${worst.toExponential(2)}`)
      expect(worst).toBeLessThan(1e-4)
    }
  })

  it('PC with per-sample labels: the samples of class k have component k\'s mean and covariance', async () => {
    const B = 6000
    const labels = Int32Array.from({ length: B }, (_, i) => i % 3)
    const before = tf.memory().numTensors
    const res = await sampleConditional(fastScore(toy, sde), sde, {
      shape: [2], batchSize: B, seed: 2, n: 100, classifier: gmmClassifier(toy, sde), label: labels
    })
    const x = new Float32Array(await res.samples.data())
    res.samples.dispose()
    expect(tf.memory().numTensors).toBe(before)
    for (let k = 0; k < 3; k++) {
      const xk = new Float32Array(2 * (B / 3))
      for (let i = k, j = 0; i < B; i += 3, j++) { xk[2 * j] = x[2 * i]; xk[2 * j + 1] = x[2 * i + 1] }
      const err = momentErrors(xk, { mean: MEANS[k], cov: [[STDS[k] ** 2, 0], [0, STDS[k] ** 2]] })
      console.log(`[conditional ${sdeName}] class ${k}: mean err ${err.mean.toFixed(4)}, cov err ${err.cov.toFixed(4)} (${res.seconds.toFixed(1)} s for all)`)
      expect(err.mean).toBeLessThan(0.04)
      expect(err.cov).toBeLessThan(0.04)
    }
  })
})

describe('class-conditional settings', () => {
  const sde = createSde({ name: 'vpsde' })
  const classifier = gmmClassifier(toy, sde)

  it('runs from validated settings with one label for the batch, and refuses bad labels and keys', async () => {
    const res = await runConditional(fastScore(toy, sde), sde, { batchSize: 1000, seed: 5, n: 50, label: 2 }, { shape: [2], classifier })
    const x = new Float32Array(await res.samples.data())
    res.samples.dispose()
    const err = momentErrors(x, { mean: MEANS[2], cov: [[STDS[2] ** 2, 0], [0, STDS[2] ** 2]] })
    console.log(`[conditional settings] label 2, 1000 samples, n 50: mean err ${err.mean.toFixed(4)}, cov err ${err.cov.toFixed(4)}`)
    expect(err.mean).toBeLessThan(0.06)
    expect(err.cov).toBeLessThan(0.05)
    await expect(runConditional(fastScore(toy, sde), sde, { batchSize: 4, n: 30, label: 3 }, { shape: [2], classifier })).rejects.toThrow(/out of range/)
    await expect(runConditional(fastScore(toy, sde), sde, { batchSize: 4, n: 30, label: -1 }, { shape: [2], classifier })).rejects.toThrow(/label/)
    await expect(runConditional(fastScore(toy, sde), sde, { batchSize: 4, n: 30, guidance: 2 }, { shape: [2], classifier })).rejects.toThrow(/guidance/)
    await expect(sampleConditional(fastScore(toy, sde), sde, { shape: [2], batchSize: 4, n: 30, classifier, label: [0, 1] })).rejects.toThrow(/2 class labels for a batch of 4/)
  })
})
