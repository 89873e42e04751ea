import type { Rng } from '../rng'
import type { ScoreFn, Sde } from '../sde/types'

/** A 2-D toy data set: seeded samples as a row-major Float32Array [n, 2]. */
export interface ToyDataset {
  readonly name: string
  readonly dim: 2
  /** Options that rebuild exactly this data set (stored in run configs). */
  readonly config: Record<string, unknown>
  sample(n: number, rng: Rng): Float32Array
}

/** A toy set whose data density p_0 is known (closed form, or a converged 1-D quadrature). */
export interface DensityToyDataset extends ToyDataset {
  /** log p_0(x) per point of x [n, 2], in nats. */
  logDensity(x: Float32Array): Float64Array
  /** False when these options have no density (zero noise: the points lie on a curve); logDensity then throws. */
  readonly hasDensity: boolean
}

/** A toy set whose density and score are known in closed form at every t of any SDE here. */
export interface AnalyticToyDataset extends DensityToyDataset {
  /** log p_t(x) per point (t omitted or no SDE: the data density p_0). */
  logDensity(x: Float32Array, sde?: Sde, t?: number): Float64Array
  /** ∇ₓ log p_t(x), [n, 2]. */
  score(x: Float32Array, sde?: Sde, t?: number): Float32Array
  /** The same score as a tensor function, for samplers and tests that want the exact score. */
  scoreFn(sde: Sde): ScoreFn
}
