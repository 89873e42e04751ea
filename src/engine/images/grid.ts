// Batch → one tiled RGBA image (torchvision's make_grid, plus the clamp the tutorial applies
// before showing samples). Pure JS over Float32Array, so a worker can send the result as is.

export interface GridOptions {
  /** Images per row (default ⌈√B⌉, the tutorial's nrow = √64 = 8). */
  cols?: number
  /** Pixels between tiles and around the border (default 2, as make_grid). */
  padding?: number
  /** Values mapped to black and white; anything outside is clamped (default [0, 1]). */
  range?: [number, number]
  /** Grey level of the padding in [0, 1] (default 0). */
  padValue?: number
}

export interface RgbaImage {
  width: number
  height: number
  /** Row-major RGBA, 4 bytes per pixel, alpha always 255. */
  data: Uint8Array
}

/**
 * Tiles a batch in NHWC layout ([B, H, W, C], C = 1 grey or 3 RGB) into rows × cols.
 * rows = ⌈B / cols⌉; empty cells keep the padding colour.
 */
export function makeGrid(batch: Float32Array, shape: [number, number, number, number], opts: GridOptions = {}): RgbaImage {
  const [B, H, W, C] = shape
  if (C !== 1 && C !== 3) throw new Error(`makeGrid needs 1 or 3 channels, got ${C}`)
  if (batch.length !== B * H * W * C) throw new Error(`makeGrid: ${batch.length} values do not fit shape [${shape.join(', ')}]`)
  const cols = Math.max(1, Math.min(opts.cols ?? Math.ceil(Math.sqrt(B)), B))
  const rows = Math.ceil(B / cols)
  const pad = opts.padding ?? 2
  const [lo, hi] = opts.range ?? [0, 1]
  if (!(hi > lo)) throw new Error(`makeGrid: range must be increasing, got [${lo}, ${hi}]`)
  const width = cols * (W + pad) + pad
  const height = rows * (H + pad) + pad
  const data = new Uint8Array(width * height * 4)
  const padByte = toByte(opts.padValue ?? 0, 0, 1)
  for (let p = 0; p < width * height; p++) {
    data[4 * p] = data[4 * p + 1] = data[4 * p + 2] = padByte
    data[4 * p + 3] = 255
  }
  for (let b = 0; b < B; b++) {
    const x0 = pad + (b % cols) * (W + pad)
    const y0 = pad + Math.floor(b / cols) * (H + pad)
    for (let y = 0; y < H; y++) {
      for (let x = 0; x < W; x++) {
        const src = ((b * H + y) * W + x) * C
        const dst = ((y0 + y) * width + x0 + x) * 4
        for (let c = 0; c < 3; c++) data[dst + c] = toByte(batch[src + (C === 1 ? 0 : c)], lo, hi)
      }
    }
  }
  return { width, height, data }
}

/** Clamps to [lo, hi] and maps to 0..255 with rounding (NaN becomes 0). */
function toByte(v: number, lo: number, hi: number): number {
  const u = (v - lo) / (hi - lo)
  if (!(u > 0)) return 0
  if (u >= 1) return 255
  return Math.round(u * 255)
}
