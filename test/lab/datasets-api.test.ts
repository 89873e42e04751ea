// The data-set procedures over the dispatcher (the same path both transports use).
import fs from 'node:fs'
import { describe, expect, it } from 'vitest'
import { createLabService } from '../../src/lab/service'
import { createDispatch } from '../../src/lab/dispatch'
import { decodePng } from '../../src/engine/images/png'
import { EventRecorder } from '../helpers/events'
import { tempDir } from '../helpers/service'

const SYSTEM_FASHION = '/usr/share/datasets/fashion-mnist'
const hasSystemCopy = fs.existsSync(SYSTEM_FASHION)
if (!hasSystemCopy) console.log(`[datasets-api] SKIPPED the FashionMNIST cases: ${SYSTEM_FASHION} is missing (apt-get install dataset-fashion-mnist)`)

const service = createLabService({ dataDir: tempDir(), shell: 'cli' })
const call = createDispatch(service.handlers)
const rec = new EventRecorder(service.events)

async function ok<T>(method: string, input: unknown): Promise<T> {
  const env = await call(method, input)
  if (!env.ok) throw new Error(env.error.message)
  return env.result as T
}

describe('datasets over the API', () => {
  it('lists the three image sets and the toy sets with their state', async () => {
    const list = await ok<any[]>('datasets.list', {})
    expect(list.map((d) => d.name)).toEqual(expect.arrayContaining(['mnist', 'fashion-mnist', 'cifar10', 'toy-gmm', 'toy-rings', 'toy-moons']))
    expect(list.find((d) => d.name === 'toy-gmm').state).toBe('verified')
    expect(list.find((d) => d.name === 'cifar10')).toMatchObject({ state: 'not-present', shape: [32, 32, 3], trainSize: 50000 })
  })

  it('refuses unknown names and missing paths with errors that name them', async () => {
    const unknown = await call('datasets.get', { name: 'imagenet' })
    expect(unknown).toMatchObject({ ok: false, error: { code: 'not_found' } })
    if (!unknown.ok) expect(unknown.error.message).toMatch(/imagenet/)
    const missing = await call('datasets.import', { name: 'mnist', path: '/nonexistent/mnist-files' })
    expect(missing.ok).toBe(false)
    if (!missing.ok) expect(missing.error.message).toMatch(/\/nonexistent\/mnist-files/)
  })

  it.skipIf(!hasSystemCopy)('gets FashionMNIST from the Debian package as a job, then serves stats and a preview', async () => {
    const { jobId } = await ok<{ jobId: string }>('datasets.get', { name: 'fashion-mnist' })
    const end = await rec.waitFor((e) => e.type === 'job' && e.job.id === jobId && ['finished', 'failed'].includes(e.job.state), 120_000)
    expect(end.type === 'job' && end.job.error).toBeFalsy()
    const listing = (await ok<any[]>('datasets.list', {})).find((d) => d.name === 'fashion-mnist')
    expect(listing.state).toBe('verified')
    const stats = await ok<any>('datasets.stats', { name: 'fashion-mnist' })
    expect(stats.train.count).toBe(60000)
    expect(stats.train.classCounts).toEqual(Array(10).fill(6000))
    expect(stats.sigmaMax.zeroOne).toBeGreaterThan(10)
    const preview = await ok<any>('datasets.preview', { name: 'fashion-mnist', perClass: 4 })
    const png = decodePng(new Uint8Array(Buffer.from(preview.pngDataUrl.split(',')[1], 'base64')))
    expect([png.width, png.height]).toEqual([preview.width, preview.height])
    expect(preview.rows).toBe(10)
    expect((await ok<any>('datasets.verify', { name: 'fashion-mnist' })).state).toBe('verified')
    await ok('datasets.delete', { name: 'fashion-mnist' })
    expect((await ok<any[]>('datasets.list', {})).find((d) => d.name === 'fashion-mnist').state).toBe('not-present')
  })
})
