// `toy-rings`: concentric circles with Gaussian radial noise; a ring is picked with
// probability proportional to its radius, so points are uniform along the curves.
import type { Rng } from '../rng'
import type { ToyDataset } from './types'

export interface RingsOptions {
  radii: number[]
  noise: number
}

export class RingsToy implements ToyDataset {
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
