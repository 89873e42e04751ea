/// <reference lib="dom" />
// The lab remembers (issue 15.10, 15.11): two tiny toy runs are trained through the lab service
// (different seeds and learning rates); then in the browser: a run's chart settings, the panel
// and the selected run survive a reload; a "Copy link" link opens its run in a new page; ticking
// two runs shows their settings side by side with the differing rows highlighted; a run's colour
// is its curve's, after a reload too; the Sample form is per run (a toy run's count never carries
// over) and an earlier sample puts its settings back. Screenshots under test-results/remember-*.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Browser, Page } from 'playwright-core'
import { launchBrowser, newPage, screenshot, startLab } from '../helpers/browser'
import { EventRecorder } from '../helpers/events'
import type { RunningServer } from '../../src/server/server'
import type { LabService } from '../../src/lab/service'
import { PRESETS } from '../../src/lab/catalog'
import type { TrainConfig } from '../../src/shared/contract'

let browser: Browser
let server: RunningServer
let service: LabService
let page: Page
const errors: string[] = []
const runA = { id: '', name: 'toy seed 0' }
const runB = { id: '', name: 'toy seed 7' }

const toy = PRESETS.find((p) => p.name === 'toy-quick')!.config

beforeAll(async () => {
  ;({ server, service } = await startLab())
  const rec = new EventRecorder(service.events)
  const train = async (run: { id: string; name: string }, over: Partial<TrainConfig>) => {
    const config: TrainConfig = { ...toy, steps: 80, batchSize: 32, checkpointEvery: 80, previewEvery: 0, ...over }
    const { runId, jobId } = await service.handlers['runs.start']({ config, name: run.name })
    run.id = runId
    return jobId
  }
  const jobs = [await train(runA, { seed: 0 }), await train(runB, { seed: 7, lr: 0.005 })]
  for (const jobId of jobs) {
    const end = await rec.waitFor((e) => e.type === 'job' && e.job.id === jobId && !['queued', 'running'].includes(e.job.state), 150_000)
    expect(end.type === 'job' && end.job.state).toBe('finished')
  }
  rec.stop()
  browser = await launchBrowser()
  page = await newPage(browser)
  page.on('pageerror', (e) => errors.push(e.message))
})
afterAll(async () => {
  await browser?.close()
  await server?.close()
  await service?.close()
})

const curve = () => page.getByTestId('loss-curve')
const points = async (p: Page = page) => Number(await p.getByTestId('curve-points').getAttribute('data-count'))
const row = (p: Page, name: string) => p.getByTestId('run-row').filter({ has: p.getByTestId('run-name').getByText(name, { exact: true }) })

/** Pixels of the loss chart's canvas close to a colour (the curve and its legend box). */
function pixelsNear(p: Page, hex: string): Promise<number> {
  return p.getByTestId('loss-canvas').evaluate((canvas: HTMLCanvasElement, hex: string) => {
    const [r, g, b] = [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16))
    const data = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data
    let n = 0
    for (let i = 0; i < data.length; i += 4) if (Math.abs(data[i]! - r!) < 24 && Math.abs(data[i + 1]! - g!) < 24 && Math.abs(data[i + 2]! - b!) < 24 && data[i + 3]! > 200) n++
    return n
  }, hex)
}

describe('the lab remembers', () => {
  it('keeps a run’s chart settings, the panel and the selected run across a reload', async () => {
    await page.goto(server.openUrl)
    await page.getByTestId('nav-runs').click()
    await row(page, runA.name).click() // the older run: not the one the lab would pick by itself
    await page.getByTestId('nav-training').click()
    expect(await page.getByTestId('training-run-name').innerText()).toBe(runA.name)
    await expect.poll(() => points(), { timeout: 30_000 }).toBeGreaterThan(0)
    await page.getByTestId('log-y').click()
    await page.getByTestId('smoothing').fill('0.9')
    await page.getByTestId('x-relative').click()
    expect(await curve().getAttribute('data-y-scale')).toBe('log')
    // Zoom in on the x axis with the wheel over the plot: the range is kept with the run too.
    const fitted = await curve().getAttribute('data-view-x')
    const box = (await page.getByTestId('loss-canvas').boundingBox())!
    await page.mouse.move(box.x + box.width * 0.6, box.y + box.height * 0.5)
    await page.mouse.wheel(0, -400)
    await expect.poll(() => curve().getAttribute('data-zoomed')).toBe('yes')
    const zoomed = await curve().getAttribute('data-view-x')
    expect(zoomed).not.toBe(fitted)
    await screenshot(page, 'remember-1-before-reload')

    await page.reload()
    await page.getByTestId('training-view').waitFor()
    await expect.poll(() => page.getByTestId('training-run-name').innerText(), { timeout: 15_000 }).toBe(runA.name)
    await expect.poll(() => curve().getAttribute('data-y-scale')).toBe('log')
    expect(await curve().getAttribute('data-smoothing')).toBe('0.9')
    expect(await curve().getAttribute('data-x-axis')).toBe('relative')
    expect(await page.getByTestId('smoothing').inputValue()).toBe('0.9')
    expect(await page.getByTestId('log-y').getAttribute('class')).toMatch(/\bon\b/)
    expect(await page.getByTestId('x-relative').getAttribute('class')).toMatch(/\bon\b/)
    await expect.poll(() => points(), { timeout: 30_000 }).toBeGreaterThan(0)
    expect(await curve().getAttribute('data-zoomed')).toBe('yes')
    await expect.poll(() => curve().getAttribute('data-view-x')).toBe(zoomed)
    await page.waitForTimeout(300)
    await screenshot(page, 'remember-2-after-reload')

    // The settings are the run's own: the other run's chart starts from the defaults, and switching
    // panels and back keeps both.
    await page.getByTestId('nav-runs').click()
    await row(page, runB.name).click()
    await page.getByTestId('nav-training').click()
    await expect.poll(() => page.getByTestId('training-run-name').innerText()).toBe(runB.name)
    expect(await curve().getAttribute('data-y-scale')).toBe('linear')
    expect(await curve().getAttribute('data-smoothing')).toBe('0.6')
    await page.getByTestId('nav-runs').click()
    await row(page, runA.name).click()
    await page.getByTestId('nav-training').click()
    await expect.poll(() => curve().getAttribute('data-y-scale')).toBe('log')
    expect(await curve().getAttribute('data-smoothing')).toBe('0.9')
    // Fit goes back to the whole curve, and that is what is kept.
    await page.getByTestId('reset-zoom').click()
    await expect.poll(() => curve().getAttribute('data-zoomed')).toBe('no')
    expect(await curve().getAttribute('data-view-x')).toBe(fitted)
  })

  it('copies a link to the run that selects it (and its panel) in a new page', async () => {
    const copy = page.getByTestId('copy-link')
    const link = (await copy.getAttribute('data-link'))!
    expect(link).toBe(`${new URL(server.openUrl).origin}/#run=${runA.id}&panel=training`)
    expect(link).not.toMatch(/token/)
    await copy.click()
    await expect.poll(() => copy.innerText()).toMatch(/Copied|Copy link/)

    // A fresh browser (no remembered state); the token comes from the server's own address.
    const other = await newPage(browser)
    other.on('pageerror', (e) => errors.push(e.message))
    await other.goto(server.openUrl + new URL(link).hash)
    await other.getByTestId('training-view').waitFor()
    await expect.poll(() => other.getByTestId('training-run-name').innerText(), { timeout: 15_000 }).toBe(runA.name)
    expect(await other.getByTestId('nav-training').getAttribute('class')).toMatch(/\bactive\b/)
    expect(new URL(other.url()).hash).toBe('') // followed, then out of the address bar
    await screenshot(other, 'remember-3-link')
    // The newest run by another link, in the same page.
    await other.evaluate((id) => (location.hash = `run=${id}&panel=training`), runB.id)
    await expect.poll(() => other.getByTestId('training-run-name').innerText()).toBe(runB.name)
    await other.context().close()
  })

  it('shows the settings of two ticked runs side by side, the differing rows highlighted', async () => {
    await page.getByTestId('nav-runs').click()
    expect(await page.getByTestId('runs-compare').count()).toBe(0) // one run ticked: nothing to compare
    await row(page, runB.name).getByTestId('overlay-toggle').check()
    const table = page.getByTestId('runs-compare')
    await table.waitFor()
    expect(await table.locator('thead th').allInnerTexts()).toEqual(['Setting', runA.name, runB.name])
    const differing = await table.locator('[data-testid="runs-compare-row"][data-differs="true"]').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-key')))
    expect(differing.sort()).toEqual(['lr', 'seed'])
    const seed = table.locator('[data-key="seed"]')
    expect(await seed.locator('td').allInnerTexts()).toEqual(['0', '7'])
    expect(await seed.getAttribute('class')).toMatch(/\bdiff\b/)
    expect(await table.locator('[data-key="model"]').getAttribute('class')).not.toMatch(/\bdiff\b/)
    expect(await page.getByTestId('runs-compare-summary').innerText()).toBe('2 settings differ')
    await table.scrollIntoViewIfNeeded()
    await screenshot(page, 'remember-4-compare-table')
    await page.getByTestId('runs-compare-only-diff').check()
    expect(await table.getByTestId('runs-compare-row').count()).toBe(2)
    await screenshot(page, 'remember-4b-only-differences')

    // Overlaid, each curve in its run's colour.
    await page.getByTestId('nav-training').click()
    await expect.poll(async () => (await page.getByTestId('loss-plot').getAttribute('data-colors'))?.split(' ').length).toBe(2)
    await page.getByTestId('norm-first').click()
    expect(await curve().getAttribute('data-normalize')).toBe('first')
    await page.waitForTimeout(300)
    await screenshot(page, 'remember-5-overlay-normalised')
  })

  it('paints a run in the colour chosen in the Runs table, after a reload too', async () => {
    await page.getByTestId('nav-runs').click()
    const swatch = row(page, runA.name).getByTestId('run-color')
    const before = await swatch.inputValue()
    expect(before).toMatch(/^#[0-9a-f]{6}$/)
    expect(await row(page, runB.name).getByTestId('run-color').inputValue()).not.toBe(before) // distinct by default
    await swatch.fill('#ff0000')
    await page.getByTestId('nav-training').click()
    await expect.poll(() => page.getByTestId('loss-plot').getAttribute('data-colors')).toContain(`${runA.id}=#ff0000`)

    await page.reload()
    await page.getByTestId('training-view').waitFor() // the panel it was left on
    await expect.poll(() => page.getByTestId('loss-plot').getAttribute('data-colors'), { timeout: 15_000 }).toContain(`${runA.id}=#ff0000`)
    await expect.poll(() => points(), { timeout: 30_000 }).toBeGreaterThan(0)
    await expect.poll(() => pixelsNear(page, '#ff0000'), { timeout: 10_000 }).toBeGreaterThan(50) // the curve and its legend are red
    await screenshot(page, 'remember-6-color-after-reload')
    await page.getByTestId('nav-runs').click()
    expect(await row(page, runA.name).getByTestId('run-color').inputValue()).toBe('#ff0000')
  })

  it('keeps Sample settings per run and puts an earlier sample’s settings back into the form', async () => {
    await page.getByTestId('nav-sample').click()
    await page.getByTestId('sample-run').selectOption(runA.id)
    await page.getByTestId('sample-checkpoint').waitFor()
    await expect.poll(() => page.getByTestId('s-sampler').inputValue()).toBe('pc')
    expect(await page.getByTestId('s-count').inputValue()).toBe('1000') // a 2-D toy run: many points
    await page.getByTestId('s-sampler').selectOption('euler_maruyama')
    await page.getByTestId('s-steps').fill('30')
    await page.getByTestId('s-count').fill('300')
    await page.getByTestId('s-seed').fill('5')
    await page.getByTestId('s-frames').fill('0')
    await page.getByTestId('sample-run-button').click()
    await page.getByTestId('sample-result').waitFor({ timeout: 120_000 })
    await expect.poll(() => page.getByTestId('sample-history-row').count(), { timeout: 30_000 }).toBe(1)

    // Another run has its own form; Compare has its own count.
    await page.getByTestId('sample-run').selectOption(runB.id)
    await expect.poll(() => page.getByTestId('s-count').inputValue()).toBe('1000')
    expect(await page.getByTestId('s-sampler').inputValue()).toBe('pc')
    await page.getByTestId('sample-run').selectOption(runA.id)
    await expect.poll(() => page.getByTestId('s-count').inputValue()).toBe('300')
    await page.getByTestId('nav-compare').click()
    expect(await page.getByTestId('c-count').inputValue()).toBe('1000')
    await page.getByTestId('nav-sample').click()

    // Change the form, then click the earlier sample: its settings come back.
    await page.getByTestId('s-sampler').selectOption('ode')
    await page.getByTestId('s-count').fill('64')
    await page.getByTestId('s-seed').fill('1')
    await page.getByTestId('sample-history-row').first().click()
    expect(await page.getByTestId('s-sampler').inputValue()).toBe('euler_maruyama')
    expect(await page.getByTestId('s-steps').inputValue()).toBe('30')
    expect(await page.getByTestId('s-count').inputValue()).toBe('300')
    expect(await page.getByTestId('s-seed').inputValue()).toBe('5')

    // And after a reload: the Sample panel on the same run with the same form.
    await page.reload()
    await page.getByTestId('sample-panel').waitFor()
    await expect.poll(() => page.getByTestId('sample-run').inputValue(), { timeout: 15_000 }).toBe(runA.id)
    await expect.poll(() => page.getByTestId('s-count').inputValue()).toBe('300')
    expect(await page.getByTestId('s-sampler').inputValue()).toBe('euler_maruyama')
    await page.getByTestId('sample-grid').waitFor({ timeout: 30_000 })
    await screenshot(page, 'remember-7-sample-restored')
    expect(errors).toEqual([])
  })
})
