// The picture of a set of samples, as a sample record keeps it: an image grid (at most `limit`
// images), or a density plot for 2-D points.
import { makeGrid, type RgbaImage } from '../../engine/images/grid'
import { scatterImage } from '../../engine/images/scatter'

/** `cols`: images per grid row (default: a square grid). */
export function samplesPicture(data: Float32Array, shape: number[], centered: boolean, limit = Infinity, cols?: number): RgbaImage {
  if (shape.length === 1) return scatterImage(data)
  const [h, w, c] = shape as [number, number, number]
  const count = Math.min(limit, data.length / (h * w * c))
  return makeGrid(data.subarray(0, count * h * w * c), [count, h, w, c], { range: centered ? [-1, 1] : [0, 1], ...(cols ? { cols } : {}) })
}
