// Drawing a 2-D score field as arrows over the data on a canvas, the grid choices, and the
// log-spaced t slider's mapping.
// Pure apart from the canvas context it is handed (no store, no transport).

export interface FieldData {
  n: number
  extent: number
  /** Grid points, row-major [n·n, 2]. */
  points: number[]
  model: number[]
  truth: number[] | null
  /** Fresh samples of the data set, row-major [m, 2], drawn as faint dots under the arrows. */
  data?: number[] | null
}

export interface FieldColors {
  model: string
  truth: string
  axis: string
  /** The data dots (omit to leave them out). */
  data?: string
}

/** The arrows per side the resolution control offers. */
export const GRID_CHOICES = [15, 25, 35] as const
export const DEFAULT_GRID = 25

export const T_MIN = 0.01
export const T_MAX = 1
export const SLIDER_STEPS = 100

/** Slider position 0…SLIDER_STEPS → t, log-spaced from T_MIN to T_MAX. */
export function sliderToT(v: number): number {
  return T_MIN * Math.pow(T_MAX / T_MIN, v / SLIDER_STEPS)
}

export function tToSlider(t: number): number {
  return Math.round((SLIDER_STEPS * Math.log(t / T_MIN)) / Math.log(T_MAX / T_MIN))
}

/** The magnitude that maps to a full-length arrow: the 95th percentile, so a few huge scores near the data do not shrink the rest. */
export function referenceMagnitude(v: number[]): number {
  const mags: number[] = []
  for (let k = 0; k + 1 < v.length; k += 2) mags.push(Math.hypot(v[k]!, v[k + 1]!))
  mags.sort((a, b) => a - b)
  return mags[Math.min(mags.length - 1, Math.floor(mags.length * 0.95))] || 1
}

function arrow(ctx: CanvasRenderingContext2D, x: number, y: number, dx: number, dy: number, head: number): void {
  const len = Math.hypot(dx, dy)
  if (len < 0.5) return
  const ux = dx / len
  const uy = dy / len
  const x0 = x - dx / 2
  const y0 = y - dy / 2
  const x1 = x + dx / 2
  const y1 = y + dy / 2
  ctx.moveTo(x0, y0)
  ctx.lineTo(x1, y1)
  const h = Math.min(head, len * 0.45)
  ctx.moveTo(x1 - h * (ux - 0.5 * uy), y1 - h * (uy + 0.5 * ux))
  ctx.lineTo(x1, y1)
  ctx.lineTo(x1 - h * (ux + 0.5 * uy), y1 - h * (uy - 0.5 * ux))
}

/**
 * Draws the field on a square canvas of `size` CSS pixels: the data (when given) as faint dots,
 * arrows centred on the grid points,
 * lengths normalised to the grid cell (full length at the 95th-percentile magnitude of the
 * learned field, never shorter than a fifth), the true field (when known) wide beneath it.
 */
export function drawScoreField(ctx: CanvasRenderingContext2D, size: number, f: FieldData, colors: FieldColors): void {
  ctx.clearRect(0, 0, size, size)
  const toPx = (x: number) => ((x + f.extent) / (2 * f.extent)) * size
  const toPy = (y: number) => ((f.extent - y) / (2 * f.extent)) * size
  ctx.strokeStyle = colors.axis
  ctx.lineWidth = 1
  ctx.beginPath()
  ctx.moveTo(toPx(0), 0)
  ctx.lineTo(toPx(0), size)
  ctx.moveTo(0, toPy(0))
  ctx.lineTo(size, toPy(0))
  ctx.stroke()

  // The data beneath everything: faint dots, so the arrows can be read against where the data lies.
  if (colors.data && f.data) {
    ctx.fillStyle = colors.data
    const r = Math.max(1, size / 320)
    ctx.beginPath()
    for (let k = 0; k + 1 < f.data.length; k += 2) {
      const x = toPx(f.data[k]!)
      const y = toPy(f.data[k + 1]!)
      if (x < 0 || y < 0 || x > size || y > size) continue
      ctx.moveTo(x + r, y)
      ctx.arc(x, y, r, 0, 2 * Math.PI)
    }
    ctx.fill()
  }

  const cell = size / f.n
  const ref = referenceMagnitude(f.model)
  const layer = (v: number[], color: string, width: number) => {
    ctx.strokeStyle = color
    ctx.lineWidth = width
    ctx.lineCap = 'round'
    ctx.lineJoin = 'round'
    ctx.beginPath()
    for (let k = 0; 2 * k + 1 < f.points.length; k++) {
      const sx = v[2 * k]!
      const sy = v[2 * k + 1]!
      const mag = Math.hypot(sx, sy)
      if (!Number.isFinite(mag) || mag === 0) continue
      const len = cell * 0.85 * Math.max(0.2, Math.min(1, Math.sqrt(mag / ref)))
      // Canvas y grows downwards: flip the field's y.
      arrow(ctx, toPx(f.points[2 * k]!), toPy(f.points[2 * k + 1]!), (sx / mag) * len, (-sy / mag) * len, Math.max(3, cell * 0.22))
    }
    ctx.stroke()
  }
  // The true field wide and translucent underneath, the learned one thin on top: where they
  // agree the blue arrow sits inside the orange one.
  // Finer grids get thinner strokes so the arrows stay apart.
  if (f.truth) layer(f.truth, colors.truth, Math.max(2, Math.min(3.5, cell * 0.2)))
  layer(f.model, colors.model, Math.max(1, Math.min(1.5, cell * 0.1)))
}
