// PNG encoding with pngjs, plus the sampler settings as JSON in a tEXt chunk keyed
// 'score-lab'. pngjs writes no text chunks, so the chunk is spliced in after IHDR by hand
// (length, type, Latin-1 "keyword\0text", CRC-32 over type + data, per the PNG spec §11.3.4.3).
import { createRequire } from 'node:module'
import type { PNG as PngClass } from 'pngjs'
import type { RgbaImage } from './grid'

export const PNG_TEXT_KEY = 'score-lab'

// pngjs is required on first encode/decode: reading the settings chunk (listing runs) needs none of it.
const require = createRequire(import.meta.url)
let pngjs: typeof PngClass | null = null
const PNG = (): typeof PngClass => (pngjs ??= (require('pngjs') as { PNG: typeof PngClass }).PNG)

const SIGNATURE = Uint8Array.from([137, 80, 78, 71, 13, 10, 26, 10])

const CRC_TABLE = (() => {
  const table = new Uint32Array(256)
  for (let n = 0; n < 256; n++) {
    let c = n
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1
    table[n] = c >>> 0
  }
  return table
})()

function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff
  for (let i = 0; i < bytes.length; i++) c = CRC_TABLE[(c ^ bytes[i]) & 0xff] ^ (c >>> 8)
  return (c ^ 0xffffffff) >>> 0
}

/** JSON with every non-Latin-1 character \u-escaped, so tEXt's Latin-1 rule holds and JSON.parse restores it. */
function latin1Json(value: unknown): string {
  return JSON.stringify(value).replace(/[\u0100-\uffff]/g, (ch) => '\\u' + ch.charCodeAt(0).toString(16).padStart(4, '0'))
}

function textChunk(keyword: string, text: string): Uint8Array {
  const body = new Uint8Array(4 + keyword.length + 1 + text.length)
  body.set([0x74, 0x45, 0x58, 0x74]) // 'tEXt'
  for (let i = 0; i < keyword.length; i++) body[4 + i] = keyword.charCodeAt(i)
  for (let i = 0; i < text.length; i++) body[5 + keyword.length + i] = text.charCodeAt(i)
  const chunk = new Uint8Array(body.length + 8)
  const view = new DataView(chunk.buffer)
  view.setUint32(0, body.length - 4)
  chunk.set(body, 4)
  view.setUint32(chunk.length - 4, crc32(body))
  return chunk
}

/** Encodes an RGBA image; `settings` (any JSON value) goes into a tEXt chunk keyed 'score-lab'. */
export function encodePng(image: RgbaImage, settings?: unknown): Uint8Array {
  const png = new (PNG())({ width: image.width, height: image.height })
  png.data = Buffer.from(image.data.buffer, image.data.byteOffset, image.data.byteLength)
  const encoded = new Uint8Array(PNG().sync.write(png))
  if (settings === undefined) return encoded
  const chunk = textChunk(PNG_TEXT_KEY, latin1Json(settings))
  // IHDR is always first: 8-byte signature + 4 length + 4 type + 13 data + 4 CRC = 33 bytes.
  const out = new Uint8Array(encoded.length + chunk.length)
  out.set(encoded.subarray(0, 33))
  out.set(chunk, 33)
  out.set(encoded.subarray(33), 33 + chunk.length)
  return out
}

/** All tEXt chunks of a PNG as keyword → text (CRC-checked). */
export function readPngText(bytes: Uint8Array): Record<string, string> {
  for (let i = 0; i < 8; i++) if (bytes[i] !== SIGNATURE[i]) throw new Error('Not a PNG file')
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const out: Record<string, string> = {}
  let pos = 8
  while (pos + 12 <= bytes.length) {
    const len = view.getUint32(pos)
    const type = String.fromCharCode(...bytes.subarray(pos + 4, pos + 8))
    if (type === 'tEXt') {
      const body = bytes.subarray(pos + 4, pos + 8 + len)
      if (crc32(body) !== view.getUint32(pos + 8 + len)) throw new Error('PNG tEXt chunk has a bad CRC')
      const data = body.subarray(4)
      const nul = data.indexOf(0)
      out[String.fromCharCode(...data.subarray(0, nul))] = Array.from(data.subarray(nul + 1), (c) => String.fromCharCode(c)).join('')
    }
    if (type === 'IEND') break
    pos += 12 + len
  }
  return out
}

/** The settings stored by encodePng, or undefined when the PNG has none. */
export function readPngSettings(bytes: Uint8Array): unknown {
  const text = readPngText(bytes)[PNG_TEXT_KEY]
  return text === undefined ? undefined : JSON.parse(text)
}

/** Decodes pixels back (tests and previews): width, height and RGBA bytes. */
export function decodePng(bytes: Uint8Array): RgbaImage {
  const png = PNG().sync.read(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength))
  return { width: png.width, height: png.height, data: new Uint8Array(png.data) }
}
