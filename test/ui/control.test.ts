/// <reference lib="dom" />
// The Control panel with the real backend: tiny runs are trained through the lab service, then
// the page drives the panel. (1) A class-conditional toy run samples one class by classifier-free
// guidance and is measured against that class's mode; a tiny class-conditional FashionMNIST run
// samples every class in one grid with the class names beside its rows. (2) Inpainting with a
// mask drawn over the test image it applies to, the result beside the observation, exported.
// (3) An image file chosen or dropped on the panel goes to the lab at the run's size. (4) An
// unconditional image run offers to train its guidance classifier.
import fs from 'node:fs'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { encodePng, readPngSettings } from '../../src/engine/images/png'
import { screenshot, useLabPage } from '../helpers/browser'
import { tempDir } from '../helpers/service'
import { createDispatch } from '../../src/lab/dispatch'
import { PRESETS } from '../../src/lab/catalog'
import type { SampleRecord } from '../../src/shared/contract'

const lab = useLabPage()
const FASHION = '/usr/share/datasets/fashion-mnist'
const toy = PRESETS.find((p) => p.name === 'toy-quick')!.config
const fashion = PRESETS.find((p) => p.name === 'fashion-mnist-tutorial')!.config

async function ok<T>(method: string, input: unknown): Promise<T> {
  const env = await createDispatch(lab.service.handlers)(method, input)
  if (!env.ok) throw new Error(env.error.message)
  return env.result as T
}
async function waitJob(jobId: string): Promise<void> {
  await expect.poll(() => lab.service.jobs.get(jobId).state, { timeout: 180_000, interval: 500 }).toBe('finished')
}
async function train(config: object, name: string): Promise<string> {
  const { runId, jobId } = await ok<{ runId: string; jobId: string }>('runs.start', { config, name })
  await waitJob(jobId)
  return runId
}
/** The record the panel shows. */
async function shownRecord(runId: string): Promise<SampleRecord> {
  const id = await lab.page.getByTestId('sample-result').getAttribute('data-sample-id')
  return lab.service.runs.samples(runId).get(id!) as SampleRecord
}
/** Starts sampling with the Run button and waits for the new record (one the run did not have) on show; a failed job fails the test with its message. */
async function runAndWait(runId: string): Promise<SampleRecord> {
  const known = new Set(lab.service.runs.samples(runId).list().map((r) => r.id))
  await lab.page.getByTestId('control-run-button').click()
  await expect
    .poll(async () => {
      const error = await lab.page.getByTestId('control-error').innerText({ timeout: 100 }).catch(() => null)
      if (error) throw new Error(error)
      const id = await lab.page.getByTestId('sample-result').getAttribute('data-sample-id', { timeout: 100 }).catch(() => null)
      return id !== null && !known.has(id)
    }, { timeout: 180_000, interval: 300 })
    .toBe(true)
  return shownRecord(runId)
}
const options = (testId: string) => lab.page.getByTestId(testId).locator('option').evaluateAll((os) => os.map((o) => (o as HTMLOptionElement).value))

// FashionMNIST from Debian's copy, and two tiny runs on it (two training steps each), made once.
let fashionRuns: Promise<{ plain: string; conditional: string }> | null = null
function fashionSetup(): Promise<{ plain: string; conditional: string }> {
  fashionRuns ??= (async () => {
    const { jobId } = await ok<{ jobId: string }>('datasets.get', { name: 'fashion-mnist' })
    await waitJob(jobId)
    const tiny = { ...fashion, steps: 2, batchSize: 8, checkpointEvery: 2, previewEvery: 0 }
    const plain = await train(tiny, 'tiny fashion')
    const conditional = await train({ ...tiny, conditional: true, labelDropout: 0.1 }, 'tiny fashion by class')
    return { plain, conditional }
  })()
  return fashionRuns
}

async function openControl(runId: string): Promise<void> {
  if (lab.page.url() === 'about:blank') await lab.page.goto(lab.server.openUrl)
  await lab.page.getByTestId('nav-control').click()
  await lab.page.getByTestId('sample-run').selectOption(runId)
  await lab.page.getByTestId('sample-checkpoint').waitFor()
}

describe('the Control panel', () => {
  it('samples one class by classifier-free guidance, measured against that class; every class in a grid with its rows named', async () => {
    const plain = await train({ ...toy, steps: 20, batchSize: 64, checkpointEvery: 20, previewEvery: 0 }, 'plain')
    const conditional = await train({ ...toy, steps: 600, batchSize: 128, checkpointEvery: 600, previewEvery: 0, conditional: true, labelDropout: 0.1 }, 'by class')

    await lab.page.goto(lab.server.openUrl)
    // Control sits after Sample in the sidebar, with the next number key.
    expect(await lab.page.locator('nav[aria-label="Panels"] button').evaluateAll((bs) => bs.map((b) => b.getAttribute('data-testid')))).toEqual([
      'nav-system', 'nav-runs', 'nav-training', 'nav-datasets', 'nav-sample', 'nav-control', 'nav-compare', 'nav-studies'
    ])
    await lab.page.keyboard.press('Alt+6')
    await lab.page.getByTestId('control-panel').waitFor()
    // The Sample panel has no control section any more.
    await lab.page.getByTestId('nav-sample').click()
    await lab.page.getByTestId('sample-panel').waitFor()
    expect(await lab.page.getByTestId('control-task').count()).toBe(0)

    await openControl(plain)
    // An unconditional toy-gmm run: one class through its exact classifier; no grid for points, no images.
    expect(await options('control-task')).toEqual(['class'])
    expect(await lab.page.getByTestId('control-class-mode').innerText()).toMatch(/exact classifier, with any sampler/)
    // Any sampler follows its guided score (no pc-only note), the weight sent as guidance.
    await lab.page.getByTestId('control-task').selectOption('class')
    await lab.page.getByTestId('control-class').selectOption({ label: '2 · mode 2' })
    await lab.page.getByTestId('control-guidance').fill('1.5')
    await lab.page.getByTestId('c-sampler').selectOption('euler_maruyama')
    await lab.page.getByTestId('c-steps').fill('20')
    await lab.page.getByTestId('c-count').fill('64')
    expect(await lab.page.getByTestId('control-note').count()).toBe(0)
    expect(await lab.page.getByTestId('control-run-button').isDisabled()).toBe(false)
    const exact = await runAndWait(plain)
    expect(lab.errors).toEqual([])
    expect(exact.condition).toEqual({ kind: 'class', label: 2, guidance: 1.5 })
    expect(exact.sampler).toBe('euler_maruyama')
    expect(exact.toyMetrics?.target).toBe('toy-gmm, class 2')

    await lab.page.getByTestId('sample-run').selectOption(conditional)
    await lab.page.getByTestId('control-task').selectOption('class')
    expect(await lab.page.getByTestId('control-class-mode').innerText()).toMatch(/classifier-free guidance/)
    // toy-gmm's eight modes.
    expect(await lab.page.getByTestId('control-class').locator('option').count()).toBe(8)
    await lab.page.getByTestId('control-class').selectOption({ label: '3 · mode 3' })
    await lab.page.getByTestId('control-guidance').fill('2')
    await lab.page.getByTestId('c-sampler').selectOption('euler_maruyama')
    await lab.page.getByTestId('c-steps').fill('60')
    await lab.page.getByTestId('c-count').fill('400')
    const record = await runAndWait(conditional)
    expect(lab.errors).toEqual([])
    expect(record.condition).toEqual({ kind: 'class', label: 3, guidance: 2 })
    expect(record.toyMetrics?.target).toBe('toy-gmm, class 3')
    console.log(`[ui cfg] class 3, w 2: ${(record.toyMetrics!.nearModes! * 100).toFixed(1)} % within 2σ of mode 3 (true samples ${(record.toyMetrics!.nearModesRef! * 100).toFixed(1)} %)`)
    expect(record.toyMetrics!.nearModes!).toBeGreaterThan(0.6)
    expect(await lab.page.getByTestId('sample-condition').innerText()).toMatch(/class 3 · mode 3 · w 2/)
    expect(await lab.page.getByTestId('sample-history-condition').first().innerText()).toMatch(/class 3/)
    await screenshot(lab.page, 'control-1-class-conditional')
    // The Sample panel keeps to plain samples.
    await lab.page.getByTestId('nav-sample').click()
    await lab.page.getByTestId('sample-empty').waitFor()
    expect(await lab.page.getByTestId('sample-history-row').count()).toBe(0)

    if (!fs.existsSync(FASHION)) return
    // Every class at once: a tiny class-conditional FashionMNIST run, two of each class, one row per class.
    const { conditional: byClass } = await fashionSetup()
    await openControl(byClass)
    expect(await options('control-task')).toEqual(['class', 'classes', 'inpaint'])
    await lab.page.getByTestId('control-task').selectOption('classes')
    await lab.page.getByTestId('control-per-class').fill('2')
    expect(await lab.page.getByTestId('control-grid-note').innerText()).toMatch(/10 classes × 2 = 20 images/)
    await lab.page.getByTestId('control-guidance').fill('1.5')
    await lab.page.getByTestId('c-sampler').selectOption('euler_maruyama')
    await lab.page.getByTestId('c-steps').fill('6')
    const grid = await runAndWait(byClass)
    expect(lab.errors).toEqual([])
    expect(grid.condition).toEqual({ kind: 'classes', perClass: 2, guidance: 1.5 })
    expect(grid.count).toBe(20)
    const labels = lab.page.getByTestId('class-row-label')
    expect(await labels.count()).toBe(10)
    expect(await labels.first().innerText()).toBe('0 · T-shirt/top')
    expect(await labels.last().innerText()).toBe('9 · Ankle boot')
    // Each name sits at its row: evenly spaced down the picture, the first in the top tenth.
    const img = (await lab.page.getByTestId('sample-grid').boundingBox())!
    const ys = await labels.evaluateAll((ls) => ls.map((l) => { const r = l.getBoundingClientRect(); return r.top + r.height / 2 }))
    expect(ys[0]! - img.y).toBeGreaterThan(0)
    expect(ys[0]! - img.y).toBeLessThan(img.height / 10)
    for (let k = 1; k < 10; k++) expect(Math.abs(ys[k]! - ys[k - 1]! - img.height / 10)).toBeLessThan(2)
    expect(await lab.page.getByTestId('sample-condition').innerText()).toMatch(/every class · 2 per class · w 1\.5/)
    await lab.page.getByTestId('sample-result').scrollIntoViewIfNeeded()
    await screenshot(lab.page, 'control-2-every-class-grid')
  }, 600_000)

  it.skipIf(!fs.existsSync(FASHION))('inpaints test images with a mask drawn over the image shown, and exports the result with the mask in its settings', async () => {
    const { plain } = await fashionSetup()
    await openControl(plain)
    await lab.page.getByTestId('control-task').selectOption('inpaint')
    await lab.page.getByTestId('control-start').fill('100')
    await lab.page.getByTestId('control-mask').selectOption('draw')
    const canvas = lab.page.getByTestId('mask-canvas')
    await canvas.waitFor()
    // The test image the first sample completes is under the mask, and named.
    await expect.poll(() => canvas.getAttribute('data-background'), { timeout: 10_000 }).toBe('shown')
    expect(await lab.page.getByTestId('control-image-caption').innerText()).toMatch(/^Image 100 · \d · .+; the samples complete images 100–163 of 10,000/)
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
    // Inpainting runs on the PC loop (pc, or euler_maruyama as EM predictor without corrector): another sampler is refused until one is chosen.
    await lab.page.getByTestId('c-sampler').selectOption('ode')
    expect(await lab.page.getByTestId('control-note').innerText()).toMatch(/predictor–corrector loop: choose pc or euler_maruyama/)
    expect(await lab.page.getByTestId('control-run-button').isDisabled()).toBe(true)
    await lab.page.getByTestId('c-sampler').selectOption('pc')
    await lab.page.getByTestId('c-steps').fill('8')
    await lab.page.getByTestId('c-count').fill('4')
    await canvas.scrollIntoViewIfNeeded()
    await screenshot(lab.page, 'control-3-inpaint-drawn-mask')
    const record = await runAndWait(plain)
    expect(lab.errors).toEqual([])
    expect(record.condition).toMatchObject({ kind: 'inpaint', split: 'test', start: 100, mask: { width: 28, height: 28 } })
    const mask = record.condition!.kind === 'inpaint' ? record.condition!.mask : null
    const bits = typeof mask === 'object' && mask ? Buffer.from(mask.data, 'base64') : Buffer.alloc(0)
    expect(bits.length).toBe(784)
    expect(bits.filter((b) => b === 0).length).toBe(stroke)
    expect(record.reference).toBeTruthy()
    await lab.page.getByTestId('sample-result').scrollIntoViewIfNeeded()
    // Observed beside the result, and the condition in the caption.
    await lab.page.getByTestId('sample-observed').waitFor()
    await expect.poll(() => lab.page.getByTestId('sample-truth').getAttribute('src'), { timeout: 10_000 }).toMatch(/^data:image\/png/)
    expect(await lab.page.getByTestId('sample-condition').innerText()).toMatch(/inpaint: drawn mask · test 100–103/)
    await screenshot(lab.page, 'control-4-inpaint-result')
    // The exported PNG carries the condition (the drawn mask) in its settings.
    const [download] = await Promise.all([lab.page.waitForEvent('download'), lab.page.getByTestId('export-png').click()])
    const settings = readPngSettings(new Uint8Array(fs.readFileSync((await download.path())!))) as { condition?: { kind: string; start?: number } } | null
    expect(settings?.condition?.kind).toBe('inpaint')
    expect(settings?.condition?.start).toBe(100)
  }, 600_000)

  it.skipIf(!fs.existsSync(FASHION))('completes an image file chosen or dropped on the panel, sent at the run\'s size in grey', async () => {
    const { plain } = await fashionSetup()
    // A 60×40 colour picture: the panel crops it square, scales it to 28×28 and turns it grey.
    const W = 60
    const H = 40
    const rgba = new Uint8Array(W * H * 4)
    for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) rgba.set([(x * 4) % 256, (y * 6) % 256, x > 30 ? 255 : 0, 255], 4 * (y * W + x))
    const file = path.join(tempDir('score-lab-drop-'), 'picture.png')
    fs.writeFileSync(file, encodePng({ width: W, height: H, data: rgba }))

    await openControl(plain)
    await lab.page.getByTestId('control-task').selectOption('inpaint')
    await lab.page.getByTestId('control-source').selectOption('file')
    expect(await lab.page.getByTestId('control-blocker').innerText()).toMatch(/Drop an image file/)
    await lab.page.getByTestId('control-file').setInputFiles(file)
    await expect.poll(() => lab.page.getByTestId('control-image-caption').innerText(), { timeout: 10_000 }).toMatch(/^picture\.png, at 28×28, grey/)
    // Dropped on the panel (a DataTransfer with the file, as the browser's drop): it replaces the chosen one.
    const bytes = [...fs.readFileSync(file)]
    await lab.page.evaluate((b) => {
      const dt = new DataTransfer()
      dt.items.add(new File([new Uint8Array(b)], 'dropped.png', { type: 'image/png' }))
      const panel = document.querySelector('[data-testid="control-panel"]')!
      panel.dispatchEvent(new DragEvent('dragover', { dataTransfer: dt, bubbles: true, cancelable: true }))
      panel.dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }))
    }, bytes)
    await expect.poll(() => lab.page.getByTestId('control-image-caption').innerText(), { timeout: 10_000 }).toMatch(/^dropped\.png, at 28×28, grey/)
    await expect.poll(() => lab.page.getByTestId('mask-canvas').getAttribute('data-background')).toBe('shown')
    await lab.page.getByTestId('control-mask').selectOption('right')
    await lab.page.getByTestId('c-sampler').selectOption('pc')
    await lab.page.getByTestId('c-steps').fill('4')
    await lab.page.getByTestId('c-count').fill('2')
    await lab.page.getByTestId('mask-canvas').scrollIntoViewIfNeeded()
    await screenshot(lab.page, 'control-5-dropped-image')
    const record = await runAndWait(plain)
    expect(lab.errors).toEqual([])
    expect(record.condition).toMatchObject({ kind: 'inpaint', mask: 'right', image: { width: 28, height: 28, channels: 1 } })
    const c = record.condition!
    const image = c.kind === 'inpaint' ? c.image! : null
    const px = Buffer.from(image!.data, 'base64')
    expect(px.length).toBe(28 * 28)
    // Grey levels of the picture: not all one value.
    expect(new Set(px).size).toBeGreaterThan(10)
    expect(await lab.page.getByTestId('sample-condition').innerText()).toMatch(/inpaint: right region · dropped image/)
    await lab.page.getByTestId('sample-result').scrollIntoViewIfNeeded()
    await screenshot(lab.page, 'control-6-dropped-result')
    // An earlier sample from the history: shown, and its condition back in the form (test images from 100, the drawn mask).
    const rows = lab.page.getByTestId('sample-history-row')
    await expect.poll(() => rows.count()).toBe(2)
    expect(await lab.page.getByTestId('sample-history-condition').allInnerTexts()).toEqual(['inpaint: right region · dropped image', 'inpaint: drawn mask · test 100–103'])
    await rows.nth(1).click()
    await expect.poll(() => lab.page.getByTestId('sample-condition').innerText()).toMatch(/drawn mask · test 100–103/)
    expect(await lab.page.getByTestId('control-source').inputValue()).toBe('test')
    expect(await lab.page.getByTestId('control-start').inputValue()).toBe('100')
    expect(await lab.page.getByTestId('control-mask').inputValue()).toBe('draw')
    expect(await lab.page.getByTestId('c-count').inputValue()).toBe('4')
  }, 600_000)

  it.skipIf(!fs.existsSync(FASHION))('offers to train a guidance classifier for an unconditional image run', async () => {
    const { plain } = await fashionSetup()
    await openControl(plain)
    expect(await lab.page.getByTestId('control-task').locator('option').allInnerTexts()).toEqual([
      'One class (needs a guidance classifier)', 'Every class (grid) (needs a guidance classifier)', 'Inpaint'
    ])
    await lab.page.getByTestId('control-task').selectOption('class')
    await lab.page.getByTestId('guidance-explain').waitFor()
    expect(await lab.page.getByTestId('guidance-explain').innerText()).toMatch(/guidance classifier/)
    expect(await lab.page.getByTestId('guidance-train').innerText()).toBe('Train guidance classifier')
    expect(await lab.page.getByTestId('control-blocker').innerText()).toMatch(/Train the guidance classifier first/)
    expect(await lab.page.getByTestId('control-run-button').isDisabled()).toBe(true)
    await screenshot(lab.page, 'control-7-guidance-classifier')
    if (!('classifiers.guidance' in lab.service.handlers)) return
    // A few steps of training through the button: the job's progress, then the classifier's accuracy at three times.
    await lab.page.getByTestId('guidance-steps').fill('10')
    await lab.page.getByTestId('guidance-train').click()
    await lab.page.getByTestId('guidance-have').waitFor({ timeout: 300_000 })
    expect(lab.errors).toEqual([])
    expect(await lab.page.getByTestId('guidance-accuracy').locator('li').count()).toBe(3)
    expect(await lab.page.getByTestId('control-task').locator('option').first().innerText()).toBe('One class')
    expect(await lab.page.getByTestId('control-run-button').isDisabled()).toBe(false)
    await screenshot(lab.page, 'control-8-guidance-classifier-ready')
  }, 600_000)
})
