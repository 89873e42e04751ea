// 2-D points → a density image (log-scaled 2-D histogram), the grid of a toy run.
import type { RgbaImage } from './grid'

export function scatterImage(points: Float32Array, opts: { size?: number; extent?: number } = {}): RgbaImage {
  const size = opts.size ?? 256
  const extent = opts.extent ?? 4 // toy sets live in about [−3, 3]²
  const counts = new Float32Array(size * size)
  for (let i = 0; i + 1 < points.length; i += 2) {
    const u = Math.floor(((points[i]! + extent) / (2 * extent)) * size)
    const v = Math.floor(((extent - points[i + 1]!) / (2 * extent)) * size)
    // A 3×3 splat per point: single pixels vanish when the image is shown scaled down.
    for (let dv = -1; dv <= 1; dv++) {
      for (let du = -1; du <= 1; du++) {
        const uu = u + du
        const vv = v + dv
        if (uu >= 0 && uu < size && vv >= 0 && vv < size) counts[vv * size + uu]! += du === 0 && dv === 0 ? 1 : 0.5
      }
    }
  }
  let max = 0
  for (const c of counts) max = Math.max(max, c)
  const data = new Uint8Array(size * size * 4)
  const norm = Math.log1p(max || 1)
  for (let p = 0; p < counts.length; p++) {
    // White background, points in the app's blue, darker where denser.
    const a = counts[p]! > 0 ? 0.45 + 0.55 * (Math.log1p(counts[p]!) / norm) : 0
    data[4 * p] = Math.round(255 * (1 - a) + 59 * a)
    data[4 * p + 1] = Math.round(255 * (1 - a) + 111 * a)
    data[4 * p + 2] = Math.round(255 * (1 - a) + 216 * a)
    data[4 * p + 3] = 255
  }
  return { width: size, height: size, data }
}
