// Where controllable generation's images come from, and how class samples are guided and judged
// (issue 18): data-set images by index (datasets.image, and inpainting from `start` in the split's
// own order), an image the user brings (every sample completes it), a grid of every class (one row
// each), another run's guidance classifier (refused across data spaces), and the feature
// classifier's verdict on class samples. Tiny FashionMNIST runs: the pixels, not the quality, are
// under test here.
import fs from 'node:fs'
import { beforeAll, describe, expect, it } from 'vitest'
import { PRESETS } from '../../src/lab/catalog'
import { decodePng } from '../../src/engine/images/png'
import { DatasetStore } from '../../src/lab/datasets/store'
import { resultOf, type DatasetImage, type SampleRecord, type TrainConfig } from '../../src/shared/contract'
import { labHarness } from '../helpers/service'

const FASHION = '/usr/share/datasets/fashion-mnist'
const { service, ok, ended, finished } = labHarness()
const fashion = PRESETS.find((p) => p.name === 'fashion-mnist-tutorial')!.config
const tiny: TrainConfig = { ...fashion, steps: 2, batchSize: 8, checkpointEvery: 2, previewEvery: 0 }
const PAD = 2 // makeGrid's padding

/** Cell i of a grid PNG with `cols` columns of h × w images, as grey bytes (R of each pixel). */
function cell(png: Uint8Array, i: number, cols: number, h: number, w: number): Uint8Array {
  const img = decodePng(png)
  const [x0, y0] = [PAD + (i % cols) * (w + PAD), PAD + Math.floor(i / cols) * (h + PAD)]
  const out = new Uint8Array(h * w)
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) out[y * w + x] = img.data[4 * ((y0 + y) * img.width + x0 + x)]!
  return out
}

describe.skipIf(!fs.existsSync(FASHION))('controllable generation: sources, class grids, guides and judges', () => {
  let plain = ''
  let conditional = ''
  let vp = ''
  const sample = async (runId: string, request: object): Promise<SampleRecord> =>
    resultOf(await finished((await ok<{ jobId: string }>('samples.start', { runId, seed: 1, useEma: false, ...request })).jobId), 'sample')!.samples[0]!
  const png = (runId: string, name: string) => new Uint8Array(fs.readFileSync(service.runs.samples(runId).file(name)))

  beforeAll(async () => {
    await finished((await ok<{ jobId: string }>('datasets.get', { name: 'fashion-mnist' })).jobId)
    const start = async (config: TrainConfig) => {
      const r = await ok<{ runId: string; jobId: string }>('runs.start', { config })
      await finished(r.jobId)
      return r.runId
    }
    plain = await start(tiny)
    conditional = await start({ ...tiny, conditional: true })
    vp = await start({ ...tiny, sde: { name: 'vpsde', params: {} } })
  }, 300_000)

  it('serves one data-set image by index, with its label, and refuses an index past the end or a 2-D set', async () => {
    const set = await new DatasetStore(service.dataDir).load('fashion-mnist', 'test')
    const got = await ok<DatasetImage>('datasets.image', { name: 'fashion-mnist', split: 'test', index: 17 })
    expect(got).toMatchObject({ width: 28, height: 28, channels: 1, label: set.labels[17], count: set.count })
    expect([...Buffer.from(got.data, 'base64')]).toEqual([...set.images.subarray(17 * 784, 18 * 784)])
    await expect(ok('datasets.image', { name: 'fashion-mnist', split: 'test', index: set.count })).rejects.toThrow(/has 10000 images \(0–9999\); there is no image 10000/)
    await expect(ok('datasets.image', { name: 'toy-gmm', split: 'test', index: 0 })).rejects.toThrow(/2-D points/)
  })

  it('inpaints images start… of the split in its own order: the kept pixels are those images, exactly', async () => {
    const set = await new DatasetStore(service.dataDir).load('fashion-mnist', 'test')
    const r = await sample(plain, { sampler: 'pc', steps: 3, count: 4, condition: { kind: 'inpaint', mask: 'left', split: 'test', start: 100 } })
    expect(r.condition).toMatchObject({ start: 100 })
    for (let i = 0; i < 4; i++) {
      const got = cell(png(plain, r.png), i, 2, 28, 28)
      const want = set.images.subarray((100 + i) * 784, (101 + i) * 784)
      for (let p = 0; p < 784; p++) if (p % 28 >= 14) expect(got[p]).toBe(want[p])
    }
    // Euler–Maruyama runs the same loop (EM predictor, no corrector): the kept pixels are exact there too.
    const em = await sample(plain, { sampler: 'euler_maruyama', steps: 3, count: 2, condition: { kind: 'inpaint', mask: 'right', split: 'test', start: 7 } })
    for (let i = 0; i < 2; i++) {
      const got = cell(png(plain, em.png), i, 2, 28, 28)
      const want = set.images.subarray((7 + i) * 784, (8 + i) * 784)
      for (let p = 0; p < 784; p++) if (p % 28 < 14) expect(got[p]).toBe(want[p])
    }
    const ode = await ended((await ok<{ jobId: string }>('samples.start', { runId: plain, sampler: 'ode', count: 2, seed: 0, useEma: false, condition: { kind: 'inpaint', mask: 'left', split: 'test' } })).jobId)
    expect(ode.error).toMatch(/Inpainting runs on the predictor–corrector loop: choose "pc" or "euler_maruyama", not "ode"/)
    const past = await ended((await ok<{ jobId: string }>('samples.start', { runId: plain, sampler: 'pc', steps: 2, count: 4, seed: 0, useEma: false, condition: { kind: 'inpaint', mask: 'left', split: 'test', start: 9998 } })).jobId)
    expect(past.error).toMatch(/10000 images; images 9998–10001 are past its end/)
  }, 120_000)

  it('completes one brought image in every sample, and refuses one of another size', async () => {
    const bytes = Uint8Array.from({ length: 784 }, (_, p) => (p * 7) % 256)
    const image = { width: 28, height: 28, channels: 1, data: Buffer.from(bytes).toString('base64') }
    const r = await sample(plain, { sampler: 'pc', steps: 3, count: 3, condition: { kind: 'inpaint', mask: 'top', split: 'test', image } })
    for (let i = 0; i < 3; i++) {
      const got = cell(png(plain, r.png), i, 2, 28, 28)
      for (let p = 14 * 28; p < 784; p++) expect(got[p]).toBe(bytes[p])
    }
    const small = { width: 14, height: 14, channels: 1, data: Buffer.from(new Uint8Array(196)).toString('base64') }
    const bad = await ended((await ok<{ jobId: string }>('samples.start', { runId: plain, sampler: 'pc', steps: 2, count: 2, seed: 0, useEma: false, condition: { kind: 'inpaint', mask: 'top', split: 'test', image: small } })).jobId)
    expect(bad.error).toMatch(/The image is 14×14×1, but this run's images are 28×28×1/)
    // A mismatched byte count is refused at the boundary.
    await expect(ok('samples.start', { runId: plain, sampler: 'pc', steps: 2, count: 2, seed: 0, useEma: false, condition: { kind: 'inpaint', mask: 'top', split: 'test', image: { ...image, data: Buffer.from(new Uint8Array(100)).toString('base64') } } })).rejects.toThrow(/width × height × channels bytes/)
  }, 120_000)

  it('samples every class of a conditional run as one grid, one row per class, judged by the feature classifier', async () => {
    // No feature classifier yet: no verdict, and nothing fails.
    const before = await sample(conditional, { sampler: 'euler_maruyama', steps: 3, count: 64, condition: { kind: 'classes', perClass: 3, guidance: 1 } })
    expect(before.count).toBe(30)
    expect(before.classAgreement ?? null).toBeNull()
    // Its picture: 3 columns, 10 rows of 28-pixel images.
    expect([before.width, before.height]).toEqual([3 * 30 + PAD, 10 * 30 + PAD])
    await finished((await ok<{ jobId: string }>('classifiers.train', { dataset: 'fashion-mnist', steps: 10 })).jobId)
    const after = await sample(conditional, { sampler: 'euler_maruyama', steps: 3, count: 64, condition: { kind: 'classes', perClass: 3, guidance: 1 } })
    expect(after.classAgreement).toMatchObject({ count: 30 })
    expect(after.classAgreement!.perClass).toHaveLength(10)
    const { rate, perClass } = after.classAgreement!
    expect(rate).toBeCloseTo(perClass.reduce((a: number, p) => a + p!, 0) / 10, 10)
    const one = await sample(conditional, { sampler: 'euler_maruyama', steps: 3, count: 5, condition: { kind: 'class', label: 4 } })
    expect(one.classAgreement!.perClass.filter((p) => p !== null)).toHaveLength(1)
    expect(one.classAgreement!.perClass[4]).not.toBeNull()
  }, 180_000)

  it("guides with another run's classifier only when it was trained on the same data and SDE", async () => {
    const other = await ended((await ok<{ jobId: string }>('samples.start', { runId: plain, sampler: 'euler_maruyama', steps: 2, count: 2, seed: 0, useEma: false, condition: { kind: 'class', label: 1, classifierRun: vp } })).jobId)
    expect(other.error).toMatch(/trained on fashion-mnist under vpsde .*this run is fashion-mnist under vesde_tutorial.*same data and SDE/)
    const none = await ended((await ok<{ jobId: string }>('samples.start', { runId: vp, sampler: 'euler_maruyama', steps: 2, count: 2, seed: 0, useEma: false, condition: { kind: 'classes', perClass: 1, classifierRun: vp } })).jobId)
    expect(none.error).toMatch(/has no guidance classifier yet; train one with score-lab train-classifier --for/)
    const cfg = await ended((await ok<{ jobId: string }>('samples.start', { runId: conditional, sampler: 'euler_maruyama', steps: 2, count: 2, seed: 0, useEma: false, condition: { kind: 'class', label: 1, classifierRun: plain } })).jobId)
    expect(cfg.error).toMatch(/class-conditional: it samples a class by classifier-free guidance/)
  }, 120_000)
})
