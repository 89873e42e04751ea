// Trajectory → animated GIF with gifenc. Grey frames use a fixed 256-level grey palette
// (the index is the grey byte itself: exact, no quantisation); colour frames are quantised
// per frame to 256 colours, since a denoising trajectory changes its colours a lot.
import * as gifencModule from 'gifenc'
import { makeGrid, type GridOptions, type RgbaImage } from './grid'

export interface GifOptions {
  /** Milliseconds per frame (default 80). */
  delayMs?: number
  /** Extra time on the last frame, so the final samples can be seen (default 1000 ms). */
  holdLastMs?: number
  /** 0 loops forever (default), −1 plays once, k > 0 repeats k times. */
  repeat?: number
}

// gifenc ships CJS (main) and ESM (module): Node's ESM loader exposes the CJS exports only
// on `default`, bundlers give the named ESM exports. Accept both.
type Gifenc = typeof import('gifenc')
const gifenc: Gifenc = 'GIFEncoder' in gifencModule && typeof gifencModule.GIFEncoder === 'function'
  ? gifencModule
  : (gifencModule as unknown as { default: Gifenc }).default
const { GIFEncoder, applyPalette, quantize } = gifenc

const GREY_PALETTE = Array.from({ length: 256 }, (_, i) => [i, i, i])

function isGrey(img: RgbaImage): boolean {
  const d = img.data
  for (let p = 0; p < d.length; p += 4) if (d[p] !== d[p + 1] || d[p] !== d[p + 2]) return false
  return true
}

/** Encodes same-sized RGBA frames as one animated GIF. */
export function encodeGif(frames: RgbaImage[], opts: GifOptions = {}): Uint8Array {
  if (frames.length === 0) throw new Error('encodeGif needs at least one frame')
  const { width, height } = frames[0]
  const delay = opts.delayMs ?? 80
  const gif = GIFEncoder()
  frames.forEach((img, k) => {
    if (img.width !== width || img.height !== height) throw new Error(`encodeGif: frame ${k} is ${img.width}×${img.height}, expected ${width}×${height}`)
    let index: Uint8Array
    let palette: number[][]
    if (isGrey(img)) {
      palette = GREY_PALETTE
      index = new Uint8Array(width * height)
      for (let p = 0; p < index.length; p++) index[p] = img.data[4 * p]
    } else {
      palette = quantize(img.data, 256)
      index = applyPalette(img.data, palette)
    }
    const last = k === frames.length - 1
    gif.writeFrame(index, width, height, { palette, delay: last ? delay + (opts.holdLastMs ?? 1000) : delay, repeat: opts.repeat ?? 0 })
  })
  gif.finish()
  return gif.bytes()
}

/** Recorded trajectory (one NHWC batch per frame, as onStep delivers them) → GIF of grids. */
export function trajectoryToGif(
  frames: Float32Array[], shape: [number, number, number, number], grid: GridOptions = {}, gif: GifOptions = {}
): Uint8Array {
  return encodeGif(frames.map((f) => makeGrid(f, shape, grid)), gif)
}

/** Logical screen size stored in a GIF header (bytes 6–9, little-endian), for tests. */
export function gifSize(bytes: Uint8Array): { width: number; height: number } {
  if (String.fromCharCode(...bytes.subarray(0, 3)) !== 'GIF') throw new Error('Not a GIF file')
  return { width: bytes[6] | (bytes[7] << 8), height: bytes[8] | (bytes[9] << 8) }
}
