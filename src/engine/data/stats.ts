// Numbers and pictures the UI shows for a data set, computed in plain JS over the uint8
// pixels (no tensors, so nothing to dispose and no backend needed).
import { imageAt, type ImageSet } from './image-set'
import { mixSeed, seededRandom, shuffledIndices } from './shuffle'

export function classCounts(set: ImageSet): number[] {
  const counts = new Array<number>(set.classNames.length).fill(0)
  for (let i = 0; i < set.labels.length; i++) counts[set.labels[i]]++
  return counts
}

export interface ChannelStats {
  /** Per channel, of pixel values in [0, 1] (for [−1, 1] data: 2·mean − 1 and 2·std). */
  mean: number[]
  std: number[]
}

export function channelStats(set: ImageSet): ChannelStats {
  const c = set.channels
  // Integer histograms per channel: exact, and one increment per pixel.
  const hist = Array.from({ length: c }, () => new Float64Array(256))
  const px = set.images
  if (c === 1) {
    const h0 = hist[0]
    for (let i = 0; i < px.length; i++) h0[px[i]]++
  } else {
    for (let i = 0; i < px.length; i += c) for (let ch = 0; ch < c; ch++) hist[ch][px[i + ch]]++
  }
  const mean: number[] = []
  const std: number[] = []
  for (const h of hist) {
    let n = 0
    let s = 0
    for (let v = 0; v < 256; v++) {
      n += h[v]
      s += h[v] * v
    }
    const m = s / n
    let ss = 0
    for (let v = 0; v < 256; v++) ss += h[v] * (v - m) * (v - m)
    mean.push(m / 255)
    std.push(Math.sqrt(ss / n) / 255)
  }
  return { mean, std }
}

export interface PreviewGrid {
  /** One row per class, `cols` random examples of that class per row. */
  rows: number
  cols: number
  width: number
  height: number
  /** 'gray': 1 byte per pixel; 'rgba': 4 bytes per pixel, alpha 255. */
  format: 'gray' | 'rgba'
  data: Uint8Array
  /** Which example sits in each cell (−1 where a class has fewer examples than cols). */
  indices: number[][]
}

export function previewGrid(set: ImageSet, opts: { perClass?: number; seed?: number; pad?: number } = {}): PreviewGrid {
  const cols = opts.perClass ?? 8
  const pad = opts.pad ?? 2
  const rows = set.classNames.length
  const { height: h, width: w, channels: c } = set
  const format = c === 1 ? 'gray' : 'rgba'
  const bpp = format === 'gray' ? 1 : 4
  const width = cols * w + (cols + 1) * pad
  const height = rows * h + (rows + 1) * pad
  const data = new Uint8Array(width * height * bpp)
  if (bpp === 4) for (let i = 3; i < data.length; i += 4) data[i] = 255
  // A random order of the whole set, then the first `cols` hits per class: random and seeded.
  const order = shuffledIndices(set.count, seededRandom(mixSeed(opts.seed ?? 0, 0x5eed)))
  const indices = Array.from({ length: rows }, () => [] as number[])
  for (let k = 0; k < order.length; k++) {
    const cell = indices[set.labels[order[k]]]
    if (cell && cell.length < cols) cell.push(order[k])
  }
  for (let r = 0; r < rows; r++) {
    while (indices[r].length < cols) indices[r].push(-1)
    for (let col = 0; col < cols; col++) {
      const idx = indices[r][col]
      if (idx < 0) continue
      const img = imageAt(set, idx)
      const x0 = pad + col * (w + pad)
      const y0 = pad + r * (h + pad)
      for (let y = 0; y < h; y++) {
        for (let x = 0; x < w; x++) {
          const o = ((y0 + y) * width + x0 + x) * bpp
          const s = (y * w + x) * c
          if (bpp === 1) data[o] = img[s]
          else if (c === 3) {
            data[o] = img[s]
            data[o + 1] = img[s + 1]
            data[o + 2] = img[s + 2]
          } else data[o] = data[o + 1] = data[o + 2] = img[s]
        }
      }
    }
  }
  return { rows, cols, width, height, format, data, indices }
}

export interface SigmaMaxSuggestion {
  /** Largest L2 distance between two sampled training images, in the model's scaling. */
  sigmaMax: number
  sampleSize: number
  seed: number
  centered: boolean
  /** The two examples that are farthest apart. */
  pair: [number, number]
}

/**
 * Technique 1 of Song & Ermon (2020, "Improved techniques for training score-based
 * generative models"): σ_max should be about the largest pairwise distance in the data,
 * so the prior covers every pair. Exact over a random sample (O(n²·d) in plain JS).
 */
export function suggestSigmaMax(set: ImageSet, opts: { sampleSize?: number; seed?: number; centered?: boolean } = {}): SigmaMaxSuggestion {
  const seed = opts.seed ?? 0
  const centered = opts.centered ?? false
  const n = Math.min(opts.sampleSize ?? 1000, set.count)
  const pick = shuffledIndices(set.count, seededRandom(mixSeed(seed, 0x51)))
  const d = set.height * set.width * set.channels
  // The sample as contiguous bytes: distances in integer pixel units are exact, and V8 keeps
  // the int32 sums unboxed, which is the fastest plain-JS inner loop we measured.
  const x = new Uint8Array(n * d)
  for (let k = 0; k < n; k++) x.set(imageAt(set, pick[k]), k * d)
  const distance = d * 255 * 255 <= 0x7fffffff ? squaredDistanceInt : squaredDistanceFloat
  let best = 0
  let pair: [number, number] = [pick[0] ?? 0, pick[0] ?? 0]
  for (let a = 0; a < n; a++) {
    for (let b = a + 1; b < n; b++) {
      const s = distance(x, a * d, b * d, d)
      if (s > best) {
        best = s
        pair = [pick[a], pick[b]]
      }
    }
  }
  // Distances scale linearly with the affine map [0,1] → [−1,1].
  const sigmaMax = (Math.sqrt(best) / 255) * (centered ? 2 : 1)
  return { sigmaMax, sampleSize: n, seed, centered, pair }
}

/** Σ (x[a+i] − x[b+i])² in int32; callers make sure d·255² cannot overflow. */
function squaredDistanceInt(x: Uint8Array, a: number, b: number, d: number): number {
  let s = 0
  for (let i = 0; i < d; i++) {
    const q = x[a + i] - x[b + i]
    s = (s + q * q) | 0
  }
  return s
}

/** The same in doubles, for images too large for an int32 sum. */
function squaredDistanceFloat(x: Uint8Array, a: number, b: number, d: number): number {
  let s = 0
  for (let i = 0; i < d; i++) {
    const q = x[a + i] - x[b + i]
    s += q * q
  }
  return s
}
