// Analytic floor of the DSM loss for Gaussian data x0 ~ N(μ, s²I) in d dimensions, where the
// exact score of p_t = N(mμ, (m²s² + σ²)I) is known. With v = m²s² + σ², x − mμ = m s w + σ z:
//   σ s*(x) + z = (m²s²/v) z − (σ m s/v) w  ⇒  E‖σ s* + z‖² = d·m²s²/v  (not zero: DSM's
// target −z/σ is noisier than the true score). Times λ/σ², averaged over t ~ U(eps, T).
import type { Sde } from '../sde/types'
import { getWeighting } from './weighting'
import type { Reduction } from './dsm'

/** Expected per-sample loss at a fixed t. */
export function gaussianDsmFloorAt(sde: Sde, t: number, s: number, d: number, weighting = 'std2', reduction: Reduction = 'sum'): number {
  const m = sde.marginalMeanCoeffAt(t)
  const sigma = sde.marginalStdAt(t)
  const v = m * m * s * s + sigma * sigma
  const lambda = getWeighting(weighting).lambdaAt(sde, t)
  const perDim = (lambda / (sigma * sigma)) * ((m * m * s * s) / v)
  return reduction === 'sum' ? d * perDim : perDim
}

/**
 * E_t of the above for t ~ U(eps, T), by composite Simpson in u = ln t (the integrand varies
 * on the scale of t near eps); 20 000 intervals give ~1e-10 relative accuracy here.
 */
export function gaussianDsmFloor(sde: Sde, s: number, d: number, opts: { eps?: number; weighting?: string; reduction?: Reduction } = {}): number {
  const eps = opts.eps ?? 1e-5
  const n = 20_000
  const a = Math.log(eps)
  const b = Math.log(sde.T)
  const h = (b - a) / n
  let acc = 0
  for (let i = 0; i <= n; i++) {
    const t = Math.exp(a + i * h)
    const f = gaussianDsmFloorAt(sde, t, s, d, opts.weighting, opts.reduction) * t
    acc += (i === 0 || i === n ? 1 : i % 2 ? 4 : 2) * f
  }
  return (acc * h) / 3 / (sde.T - eps)
}
