// Decoding a verified set's stored files into in-memory ImageSets (once per store; see load()).
import { join } from 'node:path'
import { parseCifarBatches } from '../../engine/data/cifar'
import { checkIdxPair, parseIdxImages, parseIdxLabels } from '../../engine/data/idx'
import { createImageSet, type ImageSet, type Split } from '../../engine/data/image-set'
import { readBytes, readCifarArchive } from './import'
import type { Manifest } from './manifest'
import { CIFAR10_TEST_MEMBERS, CIFAR10_TRAIN_MEMBERS, type ImageDatasetInfo } from './registry'

/**
 * Decodes `split`. For a CIFAR-10 archive both splits come back, because inflating the
 * 163 MB archive is the slow part and the other split is almost always wanted next.
 */
export async function decodeSplit(info: ImageDatasetInfo, dir: string, manifest: Manifest, split: Split): Promise<Partial<Record<Split, ImageSet>>> {
  const [height, width, channels] = info.shape
  const make = (s: Split, images: Uint8Array, labels: Uint8Array) =>
    createImageSet({ name: info.name, split: s, height, width, channels, classNames: info.classNames, images, labels })
  if (info.format === 'idx') {
    const byRole = new Map(manifest.files.map((f) => [f.role, f.name]))
    const imgFile = join(dir, byRole.get(`${split}-images`)!)
    const labFile = join(dir, byRole.get(`${split}-labels`)!)
    const images = parseIdxImages(await readBytes(imgFile), imgFile)
    const labels = parseIdxLabels(await readBytes(labFile), labFile, info.classNames.length)
    checkIdxPair(images, labels, imgFile, labFile)
    return { [split]: make(split, images.pixels, labels) }
  }
  const membersOf = (s: Split) => (s === 'train' ? CIFAR10_TRAIN_MEMBERS : CIFAR10_TEST_MEMBERS)
  const cifar = (s: Split, parts: { bytes: Uint8Array; file: string }[]) => {
    const b = parseCifarBatches(parts)
    return make(s, b.pixels, b.labels)
  }
  const archive = manifest.files.find((f) => f.role === 'archive')
  if (!archive) {
    const parts = await Promise.all(membersOf(split).map(async (m) => ({ bytes: await readBytes(join(dir, m)), file: join(dir, m) })))
    return { [split]: cifar(split, parts) }
  }
  const path = join(dir, archive.name)
  const all = await readCifarArchive(path)
  const parts = (s: Split) => membersOf(s).map((m) => ({ bytes: all.get(m)!, file: `${path}:${m}` }))
  return { train: cifar('train', parts('train')), test: cifar('test', parts('test')) }
}
