import { describe, expect, it } from 'vitest'
import { makeGrid } from '../../src/engine/images/grid'
import { decodePng, encodePng, readPngSettings, readPngText } from '../../src/engine/images/png'
import { encodeGif, gifSize, trajectoryToGif } from '../../src/engine/images/gif'

function batch(B: number, H: number, W: number, C: number, f: (i: number) => number): Float32Array {
  return Float32Array.from({ length: B * H * W * C }, (_, i) => f(i))
}

describe('sample grids, PNG and GIF', () => {
  it('tiles 64 grey 28×28 images into the 8×8 grid make_grid would draw (242×242 px)', () => {
    const img = makeGrid(batch(64, 28, 28, 1, () => 0.5), [64, 28, 28, 1])
    expect([img.width, img.height]).toEqual([8 * 30 + 2, 8 * 30 + 2])
    expect(img.data.length).toBe(242 * 242 * 4)
    // Padding is black, a tile pixel is mid-grey, alpha is opaque.
    expect(Array.from(img.data.subarray(0, 4))).toEqual([0, 0, 0, 255])
    const p = (2 * 242 + 2) * 4
    expect(Array.from(img.data.subarray(p, p + 4))).toEqual([128, 128, 128, 255])
  })

  it('clamps to the value range and keeps RGB channels; rows follow cols', () => {
    const data = batch(5, 2, 2, 3, (i) => [-1, 0.5, 7][i % 3])
    const img = makeGrid(data, [5, 2, 2, 3], { cols: 2, padding: 1 })
    expect([img.width, img.height]).toEqual([2 * 3 + 1, 3 * 3 + 1])
    const p = (1 * img.width + 1) * 4
    expect(Array.from(img.data.subarray(p, p + 4))).toEqual([0, 128, 255, 255])
    const centred = makeGrid(batch(1, 1, 1, 1, () => 0), [1, 1, 1, 1], { range: [-1, 1], padding: 0 })
    expect(centred.data[0]).toBe(128)
  })

  it('encodes a PNG whose pixels decode back and whose score-lab text chunk round-trips', () => {
    const img = makeGrid(batch(16, 28, 28, 1, (i) => (i % 28) / 27), [16, 28, 28, 1], { cols: 4 })
    const settings = { sampler: 'pc', predictor: 'reverse_diffusion', corrector: 'langevin', snr: 0.16, n: 500, seed: 7, note: 'σ → ∞ ✓' }
    const png = encodePng(img, settings)
    expect(readPngSettings(png)).toEqual(settings)
    expect(Object.keys(readPngText(png))).toEqual(['score-lab'])
    const back = decodePng(png)
    expect([back.width, back.height]).toEqual([4 * 30 + 2, 4 * 30 + 2])
    expect(back.data).toEqual(img.data)
    expect(readPngSettings(encodePng(img))).toBeUndefined()
  })

  it('writes an animated GIF of the trajectory with the grid size (grey and colour)', () => {
    const shape: [number, number, number, number] = [4, 8, 8, 1]
    const frames = [0, 0.5, 1].map((v) => batch(4, 8, 8, 1, (i) => v * ((i % 8) / 7)))
    const gif = trajectoryToGif(frames, shape, { cols: 2 })
    expect(gifSize(gif)).toEqual({ width: 2 * 10 + 2, height: 2 * 10 + 2 })
    expect(gif[gif.length - 1]).toBe(0x3b) // GIF trailer
    const colour = encodeGif([makeGrid(batch(1, 4, 4, 3, (i) => (i % 3) / 2), [1, 4, 4, 3])])
    expect(gifSize(colour)).toEqual({ width: 8, height: 8 })
  })
})
