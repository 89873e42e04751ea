import { beforeAll, describe, expect, it } from 'vitest'
import { tf } from '../../src/engine/tf'
import { selectBackend } from '../../src/engine/backend/select'
import { createSde, listSdes, suggestSigmaMax, SDES } from '../../src/engine/sde'
import type { Sde } from '../../src/engine/sde/types'
import { Rng } from '../../src/engine/rng'

beforeAll(async () => {
  await selectBackend({ force: 'cpu' })
})

const t1 = (v: number[]) => tf.tensor1d(v)
const read = (x: tf.Tensor) => Array.from(x.dataSync())

describe('closed forms (science.md §1.2, §2.1)', () => {
  it('tutorial VE: std and g at reference times', () => {
    const sde = createSde({ name: 'vesde_tutorial' })
    expect(sde.marginalStdAt(1)).toBeCloseTo(9.84521, 4)
    expect(sde.marginalStdAt(0.5)).toBeCloseTo(1.93081, 4)
    expect(sde.marginalStdAt(1e-3) / 0.031674).toBeCloseTo(1, 4)
    expect(sde.marginalStdAt(1e-5) / 0.0031623).toBeCloseTo(1, 4)
    expect(sde.diffusionAt(0.5)).toBeCloseTo(5, 10)
    expect(sde.diffusionAt(1e-3)).toBeCloseTo(1.00322, 5)
    // Tensor and scalar forms agree, also at t = 1e-5 where a naive σ^{2t} − 1 loses digits.
    const ts = [1e-5, 1e-3, 0.5, 1]
    const std = tf.tidy(() => read(sde.marginalProb(tf.ones([4, 1]), t1(ts)).std))
    ts.forEach((t, i) => expect(std[i] / sde.marginalStdAt(t)).toBeCloseTo(1, 5))
  })

  it('score_sde VE: σ(t), g factor √(2 ln 5000), SMLD discretisation', () => {
    const sde = createSde({ name: 'vesde' })
    expect(sde.marginalStdAt(0)).toBeCloseTo(0.01, 10)
    expect(sde.marginalStdAt(1)).toBeCloseTo(50, 8)
    expect(sde.diffusionAt(1) / 50).toBeCloseTo(4.127, 3)
    const { f, G } = tf.tidy(() => {
      const { f, G } = sde.discretize(tf.ones([2, 3]), t1([1, 0]))
      return { f: read(f), G: read(G) }
    })
    expect(f.every((v) => v === 0)).toBe(true)
    const s = (i: number) => 0.01 * Math.pow(5000, i / 999)
    expect(G[0]).toBeCloseTo(Math.sqrt(s(999) ** 2 - s(998) ** 2), 3)
    expect(G[1]).toBeCloseTo(0.01, 6) // σ_{−1} = 0
  })

  it('VP: mean coefficient 0.00657 and variance → 1 at t = 1; DDPM discretisation', () => {
    const sde = createSde({ name: 'vpsde' })
    expect(sde.marginalMeanCoeffAt(1)).toBeCloseTo(0.00657, 5)
    expect(sde.marginalStdAt(1)).toBeCloseTo(0.99998, 5)
    expect(1 - sde.marginalStdAt(1) ** 2).toBeLessThan(1e-4)
    for (let t = 0.1; t <= 1; t += 0.1) expect(sde.marginalStdAt(t)).toBeGreaterThan(sde.marginalStdAt(t - 0.1))
    const beta0 = 0.1 / 1000
    const { f, G } = tf.tidy(() => {
      const { f, G } = sde.discretize(tf.fill([1, 2], 2), t1([0]))
      return { f: read(f), G: read(G) }
    })
    expect(f[0]).toBeCloseTo(2 * (Math.sqrt(1 - beta0) - 1), 6)
    expect(G[0]).toBeCloseTo(Math.sqrt(beta0), 6)
  })

  it('sub-VP: std = 1 − e^{2c} (below VP), same mean as VP', () => {
    const sub = createSde({ name: 'subvpsde' })
    const vp = createSde({ name: 'vpsde' })
    for (const t of [0.01, 0.3, 1]) {
      expect(sub.marginalMeanCoeffAt(t)).toBeCloseTo(vp.marginalMeanCoeffAt(t), 12)
      expect(sub.marginalStdAt(t)).toBeCloseTo(vp.marginalStdAt(t) ** 2, 10)
      expect(sub.marginalStdAt(t)).toBeLessThan(vp.marginalStdAt(t))
    }
  })

  it('reverse SDE drift f − g²s, probability-flow ODE f − ½g²s with zero diffusion', () => {
    const sde = createSde({ name: 'vpsde' })
    const score = (x: tf.Tensor) => tf.mul(x, -3)
    const x = tf.tensor2d([[0.5, -1]])
    const t = t1([0.4])
    const beta = 0.1 + 0.4 * 19.9
    const out = tf.tidy(() => {
      const r = sde.reverse(score).sde(x, t)
      const o = sde.reverse(score, true).sde(x, t)
      return { r: read(r.drift), rg: read(r.diffusion), o: read(o.drift), og: read(o.diffusion) }
    })
    expect(out.r[0]).toBeCloseTo(-0.5 * beta * 0.5 - beta * -1.5, 4)
    expect(out.o[1]).toBeCloseTo(-0.5 * beta * -1 - 0.5 * beta * 3, 4)
    expect(out.rg[0]).toBeCloseTo(Math.sqrt(beta), 5)
    expect(out.og[0]).toBe(0)
    tf.dispose([x, t])
  })

  it('discrete predictors: reverse diffusion and ancestral steps match score_sde (science.md §2.5)', () => {
    const x = tf.tensor2d([[0.5, -1]])
    const s = tf.tensor2d([[2, 3]])
    const score = () => tf.clone(s)
    const t = t1([0.5])
    const i = Math.floor(0.5 * 999)
    // VP: reverse diffusion x − f + G²s = (2 − √(1−β_i))x + β_i s; ancestral (x + β_i s)/√(1−β_i), std √β_i.
    const vp = createSde({ name: 'vpsde' })
    const beta = 0.1 / 1000 + (19.9 / 1000) * (i / 999)
    const vpOut = tf.tidy(() => {
      const { f, G } = vp.reverse(score).discretize(x, t)
      const a = vp.ancestralStep!(x, s, t)
      return { rd: read(tf.sub(x, f)), G: read(G), am: read(a.mean), as: read(a.std), alpha: read(vp.langevinAlpha(t)) }
    })
    // x_mean = x − rev_f (score_sde ReverseDiffusionPredictor); rev_f = f − G²s.
    expect(vpOut.rd[0]).toBeCloseTo((2 - Math.sqrt(1 - beta)) * 0.5 + beta * 2, 5)
    expect(vpOut.G[0]).toBeCloseTo(Math.sqrt(beta), 6)
    expect(vpOut.am[1]).toBeCloseTo((-1 + beta * 3) / Math.sqrt(1 - beta), 5)
    expect(vpOut.as[0]).toBeCloseTo(Math.sqrt(beta), 6)
    expect(vpOut.alpha[0]).toBeCloseTo(1 - beta, 6)
    // VE: x + (σ_i² − σ_{i−1}²)s; ancestral std √(σ_{i−1}²(σ_i² − σ_{i−1}²)/σ_i²); α = 1.
    const ve = createSde({ name: 'vesde' })
    const sig = (k: number) => 0.01 * Math.pow(5000, k / 999)
    const d = sig(i) ** 2 - sig(i - 1) ** 2
    const veOut = tf.tidy(() => {
      const { f } = ve.reverse(score).discretize(x, t)
      const a = ve.ancestralStep!(x, s, t)
      return { rd: read(tf.sub(x, f)), am: read(a.mean), as: read(a.std), alpha: read(ve.langevinAlpha(t)) }
    })
    expect(veOut.rd[0]).toBeCloseTo(0.5 + d * 2, 4)
    expect(veOut.am[1]).toBeCloseTo(-1 + d * 3, 4)
    expect(veOut.as[0]).toBeCloseTo(Math.sqrt((sig(i - 1) ** 2 * d) / sig(i) ** 2), 5)
    expect(veOut.alpha[0]).toBe(1)
    // Tutorial VE: exact step over Δ = T/N, G² = std(t)² − std(t − Δ)²; probability flow halves G²s.
    const tut = createSde({ name: 'vesde_tutorial' })
    const g2 = tut.marginalStdAt(0.5) ** 2 - tut.marginalStdAt(0.5 - 1 / 500) ** 2
    const tutOut = tf.tidy(() => {
      const rev = tut.reverse(score).discretize(x, t)
      const ode = tut.reverse(score, true).discretize(x, t)
      return { G: read(rev.G), f: read(rev.f), odeF: read(ode.f), odeG: read(ode.G) }
    })
    expect(tutOut.G[0] ** 2 / g2).toBeCloseTo(1, 4)
    expect(tutOut.f[0] / (-g2 * 2)).toBeCloseTo(1, 4)
    expect(tutOut.odeF[0] / (-g2)).toBeCloseTo(1, 4)
    expect(tutOut.odeG[0]).toBe(0)
    expect(tut.ancestralStep).toBeDefined()
    expect(createSde({ name: 'subvpsde' }).ancestralStep).toBeUndefined()
    tf.dispose([x, s, t])
  })

  it('registry lists every SDE with defaults and rejects unknown names and parameters', () => {
    expect(listSdes().map((s) => s.name).sort()).toEqual(['subvpsde', 'vesde', 'vesde_tutorial', 'vpsde'])
    expect(SDES.vesde.defaults).toEqual({ sigmaMin: 0.01, sigmaMax: 50, N: 1000 })
    expect(SDES.vpsde.defaults).toEqual({ betaMin: 0.1, betaMax: 20, N: 1000 })
    const sde = createSde({ name: 'vesde', sigmaMax: 90 })
    expect(createSde(sde.toConfig()).toConfig()).toEqual({ name: 'vesde', sigmaMin: 0.01, sigmaMax: 90, N: 1000 })
    expect(() => createSde({ name: 'nope' })).toThrow(/Unknown SDE "nope"/)
    expect(() => createSde({ name: 'vpsde', sigmaMax: 3 })).toThrow(/no parameter "sigmaMax"/)
  })

  it('suggestSigmaMax is the largest pairwise distance', () => {
    const pts = new Float32Array([0, 0, 3, 4, 1, 1, -3, -4])
    expect(suggestSigmaMax(pts, 4, 2)).toBeCloseTo(10, 6)
  })

  it('prior log-density of N(0, σ²I)', () => {
    const sde = createSde({ name: 'vesde_tutorial' })
    const s = sde.marginalStdAt(1)
    const lp = tf.tidy(() => read(sde.priorLogp(tf.tensor2d([[1, 2, 0]]))))
    expect(lp[0]).toBeCloseTo(-1.5 * Math.log(2 * Math.PI * s * s) - 5 / (2 * s * s), 4)
  })
})

/** Simulates the forward SDE with the tensor sde() (drift at t, diffusion at the step midpoint). */
function simulate(sde: Sde, x0: number, n: number, steps: number, checkpoints: number[], rng: Rng) {
  const out = new Map<number, { mean: number; std: number }>()
  let x = tf.fill([n, 1], x0) as tf.Tensor
  const dt = sde.T / steps
  for (let i = 0; i < steps; i++) {
    const next = tf.tidy(() => {
      const t = i * dt
      const { drift } = sde.sde(x, tf.fill([n], t) as tf.Tensor1D)
      const { diffusion } = sde.sde(x, tf.fill([n], t + dt / 2) as tf.Tensor1D)
      const z = tf.randomNormal([n, 1], 0, 1, 'float32', rng.nextSeed())
      return tf.add(tf.add(x, tf.mul(drift, dt)), tf.mul(tf.mul(z, tf.reshape(diffusion, [n, 1])), Math.sqrt(dt)))
    })
    x.dispose()
    x = next
    const tNow = +((i + 1) * dt).toFixed(9)
    if (checkpoints.includes(tNow)) {
      const v = x.dataSync()
      let m = 0
      for (const a of v) m += a
      m /= n
      let s = 0
      for (const a of v) s += (a - m) ** 2
      out.set(tNow, { mean: m, std: Math.sqrt(s / (n - 1)) })
    }
  }
  x.dispose()
  return out
}

describe('marginals match a Monte-Carlo simulation of the forward SDE', () => {
  const n = 4000
  const x0 = 1.5
  for (const name of ['vesde_tutorial', 'vesde', 'vpsde', 'subvpsde']) {
    it(name, () => {
      const sde = createSde({ name })
      const ts = [0.1, 0.5, 1]
      const before = tf.memory().numTensors
      const sim = simulate(sde, x0, n, 1000, ts, new Rng(7))
      expect(tf.memory().numTensors).toBe(before)
      for (const t of ts) {
        const { mean, std } = sim.get(t)!
        // score_sde's VE std omits −σ_min²; the simulated process starts at t = 0 with no noise.
        const varExact = sde.marginalStdAt(t) ** 2 - (name === 'vesde' ? 0.01 ** 2 : 0)
        const stdExact = Math.sqrt(varExact)
        const meanExact = sde.marginalMeanCoeffAt(t) * x0
        expect(Math.abs(mean - meanExact)).toBeLessThan((5 * stdExact) / Math.sqrt(n))
        expect(Math.abs(std / stdExact - 1)).toBeLessThan(0.04)
      }
    })
  }
})
