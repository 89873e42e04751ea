// Previews you can see, on the lab side: the training preview history on disk (capped,
// atomic, read back by the run store and runs.previews), a toy set's density image in
// datasets.preview, and the data samples that come with the score field.
import fs from 'node:fs'
import path from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { createLabService } from '../../src/lab/service'
import { createDispatch, HandlerError } from '../../src/lab/dispatch'
import { PRESETS } from '../../src/lab/catalog'
import { RunStore } from '../../src/lab/runs/store'
import { PREVIEW_HISTORY, PREVIEWS_DIR, listPreviewFiles, writePreview } from '../../src/lab/runs/preview-files'
import { previewHandlers } from '../../src/lab/previews-api'
import { createScoreFieldService, DATA_POINTS } from '../../src/lab/score-field'
import { decodePng, readPngSettings } from '../../src/engine/images/png'
import type { TrainConfig } from '../../src/shared/contract'
import { EventRecorder } from '../helpers/events'
import { tempDir } from '../helpers/service'

const toy = PRESETS.find((p) => p.name === 'toy-quick')!.config
const bytesOf = (dataUrl: string) => new Uint8Array(Buffer.from(dataUrl.split(',')[1]!, 'base64'))
/** Stand-in PNG bytes: the store serves whatever the job wrote. */
const fake = (step: number) => new Uint8Array(Buffer.from(`png of step ${step}`))

describe('the training preview history on disk', () => {
  it('keeps the latest 30 previews, written atomically, beside the latest preview.png', () => {
    const runDir = tempDir('score-lab-previews-')
    for (let step = 10; step <= 350; step += 10) writePreview(runDir, step, fake(step))
    const files = listPreviewFiles(runDir)
    expect(PREVIEW_HISTORY).toBe(30)
    expect(files.map((f) => f.step)).toEqual(Array.from({ length: 30 }, (_, i) => 60 + 10 * i))
    expect(fs.readFileSync(path.join(runDir, 'preview.png'))).toEqual(Buffer.from(fake(350)))
    expect(fs.readFileSync(path.join(runDir, PREVIEWS_DIR, 'preview-350.png'))).toEqual(Buffer.from(fake(350)))
    // No temp files of the atomic writes are left behind.
    expect(fs.readdirSync(path.join(runDir, PREVIEWS_DIR)).filter((n) => !/^preview-\d+\.png$/.test(n))).toEqual([])
  })

  it('drops stored previews of steps a resume redoes', () => {
    const runDir = tempDir('score-lab-previews-')
    for (const step of [100, 200, 300, 400]) writePreview(runDir, step, fake(step))
    // Resumed from a checkpoint at step 200: the next preview is step 300 again.
    writePreview(runDir, 300, fake(3000))
    expect(listPreviewFiles(runDir).map((f) => f.step)).toEqual([100, 200, 300])
    expect(fs.readFileSync(path.join(runDir, PREVIEWS_DIR, 'preview-300.png'))).toEqual(Buffer.from(fake(3000)))
  })

  it('is read back by the run store oldest first, empty before the first preview, not_found for unknown runs', () => {
    const store = new RunStore(tempDir())
    const run = store.create({ ...toy, previewEvery: 100 }, 'history', null)
    expect(store.previewHistory(run.id)).toEqual([])
    for (const step of [100, 200, 300]) writePreview(store.dir(run.id), step, fake(step))
    const history = store.previewHistory(run.id)
    expect(history.map((p) => p.step)).toEqual([100, 200, 300])
    expect(Buffer.from(bytesOf(history[1]!.dataUrl)).toString()).toBe('png of step 200')
    expect(history[0]!.dataUrl).toMatch(/^data:image\/png;base64,/)
    expect(() => store.previewHistory('no-such-run')).toThrow(HandlerError)
  })
})

describe('previews from a real training job', () => {
  const service = createLabService({ dataDir: tempDir(), shell: 'cli' })
  const call = createDispatch(service.handlers)
  const rec = new EventRecorder(service.events)
  afterAll(() => service.close())
  const ok = async <T>(method: string, input: unknown): Promise<T> => {
    const env = await call(method, input)
    if (!env.ok) throw new Error(env.error.message)
    return env.result as T
  }
  let runId = ''

  it('keeps every preview of a toy run on disk and serves them through runs.previews', async () => {
    const config: TrainConfig = { ...toy, steps: 300, batchSize: 64, checkpointEvery: 150, previewEvery: 50 }
    const started = await ok<{ runId: string; jobId: string }>('runs.start', { config, name: 'preview history' })
    runId = started.runId
    await rec.jobState(started.jobId, 'finished')
    const history = await previewHandlers(service.runs)['runs.previews']({ runId })
    expect(history.map((p) => p.step)).toEqual([50, 100, 150, 200, 250, 300])
    for (const p of history) {
      const png = bytesOf(p.dataUrl)
      expect(decodePng(png).width).toBe(256) // a 2-D run's preview is a density image
      expect((readPngSettings(png) as { step: number }).step).toBe(p.step)
    }
    // The latest is the same image runs.preview serves.
    expect((await ok<{ step: number; dataUrl: string }>('runs.preview', { runId })).dataUrl).toBe(history.at(-1)!.dataUrl)
    expect(fs.readdirSync(path.join(service.dataDir, 'runs', runId, PREVIEWS_DIR)).sort()).toEqual(
      [50, 100, 150, 200, 250, 300].map((s) => `preview-${s}.png`).sort()
    )
  })

  it('sends fresh data samples with the score field, at the asked resolution', async () => {
    const field = await createScoreFieldService(service.runs)(runId, 0.1, 35, true)
    expect(field.n).toBe(35)
    expect(field.points).toHaveLength(35 * 35 * 2)
    expect(field.model).toHaveLength(35 * 35 * 2)
    expect(field.data).toHaveLength(2 * DATA_POINTS)
    // toy-gmm's 8 modes lie on a circle of radius 2: the samples do too, roughly.
    const radii: number[] = []
    for (let k = 0; k < field.data.length; k += 2) radii.push(Math.hypot(field.data[k]!, field.data[k + 1]!))
    const mean = radii.reduce((a, b) => a + b, 0) / radii.length
    expect(mean).toBeGreaterThan(1.7)
    expect(mean).toBeLessThan(2.3)
    // Fixed samples: the dots stay put as t changes.
    expect((await createScoreFieldService(service.runs)(runId, 0.5, 15, true)).data).toEqual(field.data)
  })

  it('draws a toy set preview from fresh samples as a density image', async () => {
    type Preview = { rows: number; cols: number; width: number; height: number; pngDataUrl: string }
    const a = await ok<Preview>('datasets.preview', { name: 'toy-rings' })
    expect([a.rows, a.cols, a.width, a.height]).toEqual([1, 1, 256, 256])
    const img = decodePng(bytesOf(a.pngDataUrl))
    let inked = 0
    for (let p = 0; p < img.width * img.height; p++) if (img.data[4 * p]! < 200) inked++
    // Rings of radius 1 and 2: a good share of the image is ink, most of it background.
    expect(inked).toBeGreaterThan(2000)
    expect(inked).toBeLessThan(img.width * img.height * 0.5)
    // The centre of the rings is empty; the ring of radius 2 at (2, 0) is not.
    const at = (x: number, y: number) => img.data[4 * (Math.floor(((4 - y) / 8) * 256) * 256 + Math.floor(((x + 4) / 8) * 256))]!
    expect(at(0, 0)).toBe(255)
    expect(at(2, 0)).toBeLessThan(200)
    // Another seed draws other samples; the same seed the same ones.
    const b = await ok<Preview>('datasets.preview', { name: 'toy-rings', seed: 7 })
    expect(b.pngDataUrl).not.toBe(a.pngDataUrl)
    expect((await ok<Preview>('datasets.preview', { name: 'toy-rings', seed: 7 })).pngDataUrl).toBe(b.pngDataUrl)
  })
})
