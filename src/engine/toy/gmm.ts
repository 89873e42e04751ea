// `toy-gmm`: an isotropic 2-D Gaussian mixture. Every SDE here has a Gaussian kernel
// N(m(t)x0, σ(t)²I), so the perturbed marginal is again a mixture,
//   p_t = Σ_k w_k N(m μ_k, (m²s_k² + σ²) I),
// with an exact log-density and score at every t: the known answer for score-learning tests.
import { tf } from '../tf'
import type { Rng } from '../rng'
import type { ScoreFn, Sde } from '../sde/types'
import type { AnalyticToyDataset } from './types'

export interface GmmOptions {
  means: [number, number][]
  stds: number[]
  weights: number[]
}

/** Eight Gaussians on a circle of radius 2 (the classic toy), std 0.25, equal weights. */
export function defaultGmmOptions(): GmmOptions {
  const means: [number, number][] = []
  for (let k = 0; k < 8; k++) means.push([2 * Math.cos((2 * Math.PI * k) / 8), 2 * Math.sin((2 * Math.PI * k) / 8)])
  return { means, stds: new Array(8).fill(0.25), weights: new Array(8).fill(1 / 8) }
}

export class GmmToy implements AnalyticToyDataset {
  readonly name = 'toy-gmm'
  readonly dim = 2
  readonly config: Record<string, unknown>
  private readonly means: [number, number][]
  private readonly stds: number[]
  private readonly weights: number[]
  private readonly cdf: number[]
  readonly hasDensity = true

  constructor(opts: Partial<GmmOptions> = {}) {
    const d = defaultGmmOptions()
    const means = opts.means ?? d.means
    const K = means.length
    const stds = opts.stds ?? (opts.means ? new Array(K).fill(0.25) : d.stds)
    const raw = opts.weights ?? new Array(K).fill(1)
    if (K === 0 || stds.length !== K || raw.length !== K) throw new Error(`toy-gmm: means, stds and weights must have the same non-zero length (${K}, ${stds.length}, ${raw.length})`)
    if (stds.some((s) => !(s > 0)) || raw.some((w) => !(w > 0))) throw new Error('toy-gmm: stds and weights must be positive')
    const total = raw.reduce((a, b) => a + b, 0)
    this.means = means.map((m) => [m[0], m[1]])
    this.stds = [...stds]
    this.weights = raw.map((w) => w / total)
    let c = 0
    this.cdf = this.weights.map((w) => (c += w))
    this.config = { means: this.means, stds: this.stds, weights: this.weights }
  }

  /** Number of components: the classes of sampleWithLabels. */
  get componentCount(): number {
    return this.means.length
  }

  sample(n: number, rng: Rng): Float32Array {
    return this.sampleWithLabels(n, rng).x
  }

  /** Samples [n, 2] with the component each came from (class labels for conditional models); same draws as sample(). */
  sampleWithLabels(n: number, rng: Rng): { x: Float32Array; labels: Int32Array } {
    const x = new Float32Array(n * 2)
    const labels = new Int32Array(n)
    for (let i = 0; i < n; i++) {
      const u = rng.float()
      let k = this.cdf.findIndex((c) => u < c)
      if (k < 0) k = this.means.length - 1
      x[2 * i] = this.means[k][0] + this.stds[k] * rng.normal()
      x[2 * i + 1] = this.means[k][1] + this.stds[k] * rng.normal()
      labels[i] = k
    }
    return { x, labels }
  }

  /** The one-component mixture of component k: its score is the exact class-conditional score. */
  component(k: number): GmmToy {
    if (!Number.isInteger(k) || k < 0 || k >= this.means.length) throw new Error(`toy-gmm: no component ${k} (have ${this.means.length})`)
    return new GmmToy({ means: [this.means[k]], stds: [this.stds[k]], weights: [1] })
  }

  /** Index of the nearest component mean to each point of x [n, 2]. */
  nearestComponent(x: ArrayLike<number>): Int32Array {
    const out = new Int32Array(x.length / 2)
    for (let i = 0; i < out.length; i++) {
      let best = Infinity
      this.means.forEach((m, k) => {
        const d = (x[2 * i] - m[0]) ** 2 + (x[2 * i + 1] - m[1]) ** 2
        if (d < best) [best, out[i]] = [d, k]
      })
    }
    return out
  }

  /** Component means and variances of p_t. */
  private components(sde?: Sde, t?: number): { mx: number; my: number; v: number; logw: number }[] {
    const m = sde && t !== undefined ? sde.marginalMeanCoeffAt(t) : 1
    const sigma = sde && t !== undefined ? sde.marginalStdAt(t) : 0
    return this.means.map((mu, k) => ({
      mx: m * mu[0],
      my: m * mu[1],
      v: m * m * this.stds[k] ** 2 + sigma * sigma,
      logw: Math.log(this.weights[k])
    }))
  }

  logDensity(x: Float32Array, sde?: Sde, t?: number): Float64Array {
    const comps = this.components(sde, t)
    const n = x.length / 2
    const out = new Float64Array(n)
    const logits = new Float64Array(comps.length)
    for (let i = 0; i < n; i++) {
      const px = x[2 * i]
      const py = x[2 * i + 1]
      componentLogits(comps, px, py, logits)
      out[i] = logSumExp(logits)
    }
    return out
  }

  score(x: Float32Array, sde?: Sde, t?: number): Float32Array {
    const comps = this.components(sde, t)
    const n = x.length / 2
    const out = new Float32Array(n * 2)
    const logits = new Float64Array(comps.length)
    for (let i = 0; i < n; i++) {
      const px = x[2 * i]
      const py = x[2 * i + 1]
      componentLogits(comps, px, py, logits)
      const lse = logSumExp(logits)
      let sx = 0
      let sy = 0
      comps.forEach((c, k) => {
        const r = Math.exp(logits[k] - lse)
        sx -= (r * (px - c.mx)) / c.v
        sy -= (r * (py - c.my)) / c.v
      })
      out[2 * i] = sx
      out[2 * i + 1] = sy
    }
    return out
  }

  scoreFn(sde: Sde): ScoreFn {
    return (x, t) =>
      tf.tidy(() => {
        const { meanCoeff, std } = sde.marginalCoeffs(t)
        const m = tf.reshape(meanCoeff, [-1, 1])
        const s2 = tf.reshape(tf.square(std), [-1, 1])
        const logits: tf.Tensor[] = []
        const grads: tf.Tensor[] = []
        this.means.forEach((mu, k) => {
          const v = tf.add(tf.mul(tf.square(m), this.stds[k] ** 2), s2) // [B,1]
          const diff = tf.sub(x, tf.mul(m, tf.tensor2d([mu], [1, 2]))) // [B,2]
          const sq = tf.sum(tf.square(diff), 1, true)
          logits.push(tf.sub(tf.sub(Math.log(this.weights[k]), tf.log(tf.mul(v, 2 * Math.PI))), tf.div(sq, tf.mul(v, 2))))
          grads.push(tf.neg(tf.div(diff, v)))
        })
        const r = tf.softmax(tf.concat(logits, 1), 1) // [B,K]
        let out = tf.zerosLike(x)
        grads.forEach((g, k) => {
          out = tf.add(out, tf.mul(tf.slice(r, [0, k], [-1, 1]), g))
        })
        return out
      })
  }
}

function logSumExp(a: Float64Array): number {
  let max = -Infinity
  for (const v of a) if (v > max) max = v
  if (max === -Infinity) return -Infinity
  let s = 0
  for (const v of a) s += Math.exp(v - max)
  return max + Math.log(s)
}

/** log(w_k · N((px, py); m_k, v_k·I)) for every component k, into `out`. */
function componentLogits(comps: readonly { logw: number; v: number; mx: number; my: number }[], px: number, py: number, out: Float64Array): void {
  comps.forEach((c, k) => {
    out[k] = c.logw - Math.log(2 * Math.PI * c.v) - ((px - c.mx) ** 2 + (py - c.my) ** 2) / (2 * c.v)
  })
}
