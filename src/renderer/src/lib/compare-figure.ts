// Composes a comparison into one PNG figure on a canvas: a title, then one grid per sampler
// (integer nearest-neighbour upscaling, so pixels stay square) with its caption beneath: the
// entry's label (sampleLabels: the settings that ran, up to two lines) and its cost.

export interface FigurePanel {
  /** The entry's label, e.g. "ode · rk45 · rtol 1e-3 · atol 1e-3" (wrapped at its " · " joins). */
  title: string
  caption: string
  dataUrl: string
  width: number
  height: number
}

export interface FigureLayout {
  cols: number
  scale: number
  cellW: number
  cellH: number
  width: number
  height: number
}

const PAD = 24
const GAP = 20
const TITLE_H = 44
const CAPTION_H = 62
const TITLE_LINE = 18

/** Where everything goes: at most 4 columns, each grid scaled by an integer up to ~320 px. */
export function figureLayout(panels: Pick<FigurePanel, 'width' | 'height'>[]): FigureLayout {
  const cols = Math.min(4, Math.max(1, panels.length))
  const rows = Math.ceil(panels.length / cols)
  const maxW = Math.max(1, ...panels.map((p) => p.width))
  const maxH = Math.max(1, ...panels.map((p) => p.height))
  const scale = Math.max(1, Math.floor(320 / maxW))
  const cellW = Math.max(maxW * scale, 200)
  const cellH = maxH * scale + CAPTION_H
  return { cols, scale, cellW, cellH, width: PAD * 2 + cols * cellW + (cols - 1) * GAP, height: PAD * 2 + TITLE_H + rows * cellH + (rows - 1) * GAP }
}

function loadImage(src: string): Promise<HTMLImageElement> {
  return new Promise((resolve, reject) => {
    const img = new Image()
    img.onload = () => resolve(img)
    img.onerror = () => reject(new Error('a sample image could not be decoded'))
    img.src = src
  })
}

/** The title in at most `maxLines` lines no wider than `width`, broken at its " · " joins. */
export function titleLines(title: string, width: number, measure: (text: string) => number, maxLines = 2): string[] {
  const lines: string[] = []
  for (const part of title.split(' · ')) {
    const last = lines[lines.length - 1]
    if (last !== undefined && (lines.length >= maxLines || measure(`${last} · ${part}`) <= width)) lines[lines.length - 1] = `${last} · ${part}`
    else lines.push(part)
  }
  return lines
}

/** Device pixels per layout pixel: text and grids stay sharp on high-density screens and in print. */
export const FIGURE_PIXEL_RATIO = 2

/** The figure as a PNG data URL (white background, dark text: ready for a paper or slides), at FIGURE_PIXEL_RATIO× its layout. */
export async function composeFigure(title: string, subtitle: string, panels: FigurePanel[]): Promise<{ dataUrl: string; width: number; height: number }> {
  const layout = figureLayout(panels)
  const canvas = document.createElement('canvas')
  canvas.width = layout.width * FIGURE_PIXEL_RATIO
  canvas.height = layout.height * FIGURE_PIXEL_RATIO
  const ctx = canvas.getContext('2d')
  if (!ctx) throw new Error('this browser cannot draw on a canvas')
  ctx.scale(FIGURE_PIXEL_RATIO, FIGURE_PIXEL_RATIO)
  const font = "system-ui, -apple-system, 'Segoe UI', Roboto, Arial, sans-serif"
  ctx.fillStyle = '#ffffff'
  ctx.fillRect(0, 0, layout.width, layout.height)
  ctx.fillStyle = '#1c2128'
  ctx.textBaseline = 'top'
  ctx.font = `600 18px ${font}`
  ctx.fillText(title, PAD, PAD)
  ctx.fillStyle = '#57606a'
  ctx.font = `13px ${font}`
  ctx.fillText(subtitle, PAD, PAD + 24)
  ctx.imageSmoothingEnabled = false
  const images = await Promise.all(panels.map((p) => loadImage(p.dataUrl)))
  panels.forEach((p, i) => {
    const x = PAD + (i % layout.cols) * (layout.cellW + GAP)
    const y = PAD + TITLE_H + Math.floor(i / layout.cols) * (layout.cellH + GAP)
    const w = p.width * layout.scale
    const h = p.height * layout.scale
    ctx.drawImage(images[i]!, x + Math.floor((layout.cellW - w) / 2), y, w, h)
    const ty = y + layout.cellH - CAPTION_H + 8
    ctx.fillStyle = '#1c2128'
    ctx.font = `600 14px ${font}`
    const lines = titleLines(p.title, layout.cellW, (t) => ctx.measureText(t).width)
    lines.forEach((line, k) => ctx.fillText(line, x, ty + k * TITLE_LINE, layout.cellW))
    ctx.fillStyle = '#57606a'
    ctx.font = `12px ${font}`
    ctx.fillText(p.caption, x, ty + lines.length * TITLE_LINE + 1, layout.cellW)
  })
  return { dataUrl: canvas.toDataURL('image/png'), width: canvas.width, height: canvas.height }
}
