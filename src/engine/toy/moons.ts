// `toy-moons`: scikit-learn's make_moons (two interleaved half circles), centred at the
// origin, with isotropic Gaussian noise.
import type { Rng } from '../rng'
import type { DensityToyDataset } from './types'

/** Quadrature nodes per half circle for logDensity. */
export const MOON_NODES = 2048

export interface MoonsOptions {
  noise: number
  scale: number
}

export class MoonsToy implements DensityToyDataset {
  readonly name = 'toy-moons'
  readonly dim = 2
  readonly config: Record<string, unknown>
  private readonly noise: number
  private readonly scale: number

  constructor(opts: Partial<MoonsOptions> = {}) {
    this.noise = opts.noise ?? 0.05
    this.scale = opts.scale ?? 1
    if (!(this.noise >= 0) || !(this.scale > 0)) throw new Error('toy-moons: noise must be >= 0 and scale > 0')
    this.config = { noise: this.noise, scale: this.scale }
  }

  get hasDensity(): boolean {
    return this.noise > 0
  }

  /**
   * log p(x) by quadrature over the curves: θ ~ U(0, π) on either half circle (½ each), then
   * isotropic noise of std s = scale·noise, so
   *   p(x) = ½ Σ_{moon} (1/π) ∫₀^π N(x; scale·c(θ), s²I) dθ,
   * integrated with the midpoint rule on MOON_NODES nodes per curve. The nodes are
   * π·scale/MOON_NODES ≈ 0.0015 apart against s = 0.05 (default), so the sum matches the
   * integral to far better than the metrics need (within 1e-4 in log p of 4× the nodes; a test checks it).
   */
  logDensity(x: Float32Array, nodes = MOON_NODES): Float64Array {
    if (!this.hasDensity) throw new Error('toy-moons: with noise 0 the points lie on curves and have no density')
    const K = nodes
    const s = this.scale * this.noise
    const cx = new Float64Array(2 * K)
    const cy = new Float64Array(2 * K)
    for (let k = 0; k < K; k++) {
      const theta = (Math.PI * (k + 0.5)) / K
      cx[k] = this.scale * (Math.cos(theta) - 0.5)
      cy[k] = this.scale * (Math.sin(theta) - 0.25)
      cx[K + k] = this.scale * (0.5 - Math.cos(theta))
      cy[K + k] = this.scale * (0.25 - Math.sin(theta))
    }
    // Each node carries weight 1/(2K); the Gaussian's normaliser is 1/(2πs²).
    const logNorm = -Math.log(2 * K) - Math.log(2 * Math.PI * s * s)
    const inv2s2 = 1 / (2 * s * s)
    const n = x.length / 2
    const out = new Float64Array(n)
    const e = new Float64Array(2 * K)
    for (let i = 0; i < n; i++) {
      const px = x[2 * i]!
      const py = x[2 * i + 1]!
      let max = -Infinity
      for (let k = 0; k < 2 * K; k++) {
        e[k] = -((px - cx[k]!) ** 2 + (py - cy[k]!) ** 2) * inv2s2
        if (e[k]! > max) max = e[k]!
      }
      let sum = 0
      for (let k = 0; k < 2 * K; k++) sum += Math.exp(e[k]! - max)
      out[i] = logNorm + max + Math.log(sum)
    }
    return out
  }

  sample(n: number, rng: Rng): Float32Array {
    const out = new Float32Array(n * 2)
    for (let i = 0; i < n; i++) {
      const theta = Math.PI * rng.float()
      const upper = rng.float() < 0.5
      // make_moons: outer (cos θ, sin θ), inner (1 − cos θ, 0.5 − sin θ); centre (0.5, 0.25).
      const x = upper ? Math.cos(theta) : 1 - Math.cos(theta)
      const y = upper ? Math.sin(theta) : 0.5 - Math.sin(theta)
      out[2 * i] = this.scale * (x - 0.5 + this.noise * rng.normal())
      out[2 * i + 1] = this.scale * (y - 0.25 + this.noise * rng.normal())
    }
    return out
  }
}
