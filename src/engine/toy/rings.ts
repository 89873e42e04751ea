// `toy-rings`: concentric circles with Gaussian radial noise; a ring is picked with
// probability proportional to its radius, so points are uniform along the curves.
import type { Rng } from '../rng'
import type { DensityToyDataset } from './types'

export interface RingsOptions {
  radii: number[]
  noise: number
}

export class RingsToy implements DensityToyDataset {
  readonly name = 'toy-rings'
  readonly dim = 2
  readonly config: Record<string, unknown>
  private readonly radii: number[]
  private readonly noise: number

  constructor(opts: Partial<RingsOptions> = {}) {
    this.radii = opts.radii ?? [1, 2]
    this.noise = opts.noise ?? 0.05
    if (this.radii.length === 0 || this.radii.some((r) => !(r > 0))) throw new Error('toy-rings: radii must be positive')
    if (!(this.noise >= 0)) throw new Error('toy-rings: noise must be >= 0')
    this.config = { radii: this.radii, noise: this.noise }
  }

  get hasDensity(): boolean {
    return this.noise > 0
  }

  /**
   * Exact log p(x). A point is r·(cos θ, sin θ) with θ uniform and r ~ N(R_k, s²) for ring k
   * (weight w_k ∝ R_k); a negative r lands at radius |r| on the opposite side, so at radius ρ
   *   p(x) = Σ_k w_k [φ((ρ − R_k)/s) + φ((ρ + R_k)/s)] / (s · 2πρ),   φ the standard normal pdf.
   */
  logDensity(x: Float32Array): Float64Array {
    if (!this.hasDensity) throw new Error('toy-rings: with noise 0 the points lie on circles and have no density')
    const s = this.noise
    const total = this.radii.reduce((a, b) => a + b, 0)
    const logw = this.radii.map((r) => Math.log(r / total))
    const n = x.length / 2
    const out = new Float64Array(n)
    const terms = new Float64Array(2 * this.radii.length)
    for (let i = 0; i < n; i++) {
      const rho = Math.max(Math.hypot(x[2 * i]!, x[2 * i + 1]!), 1e-12)
      this.radii.forEach((R, k) => {
        terms[2 * k] = logw[k]! - 0.5 * ((rho - R) / s) ** 2
        terms[2 * k + 1] = logw[k]! - 0.5 * ((rho + R) / s) ** 2
      })
      out[i] = logSumExp(terms) - 0.5 * Math.log(2 * Math.PI) - Math.log(s) - Math.log(2 * Math.PI * rho)
    }
    return out
  }

  sample(n: number, rng: Rng): Float32Array {
    const total = this.radii.reduce((a, b) => a + b, 0)
    const out = new Float32Array(n * 2)
    for (let i = 0; i < n; i++) {
      let u = rng.float() * total
      let k = 0
      while (k < this.radii.length - 1 && u >= this.radii[k]) u -= this.radii[k++]
      const theta = 2 * Math.PI * rng.float()
      const r = this.radii[k] + this.noise * rng.normal()
      out[2 * i] = r * Math.cos(theta)
      out[2 * i + 1] = r * Math.sin(theta)
    }
    return out
  }
}

function logSumExp(a: Float64Array): number {
  let max = -Infinity
  for (const v of a) if (v > max) max = v
  if (max === -Infinity) return -Infinity
  let sum = 0
  for (const v of a) sum += Math.exp(v - max)
  return max + Math.log(sum)
}
