// An image data set decoded once into memory: uint8 pixels NHWC and uint8 labels.
// Kept as bytes (not floats) so MNIST costs 47 MB and CIFAR-10 150 MB, not four times that;
// the batcher scales per batch.

export type Split = 'train' | 'test'

export interface ImageSet {
  readonly name: string
  readonly split: Split
  readonly count: number
  readonly height: number
  readonly width: number
  readonly channels: number
  /** count × height × width × channels, row-major (NHWC). */
  readonly images: Uint8Array
  readonly labels: Uint8Array
  readonly classNames: readonly string[]
}

export function createImageSet(init: Omit<ImageSet, 'count'> & { count?: number }): ImageSet {
  const { height, width, channels, images, labels } = init
  const count = init.count ?? labels.length
  const per = height * width * channels
  if (!(per > 0)) throw new Error(`${init.name} ${init.split}: bad image shape ${height}×${width}×${channels}`)
  if (labels.length !== count) throw new Error(`${init.name} ${init.split}: ${labels.length} labels for ${count} images`)
  if (images.length !== count * per) throw new Error(`${init.name} ${init.split}: ${images.length} pixel bytes, expected ${count}×${per}`)
  return Object.freeze({ ...init, count })
}

/** The pixels of image i, as a view (no copy). */
export function imageAt(set: ImageSet, i: number): Uint8Array {
  const per = set.height * set.width * set.channels
  return set.images.subarray(i * per, (i + 1) * per)
}
