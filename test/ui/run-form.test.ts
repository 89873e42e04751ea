/// <reference lib="dom" />
// The New-run form on a fresh data folder: an image data set that is not there yet is said in
// the form, with an offer to get it (here: import Debian's FashionMNIST), and the run cannot
// start until it is there; a batch past the backend's memory is flagged before starting.
import fs from 'node:fs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Browser, Page } from 'playwright-core'
import { launchBrowser, newPage, screenshot, startLab } from '../helpers/browser'
import type { RunningServer } from '../../src/server/server'
import type { LabService } from '../../src/lab/service'

const SYSTEM_FASHION = '/usr/share/datasets/fashion-mnist'
let browser: Browser
let server: RunningServer
let service: LabService
let page: Page

beforeAll(async () => {
  ;({ server, service } = await startLab())
  browser = await launchBrowser()
  page = await newPage(browser)
})
afterAll(async () => {
  await browser?.close()
  await server?.close()
  await service?.close()
})

describe('the New-run form', () => {
  it.skipIf(!fs.existsSync(SYSTEM_FASHION))('says a data set is missing, gets it, and flags a batch that does not fit', async () => {
    await page.goto(server.openUrl)
    await page.getByTestId('nav-system').waitFor()
    // Alt+N works from any panel: it opens Runs with the form.
    await page.keyboard.press('Alt+N')
    await page.getByTestId('run-form').waitFor()
    await page.getByTestId('f-dataset').selectOption('fashion-mnist')
    await page.getByTestId('f-model').selectOption('scorenet')
    const missing = page.getByTestId('dataset-missing')
    await expect.poll(() => missing.innerText()).toMatch(/Fashion-MNIST is not in the data folder yet/)
    expect(await page.getByTestId('start-run').isDisabled()).toBe(true)
    expect(await page.getByTestId('dataset-get').innerText()).toBe(`Import it from ${SYSTEM_FASHION}`)
    await screenshot(page, 'runs-form-1-missing-dataset')
    await page.getByTestId('dataset-get').click()
    await expect.poll(() => missing.count(), { timeout: 120_000 }).toBe(0)
    expect(await page.getByTestId('start-run').isDisabled()).toBe(false)

    // Batch 4096 of the tutorial ScoreNet does not fit a 4 GiB wasm heap: said before starting.
    await page.getByTestId('f-batchSize').fill('4096')
    const field = page.locator('[data-field="f-batchSize"] [data-testid="field-error"]')
    const info = await service.handlers['system.info']({})
    if (info.backend.name === 'native' || info.backend.name === 'wasm') {
      await expect.poll(() => field.innerText(), { timeout: 60_000 }).toMatch(/Needs about [\d.]+ GB at its peak; \w+ holds [\d.]+ GB\. The largest batch that fits is about \d+\./)
      await field.scrollIntoViewIfNeeded()
      await screenshot(page, 'runs-form-2-batch-too-big')
    }
  }, 240_000)
})
