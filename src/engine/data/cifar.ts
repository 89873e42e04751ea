// CIFAR-10 binary version (https://www.cs.toronto.edu/~kriz/cifar.html): each record is
// 1 label byte then 3072 pixel bytes, channel-major (1024 R, 1024 G, 1024 B, each 32×32
// row-major). We store NHWC like the rest of the lab, so the planes are interleaved once here.
import { DatasetError } from './errors'

export const CIFAR_SIDE = 32
export const CIFAR_PLANE = CIFAR_SIDE * CIFAR_SIDE
export const CIFAR_RECORD = 1 + 3 * CIFAR_PLANE // 3073
export const CIFAR_BATCH_RECORDS = 10000
export const CIFAR_CLASSES = 10

export interface CifarBatch {
  count: number
  labels: Uint8Array
  /** count × 32 × 32 × 3, NHWC. */
  pixels: Uint8Array
}

export function checkCifarSize(bytes: number, file: string): number {
  if (bytes === 0) throw new DatasetError('empty', file, 'empty CIFAR-10 batch file')
  if (bytes % CIFAR_RECORD !== 0) {
    throw new DatasetError('bad-size', file, `size ${bytes} bytes is not a multiple of the 3073-byte CIFAR-10 record (1 label + 3072 pixels); the file is truncated or not a CIFAR-10 binary batch`)
  }
  return bytes / CIFAR_RECORD
}

/** Decodes one or more CIFAR-10 binary batches into one NHWC set (train = data_batch_1..5). */
export function parseCifarBatches(parts: { bytes: Uint8Array; file: string }[]): CifarBatch {
  const counts = parts.map((p) => checkCifarSize(p.bytes.length, p.file))
  const total = counts.reduce((a, b) => a + b, 0)
  const labels = new Uint8Array(total)
  const pixels = new Uint8Array(total * CIFAR_RECORD - total)
  let n = 0
  for (let p = 0; p < parts.length; p++) {
    const { bytes, file } = parts[p]
    for (let r = 0; r < counts[p]; r++, n++) {
      const src = r * CIFAR_RECORD
      const label = bytes[src]
      if (label >= CIFAR_CLASSES) throw new DatasetError('bad-format', file, `record ${r} has label ${label}, outside 0..9; not a CIFAR-10 binary batch`)
      labels[n] = label
      const dst = n * 3 * CIFAR_PLANE
      const r0 = src + 1
      const g0 = r0 + CIFAR_PLANE
      const b0 = g0 + CIFAR_PLANE
      for (let i = 0, o = dst; i < CIFAR_PLANE; i++, o += 3) {
        pixels[o] = bytes[r0 + i]
        pixels[o + 1] = bytes[g0 + i]
        pixels[o + 2] = bytes[b0 + i]
      }
    }
  }
  return { count: total, labels, pixels }
}

/** Encodes NHWC images back to the binary layout; used by tests to write fixture files. */
export function encodeCifarBatch(labels: Uint8Array, pixels: Uint8Array): Uint8Array {
  const out = new Uint8Array(labels.length * CIFAR_RECORD)
  for (let n = 0; n < labels.length; n++) {
    const dst = n * CIFAR_RECORD
    out[dst] = labels[n]
    const src = n * 3 * CIFAR_PLANE
    for (let i = 0; i < CIFAR_PLANE; i++) {
      for (let c = 0; c < 3; c++) out[dst + 1 + c * CIFAR_PLANE + i] = pixels[src + 3 * i + c]
    }
  }
  return out
}
