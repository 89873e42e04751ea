// Images as the Control panel handles them: bytes 0–255, row-major, channels last (the
// contract's PixelImage and datasets.image), base64 on the wire. Decodes an image file the user
// drops into the run's size (cropped to its aspect, then resized; grey for 1-channel sets),
// turns bytes into a data URL to show, and draws the preset inpainting regions as masks.
import type { PixelImage } from '@shared/contract'

/** Base64 of bytes (chunked: String.fromCharCode takes only so many arguments). */
export function bytesToBase64(bytes: Uint8Array): string {
  let bin = ''
  for (let i = 0; i < bytes.length; i += 0x8000) bin += String.fromCharCode(...bytes.subarray(i, i + 0x8000))
  return btoa(bin)
}

/** Bytes of a base64 string (empty when it is not base64). */
export function base64ToBytes(s: string): Uint8Array<ArrayBuffer> {
  try {
    return Uint8Array.from(atob(s), (ch) => ch.charCodeAt(0))
  } catch {
    return new Uint8Array(0)
  }
}

/** RGBA of an image's bytes (1 channel: grey; 3: RGB; alpha 255). */
export function toRgba(width: number, height: number, channels: number, bytes: Uint8Array): Uint8ClampedArray<ArrayBuffer> {
  const out = new Uint8ClampedArray(width * height * 4)
  for (let p = 0; p < width * height; p++) {
    for (let k = 0; k < 3; k++) out[4 * p + k] = bytes[p * channels + (channels === 1 ? 0 : k)] ?? 0
    out[4 * p + 3] = 255
  }
  return out
}

/** Grey levels of RGB(A) pixels (ITU-R 601 luma, as PIL's convert('L')). */
export function toGrey(rgba: Uint8ClampedArray | Uint8Array, pixels: number): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(pixels)
  for (let p = 0; p < pixels; p++) out[p] = Math.round(0.299 * rgba[4 * p]! + 0.587 * rgba[4 * p + 1]! + 0.114 * rgba[4 * p + 2]!)
  return out
}

/** An image's bytes as a PNG data URL at its own size (shown enlarged with pixelated rendering). */
export function pixelsToDataUrl(width: number, height: number, channels: number, bytes: Uint8Array, grey = false): string {
  const canvas = document.createElement('canvas')
  canvas.width = width
  canvas.height = height
  const ctx = canvas.getContext('2d')
  if (!ctx) return ''
  let rgba = toRgba(width, height, channels, bytes)
  if (grey && channels === 3) rgba = toRgba(width, height, 1, toGrey(rgba, width * height))
  ctx.putImageData(new ImageData(rgba, width, height), 0, 0)
  return canvas.toDataURL('image/png')
}

/** A PixelImage's data URL. */
export function pixelImageUrl(image: PixelImage, grey = false): string {
  return pixelsToDataUrl(image.width, image.height, image.channels, base64ToBytes(image.data), grey)
}

/**
 * An image file at the run's size [h, w, c]: the largest centred crop of the run's aspect,
 * resized (smoothly) to w × h; grey for one channel. Rejects files the browser cannot decode.
 */
export async function decodeImageFile(file: Blob, shape: readonly [number, number, number]): Promise<PixelImage> {
  const [h, w, c] = shape
  let bitmap: ImageBitmap
  try {
    bitmap = await createImageBitmap(file)
  } catch {
    throw new Error('This file is not an image the browser can read (PNG, JPEG, GIF, WebP, BMP).')
  }
  try {
    const canvas = document.createElement('canvas')
    canvas.width = w
    canvas.height = h
    const ctx = canvas.getContext('2d', { willReadFrequently: true })
    if (!ctx) throw new Error('No 2-D canvas to decode the image on.')
    const aspect = w / h
    const sw = Math.min(bitmap.width, bitmap.height * aspect)
    const sh = sw / aspect
    ctx.fillStyle = '#000'
    ctx.fillRect(0, 0, w, h)
    ctx.imageSmoothingEnabled = true
    ctx.imageSmoothingQuality = 'high'
    ctx.drawImage(bitmap, (bitmap.width - sw) / 2, (bitmap.height - sh) / 2, sw, sh, 0, 0, w, h)
    const rgba = ctx.getImageData(0, 0, w, h).data
    let bytes: Uint8Array
    if (c === 1) bytes = toGrey(rgba, w * h)
    else {
      bytes = new Uint8Array(w * h * 3)
      for (let p = 0; p < w * h; p++) for (let k = 0; k < 3; k++) bytes[3 * p + k] = rgba[4 * p + k]!
    }
    return { width: w, height: h, channels: c === 1 ? 1 : 3, data: bytesToBase64(bytes) }
  } finally {
    bitmap.close()
  }
}

export { presetMask, type InpaintPreset } from '@shared/inpaint-masks'
