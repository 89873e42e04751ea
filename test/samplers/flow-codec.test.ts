// Encoding and decoding through the probability-flow ODE, on Gaussian data whose flow is known in
// closed form: N(μ, s²I) perturbed to time t is N(m(t)μ, σ_t²I) with σ_t² = m(t)²s² + std(t)², and
// the flow keeps each point's standardised position, x(t) = m(t)μ + (σ_t / σ_ε)(x(ε) − m(ε)μ).
// So the encoder must land there, the decoder must come back within the solver's tolerance, and
// decoded interpolation endpoints must be the two encoded points.
import { beforeAll, describe, expect, it } from 'vitest'
import { tf } from '../../src/engine/tf'
import { createSde } from '../../src/engine/sde'
import type { Sde } from '../../src/engine/sde/types'
import { Rng } from '../../src/engine/rng'
import { decodeFlow, encodeFlow, interpolateLatents, slerp } from '../../src/engine/samplers/flow-codec'
import { MU, S, fastScore, gaussianToy, moments } from './helpers'
import { sampleOde } from '../../src/engine/samplers/ode'

beforeAll(async () => {
  await tf.setBackend('cpu')
})

/** m(t) and std(t) of the SDE's perturbation kernel. */
function kernel(sde: Sde, t: number): { m: number; std: number } {
  return tf.tidy(() => {
    const { mean, std } = sde.marginalProb(tf.ones([1, 1]), tf.tensor1d([t]))
    return { m: mean.dataSync()[0]!, std: std.dataSync()[0]! }
  })
}

function maxAbs(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!))
  return m
}

describe('probability-flow encode / decode', () => {
  for (const name of ['vpsde', 'vesde', 'subvpsde']) {
    it(`${name}: encodes to the closed-form latent and decodes back within the tolerance`, async () => {
      const sde = createSde({ name })
      const toy = gaussianToy()
      const score = fastScore(toy, sde)
      const x = toy.sample(64, new Rng(4))
      const eps = sde.defaultEps
      const [e, T] = [kernel(sde, eps), kernel(sde, sde.T)]
      const [se, sT] = [Math.hypot(e.m * S, e.std), Math.hypot(T.m * S, T.std)]
      const want = Float32Array.from(x, (v, i) => T.m * MU[i % 2]! + (sT / se) * (v - e.m * MU[i % 2]!))
      const enc = await encodeFlow(score, sde, x, [2], { rtol: 1e-6, atol: 1e-6 })
      const dec = await decodeFlow(score, sde, enc.values, [2], { rtol: 1e-6, atol: 1e-6 })
      const latentErr = maxAbs(enc.values, want) / sT
      const roundTrip = maxAbs(dec.values, x)
      console.log(`[flow codec ${name}] latent error ${latentErr.toExponential(2)} (of σ_T), round trip ${roundTrip.toExponential(2)}, NFE ${enc.nfe} + ${dec.nfe}`)
      expect(latentErr).toBeLessThan(1e-3)
      expect(roundTrip).toBeLessThan(1e-3)
      expect(enc.nfe).toBeGreaterThan(10)
      // A loose tolerance costs fewer evaluations and a larger (still small) error.
      const loose = await encodeFlow(score, sde, x, [2], { rtol: 1e-3, atol: 1e-3 })
      expect(loose.nfe).toBeLessThan(enc.nfe)
    })
  }

  it('decoded interpolation endpoints are the two encoded points, and the frames in between stay on the path', async () => {
    const sde = createSde({ name: 'vpsde' })
    const toy = gaussianToy()
    const score = fastScore(toy, sde)
    const x = toy.sample(2, new Rng(9))
    const enc = await encodeFlow(score, sde, x, [2])
    const z = interpolateLatents(enc.values.subarray(0, 2), enc.values.subarray(2, 4), 5)
    const dec = await decodeFlow(score, sde, z, [2])
    expect(maxAbs(dec.values.subarray(0, 2), x.subarray(0, 2))).toBeLessThan(1e-3)
    expect(maxAbs(dec.values.subarray(8, 10), x.subarray(2, 4))).toBeLessThan(1e-3)
    // The flow is affine here, so the middle frame decodes to the affine preimage of the middle latent.
    const [e, T] = [kernel(sde, sde.defaultEps), kernel(sde, sde.T)]
    const [se, sT] = [Math.hypot(e.m * S, e.std), Math.hypot(T.m * S, T.std)]
    const mid = z.subarray(4, 6)
    const want = Array.from(mid, (v, i) => e.m * MU[i]! + (se / sT) * (v - T.m * MU[i]!))
    expect(maxAbs(dec.values.subarray(4, 6), want)).toBeLessThan(1e-3)
  })

  it('the ODE sampler at temperature τ maps a τ-scaled prior: Gaussian data comes out with its std scaled by τ', async () => {
    const sde = createSde({ name: 'vpsde' })
    const toy = gaussianToy()
    for (const tau of [1, 0.5]) {
      const res = await sampleOde(fastScore(toy, sde), sde, { shape: [2], batchSize: 2000, seed: 2, denoise: false, temperature: tau, rtol: 1e-4, atol: 1e-4 })
      const x = new Float32Array(await res.samples.data())
      res.samples.dispose()
      const { mean, cov } = moments(x)
      const std = Math.sqrt((cov[0]![0]! + cov[1]![1]!) / 2)
      console.log(`[ode temperature ${tau}] mean ${mean.map((m) => m.toFixed(3)).join(', ')}, std ${std.toFixed(4)} (τ·s = ${(tau * S).toFixed(4)})`)
      // The prior of VP at T is N(0, 1) while the data's marginal there is N(m(T)μ, ≈1): exact up to m(T) ≈ 0.006.
      expect(Math.abs(std / (tau * S) - 1)).toBeLessThan(0.05)
      expect(Math.abs(mean[0]! - MU[0]!)).toBeLessThan(0.05)
    }
  })

  it('slerp walks the great circle with the norm linear, and falls back to a line for parallel latents', () => {
    const a = [3, 0]
    const b = [0, 1]
    const mid = slerp(a, b, 0.5)
    expect(Math.hypot(mid[0]!, mid[1]!)).toBeCloseTo(2, 6)
    expect(Math.atan2(mid[1]!, mid[0]!)).toBeCloseTo(Math.PI / 4, 6)
    expect([...slerp(a, b, 0)]).toEqual([3, 0])
    expect(maxAbs(slerp(a, b, 1), b)).toBeLessThan(1e-6)
    expect([...slerp([1, 1], [2, 2], 0.5)]).toEqual([1.5, 1.5])
    expect(() => interpolateLatents(a, b, 1)).toThrow(/at least 2 frames/)
    expect(() => slerp([1], [1, 2], 0.5)).toThrow(/1 and 2 values/)
  })
})
