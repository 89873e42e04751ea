/// <reference lib="dom" />
// Previews you can see, in browser mode with the real backend: the toy sets' density images in
// the Datasets panel; a toy run's training preview filling its card and growing with the
// window, with what to expect when and a history strip (kept on disk, so it survives a
// reload) whose thumbnails open large; and the score field's resolution control and data dots.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Browser, Page } from 'playwright-core'
import { launchBrowser, newPage, screenshot, startLab, trainingStatus } from '../helpers/browser'
import type { RunningServer } from '../../src/server/server'
import type { LabService } from '../../src/lab/service'
import { createDispatch } from '../../src/lab/dispatch'
import { PRESETS } from '../../src/lab/catalog'

let browser: Browser
let server: RunningServer
let service: LabService
let page: Page
const errors: string[] = []

beforeAll(async () => {
  ;({ server, service } = await startLab())
  browser = await launchBrowser()
  page = await newPage(browser)
  page.on('pageerror', (e) => errors.push(e.message))
})
afterAll(async () => {
  await browser?.close()
  await server?.close()
  await service?.close()
})

const toy = PRESETS.find((p) => p.name === 'toy-quick')!.config
const STEPS = [100, 200, 300, 400, 500, 600]
const thumbSteps = () => page.getByTestId('preview-thumb').evaluateAll((els) => els.map((el) => Number(el.getAttribute('data-step'))))
const imageWidth = async () => (await page.getByTestId('preview-image').boundingBox())!.width
const canvas = () => page.getByTestId('score-field-canvas')
const pixels = () => canvas().evaluate((el) => (el as HTMLCanvasElement).toDataURL())

describe('previews you can see', () => {
  it('shows each 2-D toy set as a density image of fresh samples, and draws new ones on request', async () => {
    await page.goto(server.openUrl)
    await page.getByTestId('nav-datasets').click()
    for (const name of ['toy-gmm', 'toy-rings', 'toy-moons']) {
      const img = page.getByTestId(`toy-preview-${name}`)
      await img.waitFor({ timeout: 30_000 })
      expect(await img.evaluate((el) => (el as HTMLImageElement).naturalWidth)).toBe(256)
      expect((await img.boundingBox())!.width).toBeGreaterThan(120)
    }
    await page.getByTestId('toy-sets').scrollIntoViewIfNeeded()
    await screenshot(page, 'previews-1-toy-sets')
    const before = await page.getByTestId('toy-preview-toy-moons').getAttribute('src')
    await page.getByTestId('toy-resample').click()
    await expect.poll(() => page.getByTestId('toy-preview-toy-moons').getAttribute('data-seed'), { timeout: 15_000 }).toBe('1')
    expect(await page.getByTestId('toy-preview-toy-moons').getAttribute('src')).not.toBe(before)
  })

  it("fills the preview card with a toy run's latest preview, says what to expect, and grows with the window", async () => {
    const call = createDispatch(service.handlers)
    const env = await call('runs.start', { config: { ...toy, steps: 600, batchSize: 64, checkpointEvery: 200, previewEvery: 100 }, name: 'preview run' })
    if (!env.ok) throw new Error(env.error.message)
    await page.goto(server.openUrl) // opens on the newest run
    await page.getByTestId('nav-training').click()
    await page.getByTestId('training-header').waitFor()
    await expect.poll(() => trainingStatus(page), { timeout: 120_000, interval: 500 }).toBe('finished')
    await expect.poll(async () => (await thumbSteps()).length, { timeout: 20_000 }).toBe(STEPS.length)
    expect(await thumbSteps()).toEqual(STEPS)
    expect(await page.getByTestId('preview-card').innerText()).toMatch(/step 600/)

    // What quality to expect when, from the table beside the presets.
    expect(await page.getByTestId('preview-expectation').innerText()).toBe(
      'The points reach the circle of modes after ~500 steps; the 8 modes separate by ~5,000 steps; the toy-quick preset trains 2,000 steps. This run: 600 steps, now at step 600.'
    )

    // The image fills its card (not a small fixed square), pixels kept sharp.
    const img = page.getByTestId('preview-image')
    await img.scrollIntoViewIfNeeded()
    const card = (await page.getByTestId('preview-card').boundingBox())!
    const box = (await img.boundingBox())!
    // Square, as wide as the card or most of the window's height, whichever is less.
    expect(box.width).toBeCloseTo(box.height, 0)
    expect(box.width).toBeGreaterThan(Math.min(card.width - 40, 0.72 * 800) - 2)
    expect(box.width).toBeGreaterThan(400)
    expect(await img.evaluate((el) => getComputedStyle(el).imageRendering)).toBe('pixelated')
    await screenshot(page, 'previews-2-card')

    // A wider window: a larger preview.
    const narrow = await imageWidth()
    await page.setViewportSize({ width: 1700, height: 1000 })
    await expect.poll(imageWidth).toBeGreaterThan(narrow + 100)
    await page.getByTestId('preview-strip').scrollIntoViewIfNeeded()
    await screenshot(page, 'previews-3-wide-window')
    await page.setViewportSize({ width: 1280, height: 800 })
  })

  it('opens a history thumbnail large and steps through the previews', async () => {
    await page.locator('[data-testid="preview-thumb"][data-step="300"]').click()
    const dialog = page.getByTestId('preview-dialog')
    await dialog.waitFor()
    expect(await dialog.getAttribute('data-step')).toBe('300')
    const big = (await page.getByTestId('preview-dialog-image').boundingBox())!
    expect(big.width).toBeGreaterThan(500)
    await screenshot(page, 'previews-4-dialog')
    await page.keyboard.press('ArrowRight')
    await expect.poll(() => dialog.getAttribute('data-step')).toBe('400')
    await page.getByTestId('preview-prev').click()
    await page.getByTestId('preview-prev').click()
    await expect.poll(() => dialog.getAttribute('data-step')).toBe('200')
    await page.keyboard.press('Escape')
    await expect.poll(() => dialog.count()).toBe(0)
  })

  it('reads the history strip back from the lab after a reload', async () => {
    await page.reload()
    await page.getByTestId('nav-training').click()
    await page.getByTestId('preview-strip').waitFor({ timeout: 20_000 })
    await expect.poll(thumbSteps, { timeout: 20_000 }).toEqual(STEPS)
  })

  it('draws the score field at 15, 25 or 35 arrows per side over faint dots of the data', async () => {
    await expect.poll(() => canvas().getAttribute('data-step'), { timeout: 30_000 }).toBe('600')
    expect(await canvas().getAttribute('data-n')).toBe('25')
    expect(Number(await canvas().getAttribute('data-dots'))).toBe(1500)
    expect(await page.getByTestId('score-field').innerText()).toMatch(/1,500 fresh data samples/)
    await page.getByTestId('score-field').scrollIntoViewIfNeeded()
    await screenshot(page, 'previews-5-score-field-25')
    const at25 = await pixels()

    await page.getByTestId('score-field-grid-35').click()
    await expect.poll(() => canvas().getAttribute('data-n'), { timeout: 20_000 }).toBe('35')
    expect(await page.getByTestId('score-field').innerText()).toMatch(/Grid 35×35/)
    await expect.poll(pixels).not.toBe(at25)
    await screenshot(page, 'previews-6-score-field-35')

    await page.getByTestId('score-field-grid-15').click()
    await expect.poll(() => canvas().getAttribute('data-n'), { timeout: 20_000 }).toBe('15')
    const withDots = await pixels()
    await page.getByTestId('score-field-data').uncheck()
    await expect.poll(() => canvas().getAttribute('data-dots')).toBe('0')
    await expect.poll(pixels).not.toBe(withDots)
    await screenshot(page, 'previews-7-score-field-15-no-data')
    // The choice is remembered: back after a reload.
    await page.reload()
    await page.getByTestId('nav-training').click()
    await expect.poll(() => canvas().getAttribute('data-n'), { timeout: 30_000 }).toBe('15')
    expect(errors).toEqual([])
  })
})
