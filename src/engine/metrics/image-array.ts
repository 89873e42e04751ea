// Images as plain data for the feature metrics (so a worker can receive them as transferables):
// NHWC, row-major, either float pixels in the lab's [0, 1] ('unit') or score_sde's centred
// [−1, 1] ('centered'), or the data sets' raw bytes 0–255 (a Uint8Array: a quarter of the memory
// of floats, for training the classifier on a whole ImageSet). The feature network sees every
// kind mapped to [−1, 1], values outside the range clipped (samples overshoot a little).

export type PixelRange = 'unit' | 'centered'

export interface ImageArray {
  /** n × height × width × channels values. Uint8Array: bytes 0–255 (`range` is ignored). */
  data: Float32Array | Uint8Array
  /** [n, height, width, channels]. */
  shape: [number, number, number, number]
  /** How float pixels are scaled (default 'unit'). */
  range?: PixelRange
}

/** Number of images, after checking that the data matches the shape. */
export function imageCount(images: ImageArray, where = 'images'): number {
  const [n, h, w, c] = images.shape
  if (images.shape.length !== 4 || !images.shape.every((s) => Number.isInteger(s) && s >= 0)) {
    throw new Error(`${where}: shape must be [n, height, width, channels], got [${images.shape.join(', ')}]`)
  }
  if (images.data.length !== n * h * w * c) throw new Error(`${where}: ${images.data.length} values for shape [${images.shape.join(', ')}] (${n * h * w * c} expected)`)
  if (images.range !== undefined && images.range !== 'unit' && images.range !== 'centered') {
    throw new Error(`${where}: range must be 'unit' ([0, 1]) or 'centered' ([−1, 1]), got ${String(images.range)}`)
  }
  return n
}

/** Images start..start+count−1 scaled to [−1, 1] (clipped), written into `out` (or a new array). */
export function toNetInput(images: ImageArray, start: number, count: number, out?: Float32Array): Float32Array {
  const per = images.shape[1] * images.shape[2] * images.shape[3]
  const src = images.data.subarray(start * per, (start + count) * per)
  const dst = out ?? new Float32Array(count * per)
  if (src instanceof Uint8Array) {
    for (let i = 0; i < src.length; i++) dst[i] = src[i] / 127.5 - 1
  } else if ((images.range ?? 'unit') === 'unit') {
    for (let i = 0; i < src.length; i++) dst[i] = Math.min(Math.max(2 * src[i] - 1, -1), 1)
  } else {
    for (let i = 0; i < src.length; i++) dst[i] = Math.min(Math.max(src[i], -1), 1)
  }
  return dst
}

/** The images at `indices` (in that order), as a new ImageArray with the same range. */
export function pickImages(images: ImageArray, indices: ArrayLike<number>): ImageArray {
  const [n, h, w, c] = images.shape
  const per = h * w * c
  const data = images.data instanceof Uint8Array ? new Uint8Array(indices.length * per) : new Float32Array(indices.length * per)
  for (let r = 0; r < indices.length; r++) {
    const i = indices[r]
    if (!(Number.isInteger(i) && i >= 0 && i < n)) throw new Error(`pickImages: index ${i} is outside 0..${n - 1}`)
    data.set(images.data.subarray(i * per, (i + 1) * per), r * per)
  }
  return { data, shape: [indices.length, h, w, c], range: images.range }
}
