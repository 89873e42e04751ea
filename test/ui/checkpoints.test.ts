/// <reference lib="dom" />
// Checkpoint actions and the score field in browser mode with the real backend: a short toy
// run shows its learned score field, which changes with the t slider; deleting a checkpoint
// is refused while the run trains and done after confirming once it stops; a checkpoint is
// exported to a temp path (the server runs in-process, so the file can be checked here);
// "Sample from" opens the Sample panel on that checkpoint; the PyTorch fixture is imported as
// a Fashion-MNIST run, which appears selected. Screenshots at each stage.
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Browser, Page } from 'playwright-core'
import { launchBrowser, newPage, ROOT, screenshot, startLab, trainingStatus } from '../helpers/browser'
import type { RunningServer } from '../../src/server/server'

let browser: Browser
let server: RunningServer
let page: Page
const errors: string[] = []
const outDir = fs.mkdtempSync(path.join(os.tmpdir(), 'score-lab-export-'))

beforeAll(async () => {
  ;({ server } = await startLab())
  browser = await launchBrowser()
  page = await newPage(browser)
  page.on('pageerror', (e) => errors.push(e.message))
})
afterAll(async () => {
  await browser?.close()
  await server?.close()
  fs.rmSync(outDir, { recursive: true, force: true })
})

const status = () => trainingStatus(page)
const rows = () => page.getByTestId('checkpoint-row')
const canvas = () => page.getByTestId('score-field-canvas')
const fieldT = async () => Number(await canvas().getAttribute('data-t'))
const pixels = () => canvas().evaluate((el) => (el as HTMLCanvasElement).toDataURL())

describe('checkpoints and the score field in browser mode', () => {
  it('trains a toy run and draws its score field, which follows the t slider', async () => {
    await page.goto(server.openUrl)
    await page.getByTestId('nav-runs').click()
    await page.keyboard.press('Alt+N')
    await page.getByTestId('preset-toy-quick').click()
    await page.getByTestId('f-steps').fill('4000')
    await page.getByTestId('f-checkpointEvery').fill('250')
    await page.getByTestId('f-batchSize').fill('128')
    await page.getByTestId('run-name-input').fill('field run')
    await page.getByTestId('start-run').click()
    await page.getByTestId('training-header').waitFor()
    expect(await page.getByTestId('x-epoch').count()).toBe(0) // a toy set has no epochs

    // Before the first checkpoint the card says when the field will appear.
    await page.getByTestId('score-field').waitFor()
    expect(await page.getByTestId('score-field').innerText()).toMatch(/drawn once the first checkpoint is written \(step 250\)/)
    await rows().first().waitFor({ timeout: 150_000 })
    await expect.poll(async () => canvas().getAttribute('data-step'), { timeout: 30_000 }).toBe('250')
    // It follows new checkpoints: wait for one far enough in for the field to take shape.
    await expect.poll(async () => Number(await canvas().getAttribute('data-step')), { timeout: 150_000, interval: 500 }).toBeGreaterThanOrEqual(1250)
    const t0 = await fieldT()
    expect(t0).toBeCloseTo(0.1, 2)
    const sigma0 = await page.getByTestId('score-field-sigma').innerText()
    const before = await pixels()
    await page.getByTestId('score-field').scrollIntoViewIfNeeded()
    await screenshot(page, 'scorefield-1-t0.1')

    await page.getByTestId('score-field-t').focus()
    await page.keyboard.press('End') // t = 1
    await expect.poll(fieldT, { timeout: 20_000 }).toBe(1)
    expect(await page.getByTestId('score-field-tval').innerText()).toBe('1')
    expect(await page.getByTestId('score-field-sigma').innerText()).not.toBe(sigma0)
    expect(await pixels()).not.toBe(before)
    await screenshot(page, 'scorefield-2-t1')

    await page.keyboard.press('Home') // t = 0.01
    await expect.poll(fieldT, { timeout: 20_000 }).toBeCloseTo(0.01, 4)
    await screenshot(page, 'scorefield-3-t0.01')
    // toy-gmm has a closed-form score: the legend names both fields.
    expect(await page.getByTestId('score-field').innerText()).toMatch(/true score ∇ log p/)
  })

  it('disables deleting a checkpoint while the run trains, saying why before any confirmation', async () => {
    await page.keyboard.press('Alt+P')
    await expect.poll(status, { timeout: 20_000 }).toBe('paused')
    expect(await page.getByTestId('checkpoints-retention').innerText()).toMatch(/keeps the last 3 and the best/)
    await rows().first().click()
    expect(await page.getByTestId('checkpoint-delete').isDisabled()).toBe(true)
    expect(await page.getByTestId('checkpoint-delete-blocked').innerText()).toMatch(/“field run” is paused; stop it before deleting checkpoints/)
    await screenshot(page, 'checkpoints-1-delete-refused')
    await page.getByTestId('training-stop').click()
    await expect.poll(status, { timeout: 30_000 }).toMatch(/stopped|finished/)
    await expect.poll(async () => rows().count(), { timeout: 10_000 }).toBeGreaterThanOrEqual(2)
  })

  it('exports a checkpoint to a path on the lab machine', async () => {
    await rows().first().click()
    await page.getByTestId('checkpoint-export').click()
    await page.getByTestId('export-dialog').waitFor()
    // Prefilled in the lab's data folder; the PyTorch layout is only for the tutorial ScoreNet.
    expect(await page.getByTestId('export-path').inputValue()).toMatch(/field-run-step\d+\.safetensors$/)
    expect(await page.getByTestId('export-format-torch').isDisabled()).toBe(true)
    const target = path.join(outDir, 'toy.safetensors')
    await page.getByTestId('export-path').fill(target)
    await page.getByTestId('export-save').click()
    await page.getByTestId('export-done').waitFor({ timeout: 30_000 })
    expect(fs.existsSync(target)).toBe(true)
    expect(fs.statSync(target).size).toBeGreaterThan(1000)
    const config = JSON.parse(fs.readFileSync(path.join(outDir, 'toy.json'), 'utf8'))
    expect(config.format).toBe('safetensors')
    expect(config.config.dataset).toBe('toy-gmm')
    await screenshot(page, 'checkpoints-2-exported')

    // Exporting over an existing file asks first; the file is untouched until Replace.
    const before = fs.statSync(target).mtimeMs
    await page.getByTestId('export-save').click()
    expect(await page.getByTestId('export-exists').innerText()).toMatch(/toy\.safetensors already exists/)
    expect(fs.statSync(target).mtimeMs).toBe(before)
    await screenshot(page, 'checkpoints-2b-exists')
    await page.getByTestId('export-replace').click()
    await page.getByTestId('export-done').waitFor({ timeout: 30_000 })
    expect(fs.statSync(target).mtimeMs).toBeGreaterThan(before)

    // A folder that does not exist: the lab's words, in place.
    await page.getByTestId('export-path').fill(path.join(outDir, 'missing', 'x.safetensors'))
    await page.getByTestId('export-save').click()
    expect(await page.getByTestId('export-error').innerText()).toMatch(/does not exist/)
    await page.getByRole('button', { name: 'Close', exact: true }).last().click()
  })

  it('deletes a checkpoint after confirming', async () => {
    const n = await rows().count()
    const last = rows().last()
    const file = await last.getAttribute('data-file')
    await last.click()
    await page.getByTestId('checkpoint-delete').click()
    await page.getByTestId('checkpoint-delete-dialog').waitFor()
    await screenshot(page, 'checkpoints-3-delete-confirm')
    await page.getByTestId('confirm-checkpoint-delete').click()
    await expect.poll(async () => rows().count(), { timeout: 10_000 }).toBe(n - 1)
    expect(await page.locator(`[data-testid="checkpoint-row"][data-file="${file}"]`).count()).toBe(0)
    await screenshot(page, 'checkpoints-4-deleted')
  })

  it('opens the Sample panel on the chosen checkpoint', async () => {
    const row = rows().last()
    const file = await row.getAttribute('data-file')
    await row.click()
    await page.getByTestId('checkpoint-sample').click()
    await page.getByTestId('sample-panel').waitFor()
    await expect.poll(async () => page.getByTestId('sample-checkpoint').inputValue(), { timeout: 10_000 }).toBe(file)
    expect(await page.getByTestId('sample-run').locator('option:checked').innerText()).toMatch(/field run/)
  })

  it('imports the PyTorch fixture as a Fashion-MNIST run, which appears selected', async () => {
    await page.getByTestId('nav-runs').click()
    await page.getByTestId('import-torch').click()
    await page.getByTestId('import-torch-dialog').waitFor()
    await page.getByTestId('import-path').fill(path.join(ROOT, 'test/fixtures/parity/weights.safetensors'))
    await page.getByTestId('import-dataset').selectOption('fashion-mnist')
    await page.getByTestId('import-name').fill('tutorial weights')
    await screenshot(page, 'checkpoints-5-import')
    await page.getByTestId('import-submit').click()
    await page.getByTestId('import-torch-dialog').waitFor({ state: 'detached', timeout: 60_000 })
    const selected = page.locator('[data-testid="run-row"][aria-selected="true"]')
    await expect.poll(async () => selected.innerText(), { timeout: 10_000 }).toMatch(/tutorial weights/)
    expect(await selected.innerText()).toMatch(/Fashion-MNIST/i)
    await screenshot(page, 'checkpoints-6-imported')

    // Its training view: one step-0 checkpoint, the PyTorch layout available, no score field.
    await page.getByTestId('nav-training').click()
    await rows().first().waitFor()
    expect(await rows().count()).toBe(1)
    expect(await page.getByTestId('score-field').count()).toBe(0)
    expect(await page.getByTestId('x-epoch').count()).toBe(1) // Fashion-MNIST: step × 64 ÷ 60,000
    await rows().first().click()
    await page.getByTestId('checkpoint-export').click()
    expect(await page.getByTestId('export-format-torch').isDisabled()).toBe(false)
    await page.getByRole('button', { name: 'Cancel' }).click()
    await screenshot(page, 'checkpoints-7-imported-training')

    // A file that is not there: the lab's message, in place.
    await page.getByTestId('nav-runs').click()
    await page.getByTestId('import-torch').click()
    await page.getByTestId('import-path').fill(path.join(outDir, 'nope.safetensors'))
    await page.getByTestId('import-submit').click()
    expect(await page.getByTestId('import-error').innerText()).toMatch(/Cannot read/)
    await page.getByRole('button', { name: 'Cancel' }).click()
    expect(errors).toEqual([])
  })
})
