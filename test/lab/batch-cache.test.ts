// The sweep's batch cache (resume by batch): exact round trip, a key per point, and damaged or
// mismatched files read as "not kept" (the batch is sampled again) rather than as samples.
import fs from 'node:fs'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { BatchCache, type BatchKey } from '../../src/lab/runs/batch-cache'
import { tempDir } from '../helpers/service'

const KEY: BatchKey = { checkpoint: 'ckpt-00000100.safetensors', useEma: true, eps: null, sampler: 'heun', settings: { n: 10, rho: 7 }, seed: 3, batchSize: 64 }

describe('BatchCache', () => {
  it('gives back exactly what was kept, per batch, and forgets it on clear', () => {
    const root = tempDir()
    const cache = new BatchCache(root, KEY)
    const data = Float32Array.from({ length: 12 }, (_, i) => Math.fround(Math.PI * (i - 5.5)))
    expect(cache.get(0, 3, 12)).toBeNull()
    cache.put(0, 3, { data, nfe: 19, seconds: 1.25 })
    const back = cache.get(0, 3, 12)!
    expect(Array.from(back.data)).toEqual(Array.from(data))
    expect(back).toMatchObject({ nfe: 19, seconds: 1.25 })
    expect(cache.get(1, 3, 12)).toBeNull()
    // Another size (the last batch of another N) is not this batch.
    expect(cache.get(0, 2, 8)).toBeNull()
    cache.clear()
    expect(cache.get(0, 3, 12)).toBeNull()
    expect(fs.readdirSync(root)).toEqual([])
  })

  it('keys a point by everything that decides its samples, not by the order of its settings', () => {
    const root = tempDir()
    const dir = (k: BatchKey) => new BatchCache(root, k).dir
    expect(dir({ ...KEY, settings: { rho: 7, n: 10 } })).toBe(dir(KEY))
    for (const change of [{ seed: 4 }, { useEma: false }, { eps: 1e-3 }, { sampler: 'ddim' }, { settings: { n: 11, rho: 7 } }, { checkpoint: 'ckpt-00000200.safetensors' }, { batchSize: 32 }]) {
      expect(dir({ ...KEY, ...change }), JSON.stringify(change)).not.toBe(dir(KEY))
    }
  })

  it('reads a truncated or unreadable batch as not kept', () => {
    const root = tempDir()
    const cache = new BatchCache(root, KEY)
    cache.put(0, 2, { data: new Float32Array(8).fill(1), nfe: 5, seconds: 0.1 })
    fs.truncateSync(path.join(cache.dir, '0.f32'), 12)
    expect(cache.get(0, 2, 8)).toBeNull()
    cache.put(1, 2, { data: new Float32Array(8).fill(2), nfe: 5, seconds: 0.1 })
    fs.writeFileSync(path.join(cache.dir, '1.json'), '{"size": 2, "val')
    expect(cache.get(1, 2, 8)).toBeNull()
  })

  it('fails to keep a batch with an error when its folder cannot be made (the sweep logs it and goes on)', () => {
    const root = tempDir()
    fs.writeFileSync(path.join(root, 'blocker'), 'a file where the cache folder would go')
    const cache = new BatchCache(path.join(root, 'blocker'), KEY)
    expect(() => cache.put(0, 1, { data: new Float32Array(4), nfe: 1, seconds: 0 })).toThrow(/ENOTDIR|EEXIST/)
  })
})
