// Normalised loss curves, for overlaying runs whose losses live on different scales (a VE run's
// loss in the thousands beside a VP run's below one): each curve divided by its first value
// (1 at the start, then the fraction of it that remains), or min–max scaled to [0, 1]. The
// scale comes from the raw series and is applied to its smoothed copy too, so both stay aligned.
// Pure; the loss-curve card and its tests share it.
import type { XY } from './smoothing'
import type { Normalize } from './prefs'

export type { Normalize }

/** y ↦ (y − offset) / scale; the identity when the series gives no usable scale. */
export interface Scale {
  offset: number
  scale: number
}

const IDENTITY: Scale = { offset: 0, scale: 1 }

/** The scale that normalises `raw` in this mode (identity for 'off', an empty series, or a zero first value / flat series). */
export function normalizeScale(raw: readonly XY[], mode: Normalize): Scale {
  if (mode === 'off') return IDENTITY
  if (mode === 'first') {
    const first = raw.find((p) => Number.isFinite(p.y))?.y
    return first !== undefined && first !== 0 ? { offset: 0, scale: first } : IDENTITY
  }
  let min = Infinity
  let max = -Infinity
  for (const p of raw) {
    if (!Number.isFinite(p.y)) continue
    if (p.y < min) min = p.y
    if (p.y > max) max = p.y
  }
  if (!(max > min)) return Number.isFinite(min) ? { offset: min, scale: 1 } : IDENTITY // flat: all at 0
  return { offset: min, scale: max - min }
}

/** The series with y ↦ (y − offset) / scale (x kept; non-finite y pass through). */
export function applyScale(points: readonly XY[], s: Scale): XY[] {
  if (s.offset === 0 && s.scale === 1) return points as XY[]
  return points.map((p) => ({ x: p.x, y: Number.isFinite(p.y) ? (p.y - s.offset) / s.scale : p.y }))
}

/** Both series of a run, normalised alike by the raw series' scale. */
export function normalizePair(raw: readonly XY[], smooth: readonly XY[], mode: Normalize): { raw: XY[]; smooth: XY[]; scale: Scale } {
  const scale = normalizeScale(raw, mode)
  return { raw: applyScale(raw, scale), smooth: applyScale(smooth, scale), scale }
}

/**
 * Memoised normalisation for a streaming chart: LossSeries hands out new arrays whenever points
 * arrive, so the same arrays and mode give back the same normalised arrays without recomputing.
 */
export class NormalizedPair {
  private key: { raw: readonly XY[]; smooth: readonly XY[]; mode: Normalize } | null = null
  private value: { raw: XY[]; smooth: XY[]; scale: Scale } = { raw: [], smooth: [], scale: IDENTITY }

  get(raw: readonly XY[], smooth: readonly XY[], mode: Normalize): { raw: XY[]; smooth: XY[]; scale: Scale } {
    const k = this.key
    if (!k || k.raw !== raw || k.smooth !== smooth || k.mode !== mode) {
      this.value = normalizePair(raw, smooth, mode)
      this.key = { raw, smooth, mode }
    }
    return this.value
  }
}

/** What the y axis shows, in words. */
export function normalizeLabel(mode: Normalize): string {
  return mode === 'first' ? 'loss ÷ first loss' : mode === 'minmax' ? 'loss, min–max scaled' : 'loss'
}
