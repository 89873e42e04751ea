// `toy-moons`: scikit-learn's make_moons (two interleaved half circles), centred at the
// origin, with isotropic Gaussian noise.
import type { Rng } from '../rng'
import type { ToyDataset } from './types'

export interface MoonsOptions {
  noise: number
  scale: number
}

export class MoonsToy implements ToyDataset {
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
