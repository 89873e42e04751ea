import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { CIFAR_RECORD, parseCifarBatches } from '../../src/engine/data/cifar'
import { checkCifarBatch, readCifarArchive } from '../../src/lab/datasets/import'
import { cifarRecords, expectDatasetError, tmp, writeCifarFixture } from './helpers'

describe('CIFAR-10 binary format', () => {
  it('reads the channel-major record layout into NHWC', () => {
    const rec = new Uint8Array(CIFAR_RECORD * 2)
    rec[0] = 3
    // Record 0: R plane all 10, G plane all 20, B plane 30 except pixel (row 1, col 2) = 99.
    rec.fill(10, 1, 1025)
    rec.fill(20, 1025, 2049)
    rec.fill(30, 2049, 3073)
    rec[2049 + 32 + 2] = 99
    rec[CIFAR_RECORD] = 9
    const b = parseCifarBatches([{ bytes: rec, file: 'x.bin' }])
    expect(b.count).toBe(2)
    expect(Array.from(b.labels)).toEqual([3, 9])
    expect(Array.from(b.pixels.subarray(0, 3))).toEqual([10, 20, 30])
    expect(Array.from(b.pixels.subarray((32 + 2) * 3, (32 + 2) * 3 + 3))).toEqual([10, 20, 99])
  })

  it('round-trips several batches in order', () => {
    const a = cifarRecords(3, 1)
    const c = cifarRecords(2, 2)
    const b = parseCifarBatches([{ bytes: a.bytes, file: 'a' }, { bytes: c.bytes, file: 'c' }])
    expect(b.count).toBe(5)
    expect(Array.from(b.labels)).toEqual([...a.labels, ...c.labels])
    expect(b.pixels.subarray(0, a.pixels.length)).toEqual(a.pixels)
    expect(b.pixels.subarray(a.pixels.length)).toEqual(c.pixels)
  })

  it('rejects a batch whose size is not a multiple of 3073, an empty one, and bad labels', async () => {
    const a = cifarRecords(2, 0).bytes
    await expectDatasetError(() => parseCifarBatches([{ bytes: a.subarray(0, 5000), file: 'data_batch_1.bin' }]), 'bad-size', 'data_batch_1.bin', /size 5000 bytes is not a multiple of the 3073-byte/)
    await expectDatasetError(() => parseCifarBatches([{ bytes: new Uint8Array(0), file: 'test_batch.bin' }]), 'empty', 'test_batch.bin')
    const bad = a.slice()
    bad[CIFAR_RECORD] = 10
    await expectDatasetError(() => parseCifarBatches([{ bytes: bad, file: 'b.bin' }]), 'bad-format', 'b.bin', /record 1 has label 10/)
    await expectDatasetError(() => checkCifarBatch(a, 'c.bin', 10000), 'bad-size', 'c.bin', /2 records, expected 10000/)
  })
})

describe('cifar-10-binary.tar.gz', () => {
  it('reads the six members from a tar.gz in the official layout', async () => {
    const f = await writeCifarFixture(tmp(), 4)
    const members = await readCifarArchive(f.archive)
    expect([...members.keys()].sort()).toEqual(['data_batch_1.bin', 'data_batch_2.bin', 'data_batch_3.bin', 'data_batch_4.bin', 'data_batch_5.bin', 'test_batch.bin'])
    for (const b of f.batches) expect(Buffer.compare(members.get(b.name)!, b.bytes)).toBe(0)
  })

  it('names missing members', async () => {
    const f = await writeCifarFixture(tmp(), 2, { omit: ['data_batch_3.bin', 'test_batch.bin'] })
    await expectDatasetError(readCifarArchive(f.archive), 'missing-member', 'cifar-10-binary.tar.gz', /lacks cifar-10-batches-bin\/data_batch_3\.bin, cifar-10-batches-bin\/test_batch\.bin/)
  })

  it('reports a truncated archive and a file that is not a tar', async () => {
    const dir = tmp()
    const f = await writeCifarFixture(dir, 3)
    const whole = readFileSync(f.archive)
    const cut = join(dir, 'cut.tar.gz')
    writeFileSync(cut, whole.subarray(0, Math.floor(whole.length / 2)))
    await expectDatasetError(readCifarArchive(cut), 'truncated-gzip', 'cut.tar.gz', /truncated gzip/)
    const junk = join(dir, 'junk.tar.gz')
    writeFileSync(junk, 'this is not an archive at all, just some text'.repeat(20))
    await expectDatasetError(readCifarArchive(junk), 'bad-format', 'junk.tar.gz', /not a (valid )?tar archive/)
    await expectDatasetError(readCifarArchive(join(dir, 'nope.tar.gz')), 'not-found', 'nope.tar.gz')
  })
})
