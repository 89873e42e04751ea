// Probability-flow ODE: NFE against tolerance, adaptive vs fine fixed-step, and the exact
// likelihood of Gaussian data against its closed form (within 1%).
import { beforeAll, describe, expect, it } from 'vitest'
import { tf } from '../../src/engine/tf'
import { createSde } from '../../src/engine/sde'
import { Rng } from '../../src/engine/rng'
import { sampleOde } from '../../src/engine/samplers/ode'
import { logLikelihood } from '../../src/engine/samplers/likelihood'
import { fastScore, gaussianToy, mixtureToy } from './helpers'

beforeAll(async () => {
  await tf.setBackend('cpu')
})

async function odeSamples(sdeName: string, settings: Record<string, unknown>, batchSize = 1000) {
  const sde = createSde({ name: sdeName })
  const res = await sampleOde(fastScore(gaussianToy(), sde), sde, { shape: [2], batchSize, seed: 3, denoise: false, ...settings })
  const x = new Float32Array(await res.samples.data())
  res.samples.dispose()
  return { x, nfe: res.nfe }
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  let m = 0
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]))
  return m
}

describe('probability-flow ODE sampler', () => {
  it('spends fewer evaluations as the tolerance loosens (vpsde and vesde)', async () => {
    for (const sdeName of ['vpsde', 'vesde']) {
      const nfes: number[] = []
      for (const tol of [1e-6, 1e-5, 1e-3, 1e-1]) nfes.push((await odeSamples(sdeName, { rtol: tol, atol: tol }, 500)).nfe)
      console.log(`[ode ${sdeName}] NFE at tol 1e-6, 1e-5, 1e-3, 1e-1: ${nfes.join(', ')}`)
      for (let i = 1; i < nfes.length; i++) expect(nfes[i]).toBeLessThan(nfes[i - 1])
    }
  })

  it('the adaptive solve agrees with a fine fixed-step RK4 solve from the same noise', async () => {
    const adaptive = await odeSamples('vpsde', { rtol: 1e-6, atol: 1e-6 })
    const fine = await odeSamples('vpsde', { method: 'rk4', n: 400 })
    const coarse = await odeSamples('vpsde', { method: 'euler', n: 50 })
    const dFine = maxAbsDiff(adaptive.x, fine.x)
    const dCoarse = maxAbsDiff(adaptive.x, coarse.x)
    console.log(`[ode] max |rk45(1e-6) − rk4(400)| = ${dFine.toExponential(2)}, vs euler(50) ${dCoarse.toExponential(2)}; NFE ${adaptive.nfe}, ${fine.nfe}, ${coarse.nfe}`)
    expect(fine.nfe).toBe(1600)
    expect(coarse.nfe).toBe(50)
    expect(dFine).toBeLessThan(1e-3)
    expect(dCoarse).toBeGreaterThan(dFine)
  })
})

describe('ODE likelihood', () => {
  const toy = gaussianToy()
  const xs = toy.sample(300, new Rng(5))
  const truth = toy.logDensity(xs) // closed-form log N(x; μ, s²I)
  const mean = (a: ArrayLike<number>) => Array.from(a).reduce((s, v) => s + v, 0) / a.length

  it.each(['vpsde', 'vesde'])('matches the closed-form log-density of Gaussian data within 1% (%s)', async (sdeName) => {
    const sde = createSde({ name: sdeName })
    const x = tf.tensor(xs, [300, 2])
    const before = tf.memory().numTensors
    const r = await logLikelihood(toy.scoreFn(sde), sde, x)
    expect(tf.memory().numTensors).toBe(before)
    x.dispose()
    const rel = Math.abs(mean(r.logp) - mean(truth)) / Math.abs(mean(truth))
    let worst = 0
    r.logp.forEach((l, i) => { worst = Math.max(worst, Math.abs(l - truth[i])) })
    console.log(`[likelihood ${sdeName}] mean log p ${mean(r.logp).toFixed(5)} vs ${mean(truth).toFixed(5)} (rel ${rel.toExponential(2)}), worst sample ${worst.toFixed(4)} nats, NFE ${r.nfe}, ${r.seconds.toFixed(2)} s`)
    expect(rel).toBeLessThan(0.01)
    // Per sample: the rest is the prior mismatch N(0, σ_max²) vs the true p_T (score_sde #64).
    expect(worst).toBeLessThan(0.1)
    // Bits/dim with the [0,1] convention: −log p/(D ln 2) + 8.
    r.bpd.forEach((b, i) => expect(b).toBeCloseTo(-r.logp[i] / (2 * Math.LN2) + 8, 10))
    r.logp.forEach((l, i) => expect(l).toBeCloseTo(r.priorLogp[i] + r.deltaLogp[i], 10))
  })

  it('Rademacher equals the exact trace for an isotropic Jacobian; the Gaussian probe is unbiased', async () => {
    const sde = createSde({ name: 'vpsde' })
    const x = tf.tensor(xs, [300, 2])
    const rad = await logLikelihood(toy.scoreFn(sde), sde, x, { hutchinson: 'rademacher' })
    const exact = await logLikelihood(toy.scoreFn(sde), sde, x, { hutchinson: 'exact' })
    const gauss = await logLikelihood(toy.scoreFn(sde), sde, x, { hutchinson: 'gaussian', seed: 11 })
    x.dispose()
    rad.logp.forEach((l, i) => expect(l).toBeCloseTo(exact.logp[i], 4))
    const err = Array.from(gauss.logp, (l, i) => l - truth[i])
    const m = mean(err)
    const sd = Math.sqrt(mean(err.map((e) => (e - m) ** 2)))
    console.log(`[likelihood] gaussian probe: mean error ${m.toFixed(4)} ± ${(sd / Math.sqrt(err.length)).toFixed(4)} (per-sample sd ${sd.toFixed(3)})`)
    expect(Math.abs(m)).toBeLessThan(4 * sd / Math.sqrt(err.length))
    expect(sd).toBeGreaterThan(0.01) // it really is a stochastic estimate
  })

  it('averaging K Gaussian probes cuts the per-sample spread of the estimate by about √K, without bias', async () => {
    const sde = createSde({ name: 'vpsde' })
    const x = tf.tensor(xs, [300, 2])
    const before = tf.memory().numTensors
    const spread = async (probes: number) => {
      const r = await logLikelihood(toy.scoreFn(sde), sde, x, { hutchinson: 'gaussian', probes, seed: 11, rtol: 1e-4, atol: 1e-4 })
      const err = Array.from(r.logp, (l, i) => l - truth[i])
      const m = mean(err)
      return { m, sd: Math.sqrt(mean(err.map((e) => (e - m) ** 2))) }
    }
    const [one, eight] = [await spread(1), await spread(8)]
    expect(tf.memory().numTensors).toBe(before)
    x.dispose()
    console.log(`[likelihood probes] per-sample sd ${one.sd.toFixed(4)} with 1 probe, ${eight.sd.toFixed(4)} with 8 (ratio ${(one.sd / eight.sd).toFixed(2)}, √8 = 2.83)`)
    expect(one.sd / eight.sd).toBeGreaterThan(2)
    expect(one.sd / eight.sd).toBeLessThan(4)
    expect(Math.abs(eight.m)).toBeLessThan(4 * eight.sd / Math.sqrt(300) + 0.01)
    await expect(logLikelihood(toy.scoreFn(sde), sde, tf.zeros([1, 2]), { probes: 0 })).rejects.toThrow(/probes must be a whole number/)
  })

  it('gives the exact mixture log-density with the exact trace (non-diagonal Jacobian)', async () => {
    const gmm = mixtureToy()
    const sde = createSde({ name: 'vpsde' })
    const pts = gmm.sample(100, new Rng(9))
    const x = tf.tensor(pts, [100, 2])
    const r = await logLikelihood(gmm.scoreFn(sde), sde, x, { hutchinson: 'exact' })
    x.dispose()
    const ref = gmm.logDensity(pts)
    const rel = Math.abs(mean(r.logp) - mean(ref)) / Math.abs(mean(ref))
    console.log(`[likelihood gmm] mean log p ${mean(r.logp).toFixed(4)} vs ${mean(ref).toFixed(4)} (rel ${rel.toExponential(2)}), NFE ${r.nfe}`)
    expect(rel).toBeLessThan(0.01)
  })

  it('dequantises 8-bit data in [0,1] and applies the +8 / +7 offsets', async () => {
    const sde = createSde({ name: 'vpsde' })
    const bytes = Float32Array.from({ length: 8 }, (_, i) => (i * 37 % 256) / 255)
    const x = tf.tensor(bytes, [2, 2, 2, 1])
    const unit = await logLikelihood((xx) => tf.mul(xx, -1), sde, x, { dequantize: true, method: 'euler', n: 5 })
    const centred = await logLikelihood((xx) => tf.mul(xx, -1), sde, x, { dequantize: true, dataRange: 'centered', method: 'euler', n: 5 })
    x.dispose()
    expect(unit.nfe).toBe(5)
    unit.bpd.forEach((b, i) => expect(b).toBeCloseTo(-unit.logp[i] / (4 * Math.LN2) + 8, 10))
    centred.bpd.forEach((b, i) => expect(b).toBeCloseTo(-centred.logp[i] / (4 * Math.LN2) + 7, 10))
  })
})
