/// <reference lib="dom" />
// The New-run form on a fresh data folder: an image data set that is not there yet is said in
// the form, with an offer to get it (here: import Debian's FashionMNIST), and the run cannot
// start until it is there; a batch past the backend's memory is flagged before starting.
import fs from 'node:fs'
import { describe, expect, it } from 'vitest'
import { screenshot, useLabPage } from '../helpers/browser'

const SYSTEM_FASHION = '/usr/share/datasets/fashion-mnist'
const lab = useLabPage()

describe('the New-run form', () => {
  it.skipIf(!fs.existsSync(SYSTEM_FASHION))('says a data set is missing, gets it, and flags a batch that does not fit', async () => {
    await lab.page.goto(lab.server.openUrl)
    await lab.page.getByTestId('nav-system').waitFor()
    // Alt+N works from any panel: it opens Runs with the form.
    await lab.page.keyboard.press('Alt+N')
    await lab.page.getByTestId('run-form').waitFor()
    await lab.page.getByTestId('f-dataset').selectOption('fashion-mnist')
    await lab.page.getByTestId('f-model').selectOption('scorenet')
    const missing = lab.page.getByTestId('dataset-missing')
    await expect.poll(() => missing.innerText()).toMatch(/Fashion-MNIST is not in the data folder yet/)
    expect(await lab.page.getByTestId('start-run').isDisabled()).toBe(true)
    expect(await lab.page.getByTestId('dataset-get').innerText()).toBe(`Import it from ${SYSTEM_FASHION}`)
    await screenshot(lab.page, 'runs-form-1-missing-dataset')
    await lab.page.getByTestId('dataset-get').click()
    await expect.poll(() => missing.count(), { timeout: 120_000 }).toBe(0)
    expect(await lab.page.getByTestId('start-run').isDisabled()).toBe(false)

    // Batch 4096 of the tutorial ScoreNet does not fit a 4 GiB wasm heap: said before starting.
    await lab.page.getByTestId('f-batchSize').fill('4096')
    const field = lab.page.locator('[data-field="f-batchSize"] [data-testid="field-error"]')
    const info = await lab.service.handlers['system.info']({})
    if (info.backend.name === 'native' || info.backend.name === 'wasm') {
      await expect.poll(() => field.innerText(), { timeout: 60_000 }).toMatch(/Needs about [\d.]+ GB at its peak; \w+ holds [\d.]+ GB\. The largest batch that fits is about \d+\./)
      await field.scrollIntoViewIfNeeded()
      await screenshot(lab.page, 'runs-form-2-batch-too-big')
    }
  }, 240_000)
})
