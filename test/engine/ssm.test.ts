// Sliced score matching (loss/ssm.ts): the known answer on Gaussian data, the double backprop
// it needs (and why tfjs' own sigmoid/tanh gradients cannot give it), and the name lists.
import { beforeAll, describe, expect, it } from 'vitest'
import { tf } from '../../src/engine/tf'
import { selectBackend } from '../../src/engine/backend/select'
import { createSde } from '../../src/engine/sde'
import type { Sde } from '../../src/engine/sde/types'
import { createModel, MODELS } from '../../src/engine/nets'
import { SECOND_ORDER } from '../../src/engine/nets/second-order'
import { sigmoidTwice } from '../../src/engine/ops/sigmoid'
import { OBJECTIVES, PROJECTIONS, dsmLoss, ssmLoss, type SsmOptions } from '../../src/engine/loss'
import { Trainer } from '../../src/engine/train'
import { stepAndRead } from '../helpers/trainer-steps'
import { Rng } from '../../src/engine/rng'
import { SSM_PROJECTIONS, TRAIN_OBJECTIVES } from '../../src/shared/contract'

beforeAll(async () => {
  await selectBackend({ force: 'cpu' })
})

const MU = [1, -0.5]
const S = 0.5
const D = 2

/** N samples of N(μ, S²I) in 2-D. */
function gaussianData(n: number, seed: number): tf.Tensor2D {
  return tf.tidy(() => tf.add(tf.mul(tf.randomNormal([n, D], 0, 1, 'float32', seed), S), tf.tensor1d(MU)) as tf.Tensor2D)
}

/** The exact score of p_t = N(mμ, (m²S² + σ²)I), times `scale`, plus `shift`: tf ops, so ∇ₓ exists. */
function gaussianScore(sde: Sde, scale = 1, shift = [0, 0]) {
  return (x: tf.Tensor, t: tf.Tensor1D) =>
    tf.tidy(() => {
      const { meanCoeff, std } = sde.marginalCoeffs(t)
      const m = tf.reshape(meanCoeff, [-1, 1])
      const v = tf.add(tf.mul(tf.square(m), S * S), tf.reshape(tf.square(std), [-1, 1]))
      const exact = tf.div(tf.neg(tf.sub(x, tf.mul(m, tf.tensor1d(MU)))), v)
      return tf.add(tf.mul(exact, scale), tf.tensor1d(shift))
    })
}

/** Mean per-sample SSM value at a fixed t (λ = 1: the bare objective). */
function ssmAt(sde: Sde, scoreFn: ReturnType<typeof gaussianScore>, t: number, opts: SsmOptions, n = 8192): number {
  return tf.tidy(() => {
    const x0 = gaussianData(n, 11)
    const r = ssmLoss(scoreFn, sde, x0, new Rng(3), { weighting: 'uniform', t: tf.fill([n], t) as tf.Tensor1D, ...opts })
    return r.loss.dataSync()[0]!
  })
}

describe('sliced score matching: known answer on Gaussian data', () => {
  const sde = createSde({ name: 'vpsde' })
  const totalVar = (t: number) => sde.marginalMeanCoeffAt(t) ** 2 * S * S + sde.marginalStdAt(t) ** 2

  for (const projections of PROJECTIONS) {
    for (const varianceReduced of [true, false]) {
      it(`${projections}${varianceReduced ? ', VR' : ', plain'}: the exact score's value is −d/(2σ_t²) and every perturbation of it scores worse`, () => {
        const report: string[] = []
        for (const t of [0.05, 0.4, 0.9]) {
          const opts = { projections, varianceReduced, projectionCount: 2 }
          const exact = ssmAt(sde, gaussianScore(sde), t, opts)
          const closed = -D / (2 * totalVar(t))
          report.push(`t ${t}: ${exact.toFixed(4)} vs ${closed.toFixed(4)}`)
          // Monte Carlo over 8192 samples × 2 projections: a few % at most (Rademacher's trace is exact).
          expect(Math.abs(exact / closed - 1)).toBeLessThan(0.05)
          for (const [scale, shift] of [[0.7, [0, 0]], [1.3, [0, 0]], [1, [0.4, 0]], [1, [0, -0.4]]] as [number, number[]][]) {
            const other = ssmAt(sde, gaussianScore(sde, scale, shift), t, opts)
            // Expected excess: ½E‖δ‖² = ½(scale−1)²·d/σ_t² + ½‖shift‖²/1, well above the noise.
            expect(other, `t ${t}, scale ${scale}, shift ${shift}`).toBeGreaterThan(exact)
          }
        }
        console.log(`SSM at the exact score (${projections}, ${varianceReduced ? 'VR' : 'plain'}): ${report.join('; ')}`)
      })
    }
  }

  it('weights by the registry λ(t): std2 gives λ·(−d/(2σ_t²)) per sample, and perturbs x exactly as DSM does', () => {
    const n = 4096
    const t = 0.4
    const [withStd2, uniform, dsmX, ssmX] = tf.tidy(() => {
      const x0 = gaussianData(n, 12)
      const tt = tf.fill([n], t) as tf.Tensor1D
      const a = ssmLoss(gaussianScore(sde), sde, x0, new Rng(4), { weighting: 'std2', t: tt, projections: 'rademacher' }).loss.dataSync()[0]!
      const b = ssmLoss(gaussianScore(sde), sde, x0, new Rng(4), { weighting: 'uniform', t: tt, projections: 'rademacher' }).loss.dataSync()[0]!
      const mean = ssmLoss(gaussianScore(sde), sde, x0, new Rng(4), { weighting: 'uniform', t: tt, reduction: 'mean' }).loss.dataSync()[0]!
      expect(mean).toBeCloseTo(b / D, 5) // 'mean' averages over the D elements, as DSM's does
      // The score function sees x̃: record it under both losses from the same Rng state.
      const seen: Float32Array[] = []
      const spy = (x: tf.Tensor, tm: tf.Tensor1D) => (seen.push(x.dataSync() as Float32Array), gaussianScore(sde)(x, tm))
      dsmLoss(spy, sde, x0, new Rng(4), { t: tt })
      ssmLoss(spy, sde, x0, new Rng(4), { t: tt })
      return [a, b, seen[0]!, seen[1]!]
    })
    expect(withStd2 / uniform).toBeCloseTo(sde.marginalStdAt(t) ** 2, 5)
    expect(Array.from(ssmX)).toEqual(Array.from(dsmX))
  })

  it('a linear score model s = xA + b: the gradient vanishes at the exact solution and not away from it', () => {
    const t = 0.5
    const n = 65536
    const m = sde.marginalMeanCoeffAt(t)
    const v = totalVar(t)
    const gradNorm = (a: number) =>
      tf.tidy(() => {
        const A = tf.variable(tf.mul(tf.eye(D), -a / v))
        const b = tf.variable(tf.mul(tf.tensor1d(MU), (a * m) / v))
        const x0 = gaussianData(n, 13)
        const tt = tf.fill([n], t) as tf.Tensor1D
        const { grads } = tf.variableGrads(() => ssmLoss((x) => tf.add(tf.matMul(x as tf.Tensor2D, A), b), sde, x0, new Rng(5), { weighting: 'uniform', t: tt }).loss, [A, b])
        const norm = Math.hypot(...grads[A.name]!.dataSync(), ...grads[b.name]!.dataSync())
        tf.dispose([A, b])
        return norm
      })
    const atExact = gradNorm(1)
    const away = Math.min(gradNorm(0.5), gradNorm(1.5))
    console.log(`linear model: ‖∇θ L‖ at the exact score ${atExact.toExponential(2)}, at 0.5× or 1.5× it ≥ ${away.toExponential(2)}`)
    // ∂L/∂A = I + E[x̃ᵀs]: exactly 0 in expectation at A = −I/σ_t² (the Jacobian term gives I, exactly
    // for Rademacher v); what is left is the Monte Carlo error of the sample covariance, ~1/√n.
    expect(atExact).toBeLessThan(0.05 * away)
  })

  it('keeps no tensor', () => {
    const before = tf.memory().numTensors
    ssmAt(sde, gaussianScore(sde), 0.3, { projections: 'gaussian', projectionCount: 3 }, 64)
    ssmAt(sde, gaussianScore(sde), 0.3, { varianceReduced: false }, 64)
    expect(tf.memory().numTensors).toBe(before)
  })
})

describe('double backprop', () => {
  const nested = (f: (x: tf.Tensor) => tf.Tensor, at: number[]) => tf.tidy(() => Array.from(tf.grad((a: tf.Tensor) => tf.sum(tf.grad((b: tf.Tensor) => tf.sum(f(b)))(a)))(tf.tensor1d(at)).dataSync()))

  it("tfjs' sigmoid and tanh gradients cannot be differentiated again; sigmoidTwice's can, with the exact σ''", () => {
    expect(() => nested(tf.sigmoid, [0.3])).toThrow(/Cannot compute gradient/)
    expect(() => nested(tf.tanh, [0.3])).toThrow(/Cannot compute gradient/)
    const xs = [0.3, -1.2, 2]
    const got = nested(sigmoidTwice, xs)
    xs.forEach((x, i) => {
      const s = 1 / (1 + Math.exp(-x))
      expect(got[i]).toBeCloseTo(s * (1 - s) * (1 - 2 * s), 6)
    })
    // First order: the same numbers as tf.sigmoid's gradient.
    const g1 = tf.tidy(() => [tf.grad((a: tf.Tensor) => tf.sum(tf.sigmoid(a)))(tf.tensor1d(xs)).dataSync(), tf.grad((a: tf.Tensor) => tf.sum(sigmoidTwice(a)))(tf.tensor1d(xs)).dataSync()])
    expect(Array.from(g1[1]!)).toEqual(Array.from(g1[0]!))
  })

  /** The SSM loss's gradient along a random direction of all parameters, by tfjs and by central differences. */
  function directional(params: tf.Variable[], loss: () => tf.Scalar): { tape: number; fd: number } {
    const dirs = params.map((p, i) => tf.randomNormal(p.shape, 0, 1, 'float32', 100 + i))
    const tape = tf.tidy(() => {
      const { grads } = tf.variableGrads(loss, params)
      return params.reduce((acc, p, i) => acc + tf.sum(tf.mul(grads[p.name]!, dirs[i]!)).dataSync()[0]!, 0)
    })
    const h = 1e-2
    const shifted = (sign: number) => {
      const saved = params.map((p) => tf.clone(p))
      params.forEach((p, i) => p.assign(tf.tidy(() => tf.add(p, tf.mul(dirs[i]!, sign * h)))))
      const value = tf.tidy(() => loss().dataSync()[0]!)
      params.forEach((p, i) => p.assign(saved[i]!))
      tf.dispose(saved)
      return value
    }
    const fd = (shifted(1) - shifted(-1)) / (2 * h)
    tf.dispose(dirs)
    return { tape, fd }
  }

  it('a one-layer swish net: tf.sigmoid drops terms of the weights gradient, sigmoidTwice matches finite differences', () => {
    const sde = createSde({ name: 'vpsde' })
    const W1 = tf.variable(tf.randomNormal([D, 16], 0, 1, 'float32', 1))
    const b1 = tf.variable(tf.randomNormal([16], 0, 0.5, 'float32', 2))
    const W2 = tf.variable(tf.randomNormal([16, D], 0, 0.5, 'float32', 3))
    const x0 = gaussianData(32, 14)
    const t = tf.fill([32], 0.3) as tf.Tensor1D
    const check = (sigmoid: (x: tf.Tensor) => tf.Tensor) => {
      const net = (x: tf.Tensor) => {
        const h = tf.add(tf.matMul(x as tf.Tensor2D, W1), b1)
        return tf.matMul(tf.mul(h, sigmoid(h)) as tf.Tensor2D, W2)
      }
      return directional([W1, b1, W2], () => ssmLoss(net, sde, x0, new Rng(6), { weighting: 'uniform', t }).loss)
    }
    const plain = check(tf.sigmoid)
    const twice = check(sigmoidTwice)
    console.log(`directional derivative: tf.sigmoid tape ${plain.tape.toFixed(5)} vs FD ${plain.fd.toFixed(5)}; sigmoidTwice tape ${twice.tape.toFixed(5)} vs FD ${twice.fd.toFixed(5)}`)
    expect(Math.abs(twice.tape - twice.fd)).toBeLessThan(0.01 * Math.abs(twice.fd))
    expect(Math.abs(plain.tape - plain.fd)).toBeGreaterThan(0.05 * Math.abs(plain.fd))
    tf.dispose([W1, b1, W2, x0, t])
  })

  it('the mlp (labels too): its weights gradient through the Jacobian term matches finite differences', () => {
    const sde = createSde({ name: 'vesde', sigmaMin: 0.05, sigmaMax: 3 })
    for (const classes of [0, 3]) {
      const model = createModel('mlp', { shape: [2], sde, seed: 2, options: { hidden: 16, layers: 2, embedDim: 8, classes } })
      const x0 = gaussianData(32, 15)
      const t = tf.tensor1d(Array.from({ length: 32 }, (_, i) => 0.05 + (0.9 * i) / 31))
      const labels = classes ? tf.tensor1d(Array.from({ length: 32 }, (_, i) => i % (classes + 1)), 'int32') : undefined
      const params = [...model.params.values()]
      const { tape, fd } = directional(params, () => ssmLoss((x, tt) => model.score(x, tt, labels), sde, x0, new Rng(7), { t, projections: 'gaussian' }).loss)
      console.log(`mlp (classes ${classes}) directional derivative: tape ${tape.toFixed(5)} vs FD ${fd.toFixed(5)}`)
      expect(Math.abs(tape - fd)).toBeLessThan(0.01 * Math.abs(fd))
      tf.dispose([x0, t, ...(labels ? [labels] : [])])
      model.dispose()
    }
  })
})

describe('objectives in the trainer', () => {
  it('the names have one owner: the contract lists the engine registries, and every model is reviewed for second order', () => {
    expect([...TRAIN_OBJECTIVES]).toEqual(Object.keys(OBJECTIVES))
    expect([...SSM_PROJECTIONS]).toEqual([...PROJECTIONS])
    expect(Object.keys(SECOND_ORDER).sort()).toEqual(Object.keys(MODELS).sort())
  })

  it('refuses ssm for networks without second-order gradients, naming why; unknown names and projections are refused', () => {
    const sde = createSde({ name: 'vpsde' })
    for (const [name, shape, why] of [['scorenet', [28, 28, 1], /GroupNorm/], ['mixer', [28, 28, 1], /tanh/]] as const) {
      const model = createModel(name, { shape: [...shape], sde, seed: 0 })
      expect(() => new Trainer({ model, sde, config: { objective: 'ssm' } })).toThrow(why)
      expect(() => new Trainer({ model, sde, config: { objective: 'ssm' } })).toThrow(/second-order|gradient of a gradient/)
      new Trainer({ model, sde, config: { objective: 'dsm' } }).dispose()
      model.dispose()
    }
    const mlp = createModel('mlp', { shape: [2], sde, seed: 0, options: { hidden: 8, layers: 1, embedDim: 4 } })
    expect(() => new Trainer({ model: mlp, sde, config: { objective: 'ism' } })).toThrow(/Unknown objective "ism". Choose one of: dsm, ssm/)
    expect(() => new Trainer({ model: mlp, sde, config: { objective: 'ssm', projections: 'sphere' as never } })).toThrow()
    mlp.dispose()
  })

  it('trains an mlp with ssm: finite losses, per-t buckets, no tensor kept; the state records the objective', async () => {
    const sde = createSde({ name: 'vpsde' })
    const model = createModel('mlp', { shape: [2], sde, seed: 0, options: { hidden: 16, layers: 2, embedDim: 8, classes: 2 } })
    const trainer = new Trainer({ model, sde, config: { objective: 'ssm', projections: 'gaussian', projectionCount: 2, lr: 1e-3, labelDropout: 0.2 } })
    const x = gaussianData(64, 16)
    const labels = Array.from({ length: 64 }, (_, i) => i % 2)
    await stepAndRead(trainer, x, labels)
    const before = tf.memory().numTensors
    const m = await stepAndRead(trainer, x, labels)
    expect(tf.memory().numTensors).toBe(before)
    expect(Number.isFinite(m.loss) && Number.isFinite(m.gradNorm)).toBe(true)
    expect(m.bucketLoss.filter(Number.isFinite).length).toBeGreaterThan(5)
    expect((await trainer.exportState()).train).toMatchObject({ objective: 'ssm', projections: 'gaussian', projectionCount: 2 })
    tf.dispose(x)
    trainer.dispose()
    model.dispose()
  })
})
