// IDX, the format of MNIST and FashionMNIST (http://yann.lecun.com/exdb/mnist/):
// magic = 0x00 0x00 <type> <ndims>, then ndims big-endian uint32 sizes, then the
// row-major payload. Both sets only use type 0x08 (uint8): labels 0x00000801, images 0x00000803.
import { gunzipSync } from 'node:zlib'
import { DatasetError } from './errors'

export const IDX_LABELS_MAGIC = 0x00000801
export const IDX_IMAGES_MAGIC = 0x00000803

export interface IdxArray {
  dims: number[]
  /** A view into the decoded buffer (no copy). */
  data: Uint8Array
}

/** gzip streams start with 1f 8b (RFC 1952); this is how `.gz` and raw files are told apart, not by name. */
export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b
}

/** Inflates a gzip buffer; a cut-off download is reported as such instead of zlib's "unexpected end of file". */
export function gunzip(bytes: Uint8Array, file: string): Uint8Array {
  try {
    return gunzipSync(bytes)
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    if (code === 'Z_BUF_ERROR' || /unexpected end/i.test(String((err as Error).message))) {
      throw new DatasetError('truncated-gzip', file, `truncated gzip: the compressed data ends early (${bytes.length} bytes); the file is incomplete`, { cause: err })
    }
    throw new DatasetError('bad-format', file, `corrupt gzip data: ${(err as Error).message}`, { cause: err })
  }
}

/** Returns the raw IDX bytes, inflating first when the buffer is gzip. */
export function maybeGunzip(bytes: Uint8Array, file: string): Uint8Array {
  return isGzip(bytes) ? gunzip(bytes, file) : bytes
}

const hex = (n: number) => '0x' + (n >>> 0).toString(16).padStart(8, '0')

/**
 * Parses an uncompressed IDX buffer. `expectMagic` pins the kind (labels or images) so a
 * swapped file is caught here with a clear message rather than as a shape error later.
 */
export function parseIdx(bytes: Uint8Array, file: string, expectMagic?: number): IdxArray {
  if (bytes.length < 4) throw new DatasetError('truncated', file, `too short for an IDX header (${bytes.length} bytes)`)
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const magic = view.getUint32(0, false)
  const what = expectMagic === IDX_LABELS_MAGIC ? ' (IDX uint8 labels)' : expectMagic === IDX_IMAGES_MAGIC ? ' (IDX uint8 images)' : ''
  if (expectMagic !== undefined && magic !== expectMagic) {
    throw new DatasetError('bad-magic', file, `wrong magic number ${hex(magic)}, expected ${hex(expectMagic)}${what}`)
  }
  const ndims = bytes[3]
  if (bytes[0] !== 0 || bytes[1] !== 0 || bytes[2] !== 0x08 || ndims < 1 || ndims > 4) {
    throw new DatasetError('bad-magic', file, `wrong magic number ${hex(magic)}, expected an IDX uint8 array (0x000008nn)`)
  }
  const headerBytes = 4 + 4 * ndims
  if (bytes.length < headerBytes) throw new DatasetError('truncated', file, `truncated IDX header: ${ndims} dimensions need ${headerBytes} bytes, file has ${bytes.length}`)
  const dims: number[] = []
  let count = 1
  for (let i = 0; i < ndims; i++) {
    const d = view.getUint32(4 + 4 * i, false)
    dims.push(d)
    count *= d
  }
  const payload = bytes.length - headerBytes
  if (payload < count) {
    throw new DatasetError('truncated', file, `truncated IDX payload: dimensions ${dims.join('×')} need ${count} bytes after the header, found ${payload}`)
  }
  if (payload > count) {
    throw new DatasetError('bad-format', file, `IDX payload has ${payload - count} unexpected trailing bytes after ${dims.join('×')} values`)
  }
  // A plain Uint8Array view (not a Buffer), so consumers and structured clone see one type.
  return { dims, data: new Uint8Array(bytes.buffer, bytes.byteOffset + headerBytes, count) }
}

export interface IdxImages {
  count: number
  height: number
  width: number
  /** count × height × width, row-major (already NHWC with C = 1). */
  pixels: Uint8Array
}

export function parseIdxImages(bytes: Uint8Array, file: string): IdxImages {
  const { dims, data } = parseIdx(maybeGunzip(bytes, file), file, IDX_IMAGES_MAGIC)
  return { count: dims[0], height: dims[1], width: dims[2], pixels: data }
}

export function parseIdxLabels(bytes: Uint8Array, file: string, numClasses?: number): Uint8Array {
  const { data } = parseIdx(maybeGunzip(bytes, file), file, IDX_LABELS_MAGIC)
  if (numClasses !== undefined) {
    for (let i = 0; i < data.length; i++) {
      if (data[i] >= numClasses) throw new DatasetError('bad-format', file, `label ${data[i]} at index ${i} is outside 0..${numClasses - 1}`)
    }
  }
  return data
}

/** Checks that an images file and a labels file describe the same examples. */
export function checkIdxPair(images: { count: number }, labels: { length: number }, imagesFile: string, labelsFile: string): void {
  if (images.count !== labels.length) {
    throw new DatasetError('count-mismatch', `${imagesFile} + ${labelsFile}`, `image and label counts differ: ${images.count} images, ${labels.length} labels`)
  }
}
