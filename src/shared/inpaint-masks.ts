// The preset inpainting regions as masks (1: the pixel is kept, 0: the sampler fills it in): the
// one owner of their geometry, drawn by the Control panel and filled in by the sampling worker.
import type { INPAINT_PRESETS } from './contract'

export type InpaintPreset = (typeof INPAINT_PRESETS)[number]

/** An h × w mask, row-major, of the preset region (the same for every channel). */
export function presetMask(kind: InpaintPreset, h: number, w: number): Uint8Array<ArrayBuffer> {
  const m = new Uint8Array(h * w)
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const hidden =
        kind === 'left' ? x < w / 2
        : kind === 'right' ? x >= w / 2
        : kind === 'top' ? y < h / 2
        : kind === 'bottom' ? y >= h / 2
        : kind === 'center' ? Math.abs(x - (w - 1) / 2) < w / 4 && Math.abs(y - (h - 1) / 2) < h / 4
        : (Math.floor(x / 4) + Math.floor(y / 4)) % 2 === 0
      m[y * w + x] = hidden ? 0 : 1
    }
  }
  return m
}
