/// <reference lib="dom" />
// Classifier-free guidance from the Sample panel: on a class-conditional toy run the panel offers
// its classes and a guidance weight; sampling one class records the condition and measures the
// samples against that class's component. An unconditional run shows no class picker.
import fs from 'node:fs'
import { describe, expect, it } from 'vitest'
import { readPngSettings } from '../../src/engine/images/png'
import { screenshot, useLabPage } from '../helpers/browser'
import { createDispatch } from '../../src/lab/dispatch'
import { PRESETS } from '../../src/lab/catalog'
import type { SampleRecord } from '../../src/shared/contract'

const lab = useLabPage()
const FASHION = '/usr/share/datasets/fashion-mnist'
const toy = PRESETS.find((p) => p.name === 'toy-quick')!.config

describe('class-conditional sampling in the Sample panel', () => {
  it('picks a class and a guidance weight, and the result is measured against that class', async () => {
    const call = createDispatch(lab.service.handlers)
    const start = async (config: object, name: string) => {
      const env = await call('runs.start', { config, name })
      if (!env.ok) throw new Error(env.error.message)
      const { jobId, runId } = env.result as { jobId: string; runId: string }
      await expect.poll(() => lab.service.jobs.get(jobId).state, { timeout: 180_000, interval: 500 }).toBe('finished')
      return runId
    }
    const plain = await start({ ...toy, steps: 20, batchSize: 64, checkpointEvery: 20, previewEvery: 0 }, 'plain')
    const conditional = await start({ ...toy, steps: 600, batchSize: 128, checkpointEvery: 600, previewEvery: 0, conditional: true, labelDropout: 0.1 }, 'by class')

    await lab.page.goto(lab.server.openUrl)
    await lab.page.getByTestId('nav-sample').click()
    await lab.page.getByTestId('sample-run').selectOption(plain)
    await lab.page.getByTestId('sample-checkpoint').waitFor()
    // An unconditional toy run has nothing to control.
    expect(await lab.page.getByTestId('sample-task').count()).toBe(0)

    await lab.page.getByTestId('sample-run').selectOption(conditional)
    await lab.page.getByTestId('sample-task').selectOption('class')
    // toy-gmm's eight modes.
    expect(await lab.page.getByTestId('sample-class').locator('option').count()).toBe(8)
    await lab.page.getByTestId('sample-class').selectOption({ label: '3 · mode 3' })
    await lab.page.getByTestId('sample-guidance').fill('2')
    await lab.page.getByTestId('s-sampler').selectOption('euler_maruyama')
    await lab.page.getByTestId('s-steps').fill('60')
    await lab.page.getByTestId('s-count').fill('400')
    await lab.page.getByTestId('sample-run-button').click()
    await lab.page.getByTestId('sample-result').waitFor({ timeout: 120_000 })
    expect(lab.errors).toEqual([])
    const id = await lab.page.getByTestId('sample-result').getAttribute('data-sample-id')
    const record = lab.service.runs.samples(conditional).get(id!) as SampleRecord
    expect(record.condition).toEqual({ kind: 'class', label: 3, guidance: 2 })
    expect(record.toyMetrics?.target).toBe('toy-gmm, class 3')
    console.log(`[ui cfg] class 3, w 2: ${(record.toyMetrics!.nearModes! * 100).toFixed(1)} % within 2σ of mode 3 (true samples ${(record.toyMetrics!.nearModesRef! * 100).toFixed(1)} %)`)
    expect(record.toyMetrics!.nearModes!).toBeGreaterThan(0.6)
    await screenshot(lab.page, 'sample-class-conditional')
  }, 400_000)

  it.skipIf(!fs.existsSync(FASHION))('inpaints test images with a mask drawn on the canvas, and exports the result with the mask in its settings', async () => {
    const call = createDispatch(lab.service.handlers)
    const ok = async <T>(method: string, input: unknown): Promise<T> => {
      const env = await call(method, input)
      if (!env.ok) throw new Error(env.error.message)
      return env.result as T
    }
    const got = await ok<{ jobId: string }>('datasets.get', { name: 'fashion-mnist' })
    await expect.poll(() => lab.service.jobs.get(got.jobId).state, { timeout: 180_000, interval: 500 }).toBe('finished')
    const fashion = PRESETS.find((p) => p.name === 'fashion-mnist-tutorial')!.config
    const { runId, jobId } = await ok<{ runId: string; jobId: string }>('runs.start', { config: { ...fashion, steps: 2, batchSize: 8, checkpointEvery: 2, previewEvery: 0 }, name: 'tiny fashion' })
    await expect.poll(() => lab.service.jobs.get(jobId).state, { timeout: 180_000, interval: 500 }).toBe('finished')

    await lab.page.goto(lab.server.openUrl)
    await lab.page.getByTestId('nav-sample').click()
    await lab.page.getByTestId('sample-run').selectOption(runId)
    await lab.page.getByTestId('sample-task').selectOption('inpaint')
    await lab.page.getByTestId('sample-mask').selectOption('draw')
    const canvas = lab.page.getByTestId('mask-canvas')
    await canvas.waitFor()
    expect(await lab.page.getByTestId('mask-count').innerText()).toMatch(/^0 of 784 pixels/)
    // A stroke across the middle with the default brush, then Invert: the sampler fills all but the stroke.
    await canvas.scrollIntoViewIfNeeded()
    const box = (await canvas.boundingBox())!
    await lab.page.mouse.move(box.x + box.width * 0.2, box.y + box.height * 0.5)
    await lab.page.mouse.down()
    await lab.page.mouse.move(box.x + box.width * 0.8, box.y + box.height * 0.5, { steps: 12 })
    await lab.page.mouse.up()
    const stroke = Number((await lab.page.getByTestId('mask-count').innerText()).split(' ')[0])
    expect(stroke).toBeGreaterThan(20)
    expect(stroke).toBeLessThan(200)
    await lab.page.getByTestId('mask-invert').click()
    expect(await lab.page.getByTestId('mask-count').innerText()).toMatch(new RegExp(`^${784 - stroke} of 784`))
    await lab.page.getByTestId('mask-invert').click()
    // Inpainting runs on pc: the panel says so until pc is chosen.
    await lab.page.getByTestId('s-sampler').selectOption('euler_maruyama')
    expect(await lab.page.getByTestId('sample-control-note').innerText()).toMatch(/run on the pc sampler/)
    await lab.page.getByTestId('s-sampler').selectOption('pc')
    await lab.page.getByTestId('s-steps').fill('8')
    await lab.page.getByTestId('s-count').fill('4')
    await screenshot(lab.page, 'sample-inpaint-drawn-mask')
    await lab.page.getByTestId('sample-run-button').click()
    await lab.page.getByTestId('sample-result').waitFor({ timeout: 180_000 })
    expect(lab.errors).toEqual([])
    const id = await lab.page.getByTestId('sample-result').getAttribute('data-sample-id')
    const record = lab.service.runs.samples(runId).get(id!) as SampleRecord
    expect(record.condition).toMatchObject({ kind: 'inpaint', split: 'test', mask: { width: 28, height: 28 } })
    const mask = record.condition!.kind === 'inpaint' ? record.condition!.mask : null
    const bits = typeof mask === 'object' && mask ? Buffer.from(mask.data, 'base64') : Buffer.alloc(0)
    expect(bits.length).toBe(784)
    expect(bits.filter((b) => b === 0).length).toBe(stroke)
    expect(record.reference).toBeTruthy()
    await lab.page.getByTestId('sample-result').scrollIntoViewIfNeeded()
    // Observed beside the result, and the condition in the caption.
    await lab.page.getByTestId('sample-observed').waitFor()
    await expect.poll(() => lab.page.getByTestId('sample-truth').getAttribute('src'), { timeout: 10_000 }).toMatch(/^data:image\/png/)
    expect(await lab.page.getByTestId('sample-condition').innerText()).toMatch(/inpaint: drawn mask · test set/)
    await screenshot(lab.page, 'sample-inpaint-result')
    // The exported PNG carries the condition (the drawn mask) in its settings.
    const [download] = await Promise.all([lab.page.waitForEvent('download'), lab.page.getByTestId('export-png').click()])
    const settings = readPngSettings(new Uint8Array(fs.readFileSync((await download.path())!))) as { condition?: { kind: string } } | null
    expect(settings?.condition?.kind).toBe('inpaint')
  }, 400_000)
})
