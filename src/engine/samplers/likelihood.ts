// Exact log-likelihood through the probability-flow ODE (score_sde's likelihood.py, the
// tutorial's ode_likelihood): integrate, from eps to T,
//   dx/dt = F(x, t) = f − ½g²s,   d(Δlogp)/dt = div F(x, t)   (divergence of the FULL drift, f included)
// then log p_eps(x) = log p_T(x(T)) + Δlogp(T) (instantaneous change of variables).
// div F is the Skilling–Hutchinson estimate εᵀ(∂F/∂x)ε with probes ε (Gaussian or Rademacher;
// one by default, as score_sde; K probes average K estimates for 1/K of the variance at K
// backward passes per evaluation) drawn per call and held fixed for the whole solve (score_sde
// #10: resampling them would make the adaptive solver chase noise), or, for low-D data, the
// exact trace from D backward passes.
//
// Bits/dim convention: bpd = −log p(x)/(D·ln 2) + offset, with offset = log₂(number of 8-bit
// bins per unit) = 8 for data in [0, 1] (the tutorial) and 7 for data in [−1, 1] (score_sde's
// `7 − inverse_scaler(−1)`). It is the bits/dim of the 8-bit data only when the data were
// uniformly dequantised, x = (255·x + U)/256 (`dequantize: true`); for continuous data use logp.
import { tf } from '../tf'
import type { ScoreFn, Sde } from '../sde/types'
import { NoiseSource } from './noise'
import { definedOnly } from './pc'
import { dopri5 } from './solvers/dopri5'
import { solveFixedStep, type FixedStepMethod } from './solvers/fixed-step'

export interface LikelihoodOptions {
  /** Start time of the integration (reference: 1e-5). */
  eps: number
  rtol: number
  atol: number
  /** 'rk45' (adaptive, reference) or fixed-step 'rk4' / 'euler' with n steps. */
  method: 'rk45' | FixedStepMethod
  n: number
  /** Trace estimator: 'rademacher' (score_sde default), 'gaussian' (tutorial), or 'exact'. */
  hutchinson: 'rademacher' | 'gaussian' | 'exact'
  /** Hutchinson probes averaged per evaluation (ignored by 'exact'). */
  probes: number
  /** Seeds the probe and the dequantisation noise. */
  seed: number
  /** Range of the data: sets the bits/dim offset (8 for 'unit' [0,1], 7 for 'centered' [−1,1]). */
  dataRange: 'unit' | 'centered'
  /** Uniformly dequantise 8-bit data first. */
  dequantize: boolean
  signal?: AbortSignal
  onStep?: (info: { t: number; nfe: number; step: number }) => void | Promise<void>
}

export const LIKELIHOOD_DEFAULTS = {
  eps: 1e-5, rtol: 1e-5, atol: 1e-5, method: 'rk45', n: 100, hutchinson: 'rademacher', probes: 1, seed: 0, dataRange: 'unit', dequantize: false
} as const

export interface LikelihoodResult {
  /** log p(x) in nats, per sample (of the dequantised x when dequantize is on). */
  logp: Float64Array
  bpd: Float64Array
  /** log p_T(x(T)) per sample. */
  priorLogp: Float64Array
  /** ∫ div F dt per sample. */
  deltaLogp: Float64Array
  /** The latent x(T), [B, ...shape] flattened. */
  z: Float32Array
  nfe: number
  seconds: number
}

/** Uniform dequantisation of 8-bit data: x ← (255·x + U)/256 on the [0, 1] scale. */
export function dequantize(x: tf.Tensor, noise: NoiseSource, dataRange: 'unit' | 'centered'): tf.Tensor {
  return tf.tidy(() => {
    const unit = dataRange === 'unit' ? x : tf.div(tf.add(x, 1), 2)
    const deq = tf.div(tf.add(tf.mul(unit, 255), noise.uniform(x.shape)), 256)
    return dataRange === 'unit' ? deq : tf.sub(tf.mul(deq, 2), 1)
  })
}

/** Drift F and its (estimated) divergence, [B], at (x, t). */
function driftAndDivergence(
  drift: (x: tf.Tensor) => tf.Tensor, x: tf.Tensor, probes: tf.Tensor[] | null
): { F: tf.Tensor; div: tf.Tensor1D } {
  const B = x.shape[0]
  const D = x.size / B
  if (probes) {
    let F: tf.Tensor | null = null
    let div = tf.zeros([B]) as tf.Tensor1D
    for (const probe of probes) {
      const g = tf.grad((xx: tf.Tensor) => {
        const d = drift(xx)
        if (!F) F = tf.keep(d) // tf.grad tidies the forward pass; keep the drift itself (once)
        return tf.sum(tf.mul(d, probe))
      })(x)
      const next = tf.tidy(() => tf.add(div, tf.div(tf.sum(tf.reshape(tf.mul(g, probe), [B, D]), 1), probes.length)) as tf.Tensor1D)
      tf.dispose([g, div])
      div = next
    }
    return { F: F!, div }
  }
  // Exact trace: one backward pass per dimension, picking ∂F_j/∂x_j.
  const F = tf.tidy(() => drift(x))
  const div = tf.tidy(() => {
    let acc = tf.zeros([B]) as tf.Tensor1D
    for (let j = 0; j < D; j++) {
      const g = tf.grad((xx: tf.Tensor) => tf.sum(tf.slice(tf.reshape(drift(xx), [B, D]), [0, j], [B, 1])))(x)
      acc = tf.add(acc, tf.reshape(tf.slice(tf.reshape(g, [B, D]), [0, j], [B, 1]), [B])) as tf.Tensor1D
    }
    return acc
  })
  return { F, div }
}

/** log p(x), bits/dim, prior log-density and NFE for a batch x ([B, ...shape]). */
export async function logLikelihood(scoreFn: ScoreFn, sde: Sde, x: tf.Tensor, options: Partial<LikelihoodOptions> = {}): Promise<LikelihoodResult> {
  const o = { ...LIKELIHOOD_DEFAULTS, ...definedOnly(options) }
  const started = performance.now()
  const shape = x.shape
  const B = shape[0]
  const D = x.size / B
  const noise = new NoiseSource(o.seed)
  const rsde = sde.reverse(scoreFn, true)
  if (!(Number.isInteger(o.probes) && o.probes >= 1)) throw new Error(`likelihood: probes must be a whole number ≥ 1, got ${o.probes}`)
  const probes = o.hutchinson === 'exact' ? null : Array.from({ length: o.probes }, () => (o.hutchinson === 'gaussian' ? noise.normal(shape) : noise.rademacher(shape)))
  let nfe = 0
  try {
    const x0 = o.dequantize ? dequantize(x, noise, o.dataRange) : tf.clone(x)
    const y0 = new Float64Array(B * D + B)
    y0.set(await x0.data())
    x0.dispose()

    const rhs = async (t: number, y: Float64Array): Promise<Float64Array> => {
      nfe++
      const xt = tf.tensor(Float32Array.from(y.subarray(0, B * D)), shape)
      const tv = tf.fill([B], t) as tf.Tensor1D
      const { F, div } = driftAndDivergence((xx) => rsde.sde(xx, tv).drift, xt, probes)
      try {
        const out = new Float64Array(B * D + B)
        out.set(await F.data())
        out.set(await div.data(), B * D)
        return out
      } finally {
        tf.dispose([xt, tv, F, div])
      }
    }
    const solverOpts = { signal: o.signal, onStep: o.onStep && ((i: { t: number; step: number }) => o.onStep!({ t: i.t, step: i.step, nfe })) }
    const sol = o.method === 'rk45'
      ? await dopri5(rhs, [o.eps, sde.T], y0, { rtol: o.rtol, atol: o.atol, ...solverOpts })
      : await solveFixedStep(rhs, [o.eps, sde.T], y0, o.n, o.method, solverOpts)

    const z = Float32Array.from(sol.y.subarray(0, B * D))
    const prior = tf.tidy(() => sde.priorLogp(tf.tensor(z, shape)))
    const priorLogp = Float64Array.from(await prior.data())
    prior.dispose()
    const deltaLogp = Float64Array.from(sol.y.subarray(B * D))
    const logp = priorLogp.map((p, i) => p + deltaLogp[i])
    const offset = o.dataRange === 'unit' ? 8 : 7
    const bpd = logp.map((l) => -l / (D * Math.LN2) + offset)
    return { logp, bpd, priorLogp, deltaLogp, z, nfe, seconds: (performance.now() - started) / 1000 }
  } finally {
    if (probes) tf.dispose(probes)
  }
}
