/// <reference lib="dom" />
// The Data sets, Sample and Compare panels in browser mode with the real backend. A toy run
// is trained through the lab service before the page opens (a checkpoint in seconds); then:
// import FashionMNIST from Debian's copy and see its preview; sample with two samplers, scrub
// the trajectory and export a PNG (its pixel size read from the file); compare four samplers
// (two of them ODE solvers, labelled by their own settings) and export the figure.
// Screenshots at each stage under test-results/.
import fs from 'node:fs'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Browser, Page } from 'playwright-core'
import { launchBrowser, newPage, ROOT, screenshot } from '../helpers/browser'
import { tempDir } from '../helpers/service'
import { EventRecorder } from '../helpers/events'
import { createLabService, type LabService } from '../../src/lab/service'
import { startServer, type RunningServer } from '../../src/server/server'
import { PRESETS, catalog } from '../../src/lab/catalog'
import { FIGURE_PIXEL_RATIO, figureLayout } from '../../src/renderer/src/lib/compare-figure'
import { LIMITS, type TrainConfig } from '../../src/shared/contract'

let browser: Browser
let server: RunningServer
let service: LabService
let page: Page
let runId: string
const errors: string[] = []
const FASHION = '/usr/share/datasets/fashion-mnist'

/** Width and height from a PNG's IHDR chunk (bytes 16–23), after checking the signature. */
function pngSize(file: string): { width: number; height: number } {
  const b = fs.readFileSync(file)
  expect([...b.subarray(0, 8)]).toEqual([137, 80, 78, 71, 13, 10, 26, 10])
  expect(b.subarray(12, 16).toString('ascii')).toBe('IHDR')
  return { width: b.readUInt32BE(16), height: b.readUInt32BE(20) }
}

async function download(trigger: () => Promise<void>): Promise<{ name: string; file: string }> {
  const [d] = await Promise.all([page.waitForEvent('download'), trigger()])
  const file = path.join(tempDir('score-lab-dl-'), d.suggestedFilename())
  await d.saveAs(file)
  return { name: d.suggestedFilename(), file }
}

beforeAll(async () => {
  service = createLabService({ dataDir: tempDir('score-lab-ui-'), shell: 'browser' })
  const rec = new EventRecorder(service.events)
  const config: TrainConfig = { ...PRESETS.find((p) => p.name === 'toy-quick')!.config, steps: 1500, checkpointEvery: 500, batchSize: 256, ema: 0.99 }
  const t0 = Date.now()
  const started = await service.handlers['runs.start']({ config, name: 'gmm · toy-quick · 1.5k steps' })
  runId = started.runId
  const end = await rec.waitFor((e) => e.type === 'job' && e.job.id === started.jobId && !['queued', 'running'].includes(e.job.state), 120_000)
  expect(end.type === 'job' && end.job.state).toBe('finished')
  rec.stop()
  console.log(`[sampling] trained the toy run in ${((Date.now() - t0) / 1000).toFixed(1)} s`)
  server = await startServer({ service, port: 0, staticDir: path.join(ROOT, 'out/renderer') })
  browser = await launchBrowser()
  page = await newPage(browser)
  page.on('pageerror', (e) => errors.push(e.message))
  await page.goto(server.openUrl)
  await page.getByTestId('backend-badge').waitFor()
})
afterAll(async () => {
  await browser?.close()
  await server?.close()
})

describe('data sets, sampling and comparison in browser mode', () => {
  it.skipIf(!fs.existsSync(FASHION))('imports FashionMNIST from the system copy, then shows its preview per class and stats', async () => {
    await page.getByTestId('nav-datasets').click()
    const card = page.getByTestId('dataset-fashion-mnist')
    await card.waitFor()
    expect(await card.getAttribute('data-state')).toBe('not-present')
    expect(await card.getByTestId('dataset-get').innerText()).toMatch(/Import system copy/)
    expect(await card.innerText()).toContain(FASHION)
    expect(await page.getByTestId('toy-sets').innerText()).toMatch(/Two moons/)
    await card.click() // select it: the detail says what to do
    await page.getByTestId('dataset-detail-empty').waitFor()
    await screenshot(page, 'datasets-1-not-present')

    await card.getByTestId('dataset-get').click()
    // Copying takes a moment: catch the progress bar if it is still there (best effort, never a failure).
    if (await card.getByTestId('dataset-progress').isVisible()) await screenshot(page, 'datasets-1b-getting')
    await expect.poll(() => card.getAttribute('data-state'), { timeout: 120_000, interval: 250 }).toBe('verified')
    await page.getByTestId('dataset-preview').waitFor({ timeout: 120_000 })
    await page.getByTestId('dataset-stats').waitFor({ timeout: 120_000 })
    const img = page.getByTestId('dataset-preview')
    expect(await img.evaluate((el) => getComputedStyle(el).imageRendering)).toBe('pixelated')
    expect(await img.evaluate((el) => (el as HTMLImageElement).naturalWidth)).toBeGreaterThan(200)
    expect(await page.getByTestId('dataset-class-count').count()).toBe(10)
    expect(await page.getByTestId('dataset-stats').innerText()).toMatch(/60,000[\s\S]*10,000/)
    expect(Number.parseFloat(await page.getByTestId('dataset-sigma-max').innerText())).toBeGreaterThan(1)
    await screenshot(page, 'datasets-2-verified')

    // A wrong import path is refused in place, in words.
    await card.getByTestId('dataset-import').click()
    await card.getByTestId('dataset-import-path').fill('/nonexistent/fashion')
    await card.getByTestId('dataset-import-go').click()
    await card.getByTestId('dataset-error').waitFor()
    expect(await card.getByTestId('dataset-error').innerText()).toMatch(/^Could not import: \/nonexistent\/fashion: no such file/)
    await screenshot(page, 'datasets-3-import-error')

    // Damaged files: Verify finds them corrupt and says what is wrong; Get repairs them.
    const dir = path.join(service.dataDir, 'datasets', 'fashion-mnist')
    const images = fs.readdirSync(dir).find((f) => f.startsWith('train-images'))!
    const fd = fs.openSync(path.join(dir, images), 'r+')
    fs.writeSync(fd, Buffer.alloc(4096, 7), 0, 4096, 1_000_000)
    fs.closeSync(fd)
    await card.getByTestId('dataset-verify').click()
    await expect.poll(() => card.getAttribute('data-state'), { timeout: 60_000 }).toBe('corrupt')
    expect(await card.getByTestId('dataset-problem').innerText()).toMatch(/failed verification: .+\. Get them again \(import system copy\) or delete them/)
    await page.getByTestId('dataset-detail-empty').waitFor()
    await screenshot(page, 'datasets-3b-corrupt')
    await card.getByTestId('dataset-get').click()
    await expect.poll(() => card.getAttribute('data-state'), { timeout: 120_000, interval: 250 }).toBe('verified')
    await page.getByTestId('dataset-preview').waitFor({ timeout: 60_000 })

    // Delete asks first, then the set is gone (and can be got again).
    await card.getByTestId('dataset-delete').click()
    await page.getByTestId('confirm-dataset-delete').waitFor()
    await screenshot(page, 'datasets-4-delete-confirm')
    await page.getByTestId('confirm-dataset-delete').click()
    await expect.poll(() => card.getAttribute('data-state'), { timeout: 30_000 }).toBe('not-present')
    expect(await card.getByTestId('dataset-get').isVisible()).toBe(true)
  })

  it('samples with two samplers, scrubs the trajectory and exports a PNG of the grid size', async () => {
    await page.getByTestId('nav-sample').click()
    await page.getByTestId('sample-run').selectOption(runId)
    await page.getByTestId('sample-checkpoint').waitFor()
    await page.getByTestId('sample-empty').waitFor()
    await page.getByTestId('s-sampler').selectOption('euler_maruyama')
    await page.getByTestId('s-steps').fill('60')
    await page.getByTestId('s-count').fill('600')
    await page.getByTestId('s-frames').fill('12')
    // The inputs' bounds are the contract's LIMITS, the numbers the lab checks.
    expect(await page.getByTestId('s-count').getAttribute('max')).toBe(String(LIMITS.count.max))
    expect(await page.getByTestId('s-frames').getAttribute('max')).toBe(String(LIMITS.trajectoryFrames.max))
    expect(await page.getByTestId('s-steps').getAttribute('max')).toBe(String(LIMITS.samplerSteps.max))
    await page.getByTestId('s-steps').fill('0')
    expect(await page.locator('[data-field="s-steps"] [data-testid="field-error"]').innerText()).toMatch(/whole number from 1/)
    expect(await page.getByTestId('sample-run-button').isDisabled()).toBe(true)
    await page.getByTestId('s-steps').fill('60')
    await page.getByTestId('sample-run-button').click()
    await page.getByTestId('sample-result').waitFor({ timeout: 120_000 })
    await page.getByTestId('sample-grid').waitFor()
    expect(await page.getByTestId('sample-caption').innerText()).toMatch(/NFE 60 ·/)
    const first = await page.getByTestId('sample-result').getAttribute('data-sample-id')

    // The trajectory: 12 frames plus the samples; the slider shows the noise at frame 1.
    const slider = page.getByTestId('trajectory-slider')
    expect(await slider.getAttribute('max')).toBe('12')
    const finalSrc = await page.getByTestId('sample-grid').getAttribute('src')
    await slider.fill('0')
    expect(await page.getByTestId('sample-grid').getAttribute('src')).not.toBe(finalSrc)
    await slider.fill('6')
    await screenshot(page, 'sample-1-trajectory')
    await slider.fill('12')

    const png = await download(() => page.getByTestId('export-png').click())
    expect(png.name).toMatch(/^toy-gmm_em_n60_seed0\.png$/)
    expect(pngSize(png.file)).toEqual({ width: 256, height: 256 })
    const gif = await download(() => page.getByTestId('export-gif').click())
    expect(gif.name).toBe('toy-gmm_em_n60_seed0.gif')
    expect(fs.readFileSync(gif.file).subarray(0, 6).toString('ascii')).toBe('GIF89a')

    // Every setting of the chosen sampler has its field, labelled and explained by the engine's
    // registry (engine.catalog): heun's ρ and S_churn, and S_tmax, which has no default.
    await page.getByTestId('s-sampler').selectOption('heun')
    const heun = catalog().samplers.find((x) => x.name === 'heun')!
    for (const key of ['rho', 'sChurn', 'sTmin', 'sTmax', 'sNoise']) {
      const setting = heun.settings.find((s) => s.key === key)!
      const field = page.locator(`[data-field="s-${key}"]`)
      expect(await field.locator('label').innerText()).toBe(setting.label)
      expect(await field.locator('.help').innerText()).toBe(setting.description)
      expect(await page.getByTestId(`s-${key}`).inputValue()).toBe(setting.default === undefined ? '' : String(setting.default))
    }
    expect(await page.locator('[data-field="s-steps"] label').innerText()).toBe('Noise levels')
    expect(await page.getByTestId('s-steps').getAttribute('min')).toBe('2')
    await page.getByTestId('s-sChurn').fill('-1')
    expect(await page.locator('[data-field="s-sChurn"] [data-testid="field-error"]').innerText()).toBe('Must be at least 0.')
    await page.getByTestId('s-sChurn').fill('0.5')
    await page.getByTestId('s-sampler').scrollIntoViewIfNeeded()
    await screenshot(page, 'sample-1c-heun-settings')

    // A second sampler: the probability-flow ODE (adaptive, so NFE comes from the solver).
    await page.getByTestId('s-sampler').selectOption('ode')
    await page.getByTestId('s-rtol').fill('0.001')
    await page.getByTestId('s-atol').fill('0.001')
    await page.getByTestId('sample-run-button').click()
    await expect.poll(() => page.getByTestId('sample-result').getAttribute('data-sample-id'), { timeout: 120_000 }).not.toBe(first)
    await page.getByTestId('sample-grid').waitFor()
    expect(await page.getByTestId('sample-result').locator('h3').innerText()).toMatch(/^ode/)
    await expect.poll(() => page.getByTestId('sample-history-row').count()).toBe(2)
    const odePng = await download(() => page.getByTestId('export-png').click())
    expect(odePng.name).toMatch(/^toy-gmm_ode_rtol0\.001_atol0\.001_seed0\.png$/)
    expect(pngSize(odePng.file)).toEqual({ width: 256, height: 256 })
    // Saving on the lab's machine (browser mode on a remote box): a missing folder is refused in words.
    await page.getByTestId('save-on-lab-open').click()
    expect(await page.getByTestId('save-on-lab-path').inputValue()).toBe(`${service.dataDir}/${odePng.name}`)
    await page.getByTestId('save-on-lab-path').fill('/nonexistent/folder/grid.png')
    await page.getByTestId('save-on-lab-go').click()
    expect(await page.getByTestId('save-on-lab-error').innerText()).toMatch(/Folder \/nonexistent\/folder does not exist/)
    const onLab = path.join(tempDir('score-lab-save-'), 'grid.png')
    await page.getByTestId('save-on-lab-path').fill(onLab)
    await page.getByTestId('save-on-lab-go').click()
    await page.getByTestId('save-on-lab-done').waitFor()
    expect(pngSize(onLab)).toEqual({ width: 256, height: 256 })
    await page.getByTestId('sample-history').scrollIntoViewIfNeeded()
    await screenshot(page, 'sample-2b-saved-history')
    await page.evaluate(() => document.querySelector('main.content')?.scrollTo(0, 0))
    await screenshot(page, 'sample-2-ode')

    // Both grids: the earlier one comes back from the list below.
    await page.getByTestId('sample-history-row').nth(1).click()
    await expect.poll(() => page.getByTestId('sample-result').getAttribute('data-sample-id')).toBe(first)
    await page.getByTestId('sample-grid').waitFor()
  })

  it('compares four samplers (rk45 and euler ODEs among them) on the same seed, labelled by the settings that ran, and exports the figure', async () => {
    await page.getByTestId('nav-compare').click()
    await expect.poll(() => page.getByTestId('compare-entry').count()).toBe(3)
    await page.getByTestId('compare-empty').waitFor()
    await page.getByTestId('c-count').fill('600')
    await page.getByTestId('c0-steps').fill('60') // euler_maruyama
    await page.getByTestId('c1-steps').fill('30') // pc: corrector + predictor per step
    await page.getByTestId('c1-snr').fill('0.1')
    expect(await page.getByTestId('c1-snr').getAttribute('max')).toBe(String(LIMITS.snr.max))
    // pc's predictors are the engine's, as engine.catalog serves them.
    const pc = catalog().samplers.find((x) => x.name === 'pc')!
    expect(await page.getByTestId('c1-predictor').locator('option').allInnerTexts()).toEqual(pc.choices!.predictor)
    await page.getByTestId('c2-rtol').fill('0.001') // ode
    await page.getByTestId('c2-atol').fill('0.001')
    expect(await page.getByTestId('c2-steps').count()).toBe(0) // rk45 is adaptive: no steps to set
    // A second ODE entry with fixed euler steps: its steps show, the tolerances it ignores do not.
    await page.getByTestId('compare-add').click()
    await page.getByTestId('c3-sampler').selectOption('ode')
    await page.getByTestId('c3-method').selectOption('euler')
    expect(await page.getByTestId('c3-rtol').count()).toBe(0)
    expect(await page.getByTestId('c3-atol').count()).toBe(0)
    await page.getByTestId('c3-steps').fill('20')
    const labels = ['euler_maruyama · 60 steps', 'pc · 30 steps · rd + langevin · snr 0.1', 'ode · rk45 · rtol 1e-3 · atol 1e-3', 'ode · euler · 20 steps']
    expect(await page.getByTestId('compare-entry-label').allInnerTexts()).toEqual(labels)
    await screenshot(page, 'compare-0-setup')
    await page.getByTestId('compare-run').click()
    await page.getByTestId('compare-results').waitFor({ timeout: 180_000 })
    await expect.poll(() => page.getByTestId('compare-grid').count(), { timeout: 30_000 }).toBe(4)
    const captions = await page.getByTestId('compare-caption').allInnerTexts()
    expect(captions[0]).toMatch(/^NFE 60 · .* s · .* steps\/s$/)
    expect(captions[1]).toMatch(/^NFE 60 ·/) // 30 × (1 predictor + 1 corrector)
    expect(captions[2]).toMatch(/^NFE \d+ ·/)
    expect(captions[3]).toMatch(/^NFE 21 ·/) // 20 euler steps + the denoising step
    // Each grid is labelled with the settings its record says ran: the two ODEs read apart.
    expect(await page.getByTestId('compare-label').allInnerTexts()).toEqual(labels)
    const chart = await page.getByTestId('compare-chart-canvas').getAttribute('aria-label')
    for (const label of labels) expect(chart).toContain(`${label}: NFE`)
    await page.getByTestId('compare-chart').locator('canvas').waitFor()
    await page.getByTestId('compare-results').scrollIntoViewIfNeeded()
    await screenshot(page, 'compare-1-results')

    const fig = await download(() => page.getByTestId('compare-export').click())
    expect(fig.name).toBe('toy-gmm_compare_euler_maruyama-pc-ode-ode_seed0.png')
    const layout = figureLayout([0, 1, 2, 3].map(() => ({ width: 256, height: 256 })))
    // At 2× its layout, so text and grids stay sharp on high-density screens and in print.
    expect(FIGURE_PIXEL_RATIO).toBe(2)
    expect(pngSize(fig.file)).toEqual({ width: 2 * layout.width, height: 2 * layout.height })
    expect(layout.cols).toBe(4)
    fs.copyFileSync(fig.file, path.join(ROOT, 'test-results', 'compare-figure.png'))
    expect(await page.getByTestId('compare-exported').innerText()).toMatch(new RegExp(`${2 * layout.width}×${2 * layout.height} px`))
    expect(errors).toEqual([])

    // The light theme: a fresh page opens the Sample panel on the run's latest sample.
    const light = await newPage(browser, 'light')
    await light.goto(server.openUrl)
    await light.getByTestId('nav-sample').click()
    await light.getByTestId('sample-grid').waitFor({ timeout: 30_000 })
    await screenshot(light, 'sample-3-light')
    await light.context().close()
  })

  it('says what to do for a run without checkpoints', async () => {
    const empty = service.runs.create(service.runs.get(runId).config, 'not trained yet', null)
    service.events.emit({ type: 'run', run: empty })
    await page.getByTestId('nav-sample').click()
    await expect.poll(() => page.getByTestId('sample-run').locator(`option[value="${empty.id}"]`).count()).toBe(1)
    await page.getByTestId('sample-run').selectOption(empty.id)
    await page.getByTestId('sample-no-checkpoints').waitFor()
    expect(await page.getByTestId('sample-no-checkpoints').innerText()).toMatch(/No checkpoints yet — train this run first/)
    expect(await page.getByTestId('sample-run-button').isDisabled()).toBe(true)
    await screenshot(page, 'sample-0-no-checkpoint')
  })
})
