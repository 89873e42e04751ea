// Latent interpolation through the probability-flow ODE as a job, from the lab and the CLI
// (issue 20, item 1): two test images (or a brought PNG) encoded, frames decoded, kept as a
// sample record with a one-row strip, a GIF and the originals; the round trip's error and the
// NFE each way reported. A tiny FashionMNIST run: the plumbing and the numbers' honesty are
// under test here (the solver's accuracy is tested on Gaussian data in test/samplers).
import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import { PRESETS } from '../../src/lab/catalog'
import { decodePng, encodePng } from '../../src/engine/images/png'
import { resultOf, type SampleRecord, type TrainConfig } from '../../src/shared/contract'
import { labHarness, tempDir } from '../helpers/service'
import { DatasetStore } from '../../src/lab/datasets/store'

const FASHION = '/usr/share/datasets/fashion-mnist'
const CLI = path.resolve(__dirname, '../../bin/score-lab.mjs')
const { service, ok, ended, finished } = labHarness()
const fashion = PRESETS.find((p) => p.name === 'fashion-mnist-tutorial')!.config
const tiny: TrainConfig = { ...fashion, steps: 20, batchSize: 16, lr: 1e-3, checkpointEvery: 20, previewEvery: 0 }

describe.skipIf(!fs.existsSync(FASHION))('latent interpolation', () => {
  let runId = ''
  beforeAll(async () => {
    await finished((await ok<{ jobId: string }>('datasets.get', { name: 'fashion-mnist' })).jobId)
    const r = await ok<{ runId: string; jobId: string }>('runs.start', { config: tiny })
    await finished(r.jobId)
    runId = r.runId
  }, 300_000)

  it('encodes two test images, decodes the frames between them, and keeps strip, GIF and originals with the round-trip error', async () => {
    const job = await finished((await ok<{ jobId: string }>('samples.interpolate', { runId, split: 'test', images: [3, 7], frames: 5, rtol: 1e-4, atol: 1e-4 })).jobId)
    const r: SampleRecord = resultOf(job, 'interpolate')!.samples[0]!
    const i = r.interpolation!
    console.log(`[interpolate] round trip max ${i.reconstruction.maxAbs.toExponential(2)}, rms ${i.reconstruction.rms.toExponential(2)}; NFE ${i.nfeEncode} + ${i.nfeDecode}; ${r.seconds.toFixed(1)} s`)
    expect(i).toMatchObject({ images: [3, 7], split: 'test', frames: 5 })
    expect(i.nfeEncode).toBeGreaterThan(5)
    expect(i.nfeDecode).toBeGreaterThan(5)
    expect(r.nfe).toBe(i.nfeEncode + i.nfeDecode)
    // The ends come back near the originals (a 20-step model's flow is stiff near t = ε, so not
    // to the tolerance: the number is reported, not assumed), and the reported error is the one
    // the strip shows: its end cells against the test images, up to the PNG's rounding and clamping.
    expect(i.reconstruction.maxAbs).toBeLessThan(0.5)
    expect(i.reconstruction.rms).toBeLessThanOrEqual(i.reconstruction.maxAbs)
    const store = service.runs.samples(runId)
    const set = await new DatasetStore(service.dataDir).load('fashion-mnist', 'test')
    const strip = decodePng(new Uint8Array(fs.readFileSync(store.file(r.png))))
    let shown = 0
    for (const [cellIndex, image] of [[0, 3], [4, 7]] as const) {
      for (let y = 0; y < 28; y++) {
        for (let x = 0; x < 28; x++) {
          const px = strip.data[4 * ((2 + y) * strip.width + 2 + cellIndex * 30 + x)]!
          shown = Math.max(shown, Math.abs(px - set.images[image * 784 + y * 28 + x]!) / 255)
        }
      }
    }
    expect(shown).toBeLessThanOrEqual(i.reconstruction.maxAbs + 0.5 / 255 + 1e-6)
    expect(shown).toBeGreaterThan(Math.min(i.reconstruction.maxAbs, 1) / 4)
    expect(decodePng(new Uint8Array(fs.readFileSync(store.file(r.png))))).toMatchObject({ width: 5 * 30 + 2, height: 32 })
    expect(decodePng(new Uint8Array(fs.readFileSync(store.file(r.reference!))))).toMatchObject({ width: 2 * 30 + 2, height: 32 })
    expect(fs.statSync(store.file(r.gif!)).size).toBeGreaterThan(100)
    expect((await ok<SampleRecord[]>('samples.list', { runId })).map((s) => s.id)).toContain(r.id)
  }, 180_000)

  it('takes a brought image for either end, and refuses a toy run, a missing image and an index past the end', async () => {
    const bytes = Uint8Array.from({ length: 784 }, (_, p) => ((p % 28) * 9) % 256)
    const file = { width: 28, height: 28, channels: 1, data: Buffer.from(bytes).toString('base64') }
    const job = await finished((await ok<{ jobId: string }>('samples.interpolate', { runId, split: 'test', images: [0, 7], files: [file, null], frames: 3, rtol: 1e-3, atol: 1e-3 })).jobId)
    expect(resultOf(job, 'interpolate')!.samples[0]!.interpolation!.images).toEqual(['file', 7])
    await expect(ok('samples.interpolate', { runId, split: 'test', frames: 3 })).rejects.toThrow(/give the two images/)
    await expect(ok('samples.interpolate', { runId, split: 'test', images: [0, 1], frames: 1 })).rejects.toThrow(/interpolation frames must be/)
    const past = await ended((await ok<{ jobId: string }>('samples.interpolate', { runId, split: 'test', images: [0, 10_000], frames: 3 })).jobId)
    expect(past.error).toMatch(/has 10000 images \(0–9999\); there is no image 10000/)
    const toy = await ok<{ runId: string; jobId: string }>('runs.start', { config: { ...PRESETS.find((p) => p.name === 'toy-quick')!.config, steps: 2, checkpointEvery: 2 } })
    await finished(toy.jobId)
    await expect(ok('samples.interpolate', { runId: toy.runId, split: 'test', images: [0, 1], frames: 3 })).rejects.toThrow(/2-D points/)
  }, 180_000)

  it('score-lab interpolate writes the GIF and the strip and reports the error and NFE in --json', () => {
    const out = tempDir('score-lab-interp-')
    const png = path.join(out, 'end.png')
    fs.writeFileSync(png, encodePng({ width: 28, height: 28, data: new Uint8Array(28 * 28 * 4).fill(200) }))
    const r = spawnSync(process.execPath, [CLI, 'interpolate', '--checkpoint', runId, '--images', `5,${png}`, '--frames', '4', '--rtol', '1e-3', '--atol', '1e-3', '--out', path.join(out, 'walk.gif'), '--json', '--data-dir', service.dataDir], { encoding: 'utf8', timeout: 300_000 })
    expect(r.status, r.stderr).toBe(0)
    const json = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as { out: string; strip: string; frames: number; images: unknown[]; reconstruction: { maxAbs: number }; nfe: { encode: number; decode: number } }
    expect(json).toMatchObject({ frames: 4, images: [5, 'file'], out: path.join(out, 'walk.gif'), strip: path.join(out, 'walk.png') })
    expect(json.nfe.encode).toBeGreaterThan(0)
    expect(Number.isFinite(json.reconstruction.maxAbs)).toBe(true)
    expect(decodePng(new Uint8Array(fs.readFileSync(json.strip))).width).toBe(4 * 30 + 2)
    const bad = spawnSync(process.execPath, [CLI, 'interpolate', '--checkpoint', runId, '--images', '5', '--out', path.join(out, 'x.gif'), '--data-dir', service.dataDir], { encoding: 'utf8' })
    expect(bad.status).not.toBe(0)
    expect(bad.stderr).toMatch(/--images takes two images, I,J/)
  }, 300_000)
})
