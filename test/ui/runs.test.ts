/// <reference lib="dom" />
// The Runs panel and the training view in browser mode with the real backend: create a run
// from the toy-quick preset, watch its curve grow, pause and continue, see checkpoints, stop,
// then rename, overlay, download, copy its settings and delete it. Screenshots at each stage.
import fs from 'node:fs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Browser, Page } from 'playwright-core'
import { launchBrowser, newPage, screenshot, startLab, trainingStatus } from '../helpers/browser'
import type { RunningServer } from '../../src/server/server'
import type { LabService } from '../../src/lab/service'

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
})

const count = async () => Number(await page.getByTestId('curve-points').getAttribute('data-count'))
const status = () => trainingStatus(page)

describe('runs and live training in browser mode', () => {
  it('shows an empty state, validates the form as you type, and starts a toy run', async () => {
    await page.goto(server.openUrl)
    await page.getByTestId('nav-training').click()
    await page.getByTestId('training-empty').waitFor()
    await screenshot(page, 'training-0-empty')
    await page.getByTestId('nav-runs').click()
    await page.getByTestId('runs-empty').waitFor()
    expect(await page.getByTestId('runs-empty').innerText()).toMatch(/No runs yet — start one/)
    await screenshot(page, 'runs-1-empty')

    await page.keyboard.press('Alt+N')
    await page.getByTestId('run-form').waitFor()
    await page.getByTestId('preset-toy-quick').click()
    // Validation as you type, in words, next to the setting.
    await page.getByTestId('f-lr').fill('0')
    expect(await page.locator('[data-field="f-lr"] [data-testid="field-error"]').innerText()).toBe('Must be more than 0.')
    await page.getByTestId('f-steps').fill('600')
    await page.getByTestId('f-checkpointEvery').fill('800')
    expect(await page.locator('[data-field="f-checkpointEvery"] [data-testid="field-error"]').innerText()).toMatch(/More than the 600 steps/)
    expect(await page.getByTestId('start-run').isDisabled()).toBe(true)
    await page.locator('[data-field="f-lr"]').evaluate((el) => el.scrollIntoView({ block: 'start' }))
    await screenshot(page, 'runs-2-form-invalid')
    await page.getByTestId('f-lr').fill('0.001')
    await page.getByTestId('f-checkpointEvery').fill('200')
    await page.getByTestId('f-batchSize').fill('64') // quick steps on a shared CPU
    await page.getByTestId('f-previewEvery').fill('100')
    await page.getByTestId('run-name-input').fill('toy ui run')
    expect(await page.getByTestId('field-error').count()).toBe(0)
    // Cost before commitment: measured on this machine, with memory and whether it queues.
    await expect.poll(() => page.getByTestId('run-estimate').innerText(), { timeout: 30_000 }).toMatch(/^≈ \d+(s|m \d+s) on (native|wasm|cpu|webgpu|tensorflow)( · peak [\d.]+ [kMG]?B of [\d.]+ [kMG]?B)? · starts now$/)
    await screenshot(page, 'runs-3-form')
    await page.getByTestId('start-run').click()

    // Starting opens the training view of the new run.
    await page.getByTestId('training-header').waitFor()
    expect(await page.getByTestId('training-run-name').innerText()).toBe('toy ui run')
  })

  it('streams the loss curve, pauses and continues', async () => {
    await expect.poll(count, { timeout: 60_000, interval: 200 }).toBeGreaterThan(0)
    await page.keyboard.press('Alt+P') // the same as the Pause button
    await expect.poll(status, { timeout: 20_000 }).toBe('paused')
    const paused = await count()
    expect(paused).toBeGreaterThan(0)
    expect(paused).toBeLessThan(600)
    await page.waitForTimeout(1000)
    expect(await count()).toBe(paused) // nothing streams while paused
    expect(await page.getByTestId('training-eta').innerText()).toBe('paused')
    await screenshot(page, 'training-1-paused')

    await page.getByTestId('training-continue').click()
    await expect.poll(count, { timeout: 60_000, interval: 200 }).toBeGreaterThan(paused) // the curve grows again
    expect(await status()).toBe('running')
    expect(await page.getByTestId('training-backend').innerText()).toMatch(/\b(native|wasm|cpu|webgpu|tensorflow)\b/i)
    await screenshot(page, 'training-2-running')
  })

  it('shows checkpoints as they are written and stops with a final one', async () => {
    await page.getByTestId('checkpoint-row').first().waitFor({ timeout: 150_000 }).catch(async (err) => {
      await screenshot(page, 'training-no-checkpoint')
      throw err
    })
    expect(await page.getByTestId('checkpoint-row').first().innerText()).toMatch(/200/)
    if ((await status()) === 'running') await page.getByTestId('training-stop').click()
    await expect.poll(status, { timeout: 30_000 }).toMatch(/stopped|finished/)
    const rows = await page.getByTestId('checkpoint-row').allInnerTexts()
    expect(rows.length).toBeGreaterThanOrEqual(1)
    expect(await page.getByTestId('best-marker').count()).toBe(1)
    // a preview grid was drawn at step 100 (a density plot for 2-D data)
    await page.getByTestId('preview-image').waitFor({ timeout: 30_000 })
    expect(await page.getByTestId('preview-card').innerText()).toMatch(/step \d/)
    // the stats and the per-time-bucket chart have values
    expect(await page.getByTestId('stat-lr').innerText()).toMatch(/\d/)
    await page.getByTestId('log-y').click()
    await page.waitForTimeout(300)
    await screenshot(page, 'training-3-stopped')
    await page.getByTestId('preview-card').scrollIntoViewIfNeeded()
    await screenshot(page, 'training-3-preview')
    await page.getByTestId('training-header').scrollIntoViewIfNeeded()
  })

  it('lists the run with its settings, renames and tags it, filters and sorts, and downloads its points', async () => {
    await page.getByTestId('nav-runs').click()
    const row = page.getByTestId('run-row').first()
    await row.waitFor()
    expect(await row.innerText()).toMatch(/toy ui run/)
    expect(await row.innerText()).toMatch(/Gaussian mixture/)
    expect(await row.innerText()).toMatch(/mlp/)

    await row.getByTestId('action-more').click()
    await row.getByTestId('action-edit').click()
    await page.getByTestId('edit-name').fill('toy baseline')
    await page.getByTestId('edit-tags').fill('baseline, ui')
    await page.getByTestId('edit-save').click()
    await expect.poll(() => row.getByTestId('run-name').innerText()).toBe('toy baseline')
    expect(await row.innerText()).toMatch(/baseline/)

    await page.getByTestId('runs-filter').fill('no such run')
    expect(await page.getByTestId('run-row').count()).toBe(0)
    await page.getByTestId('runs-filter').fill('ui')
    expect(await page.getByTestId('run-row').count()).toBe(1)
    await page.getByTestId('runs-filter').fill('')
    await page.getByTestId('sort-lastLoss').click()
    expect(await page.getByTestId('runs-table').locator('th[aria-sort="ascending"]').innerText()).toMatch(/Last loss/)
    await screenshot(page, 'runs-4-table')

    await page.getByTestId('nav-training').click()
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Download CSV' }).click()])
    const csv = fs.readFileSync((await download.path())!, 'utf8').trim().split('\n')
    expect(csv[0]).toBe('run,run_id,step,wall_time,loss,grad_norm,lr,images_per_sec')
    expect(csv.length - 1).toBe(await count())
  })

  it('starts a second run from the same settings, overlays both curves, and deletes one after confirming', async () => {
    await page.getByTestId('nav-runs').click()
    await page.getByTestId('run-row').first().getByTestId('action-more').click()
    await page.getByTestId('run-row').first().getByTestId('action-clone').click()
    await page.getByTestId('run-form').waitFor()
    expect(await page.getByTestId('f-steps').inputValue()).toBe('600')
    expect(await page.getByTestId('f-checkpointEvery').inputValue()).toBe('200')
    await page.getByTestId('f-steps').fill('200')
    await page.getByTestId('f-seed').fill('1')
    await page.getByTestId('start-run').click()
    await page.getByTestId('training-header').waitFor()
    await expect.poll(status, { timeout: 120_000, interval: 500 }).toBe('finished')

    await page.getByTestId('nav-runs').click()
    await expect.poll(() => page.getByTestId('run-row').count()).toBe(2)
    const other = page.getByTestId('run-row').filter({ has: page.getByTestId('run-name').getByText('toy baseline', { exact: true }) })
    await other.getByTestId('overlay-toggle').check()
    await screenshot(page, 'runs-5-two-runs')
    await page.getByTestId('nav-training').click()
    await page.waitForTimeout(400)
    await screenshot(page, 'training-4-overlay')

    const lightPage = await newPage(browser, 'light')
    await lightPage.goto(server.openUrl)
    await lightPage.getByTestId('nav-training').click()
    await lightPage.getByTestId('loss-curve').waitFor()
    await lightPage.waitForTimeout(800)
    await screenshot(lightPage, 'training-5-light')
    await lightPage.getByTestId('nav-runs').click()
    await lightPage.getByTestId('run-row').first().waitFor()
    await screenshot(lightPage, 'runs-7-light')
    await lightPage.close()

    await page.getByTestId('nav-runs').click()
    await other.getByTestId('action-more').click()
    await other.getByTestId('action-delete').click()
    await page.getByTestId('confirm-delete').waitFor()
    await screenshot(page, 'runs-6-confirm-delete')
    await page.getByTestId('confirm-delete').click()
    await expect.poll(() => page.getByTestId('run-row').count()).toBe(1)
    expect(errors).toEqual([])
  })

  it('the form will not start a run on a missing data set; one that fails for it says why, and Retry is the word everywhere', async () => {
    await page.getByTestId('nav-runs').click()
    await page.getByTestId('new-run').click()
    await page.getByTestId('preset-mnist-tutorial').click()
    await expect.poll(() => page.getByTestId('dataset-missing').innerText()).toMatch(/MNIST is not in the data folder yet\. Get it/)
    expect(await page.getByTestId('start-run').isDisabled()).toBe(true)
    await page.getByRole('button', { name: 'Cancel' }).click()

    // Started some other way (the data set deleted meanwhile, say): the run fails and says what to do.
    const mnist = (await service.handlers['engine.catalog']({})).presets.find((p) => p.name === 'mnist-tutorial')!.config
    const { runId } = await service.handlers['runs.start']({ config: { ...mnist, steps: 10, checkpointEvery: 10 }, name: 'mnist without data' })
    await page.locator('tr', { hasText: 'mnist without data' }).click()
    await page.getByTestId('nav-training').click()
    await expect.poll(status, { timeout: 60_000, interval: 250 }).toBe('failed')
    const error = await page.getByTestId('run-error').innerText()
    expect(error).toMatch(/MNIST is not in the data folder; download or import it first/)
    expect(error).toMatch(/Get the data set in the Datasets panel \(or with npx score-lab datasets get mnist\), then Retry/)
    expect(await page.getByTestId('training-resume').innerText()).toMatch(/Retry/)
    await screenshot(page, 'training-6-failed')
    await page.getByTestId('nav-runs').click()
    expect(await page.locator('tr', { hasText: 'mnist without data' }).getByTestId('action-resume').getAttribute('aria-label')).toBe('Retry')
    expect(service.runs.get(runId).status).toBe('failed')
    expect(errors).toEqual([])
  })

})
