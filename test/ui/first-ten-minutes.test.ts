/// <reference lib="dom" />
// A new user's first ten minutes, in one page and one fresh data folder, as the README tells
// them: get FashionMNIST, train the toy-quick preset (under a minute here), sample it and see by
// the reported metric that the samples fall near the 8 modes of the mixture, compare three
// samplers on the same noise, and export the figure. The screenshots of this test are the
// README's (copied to docs/screenshots/ after looking at them).
import fs from 'node:fs'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { screenshot, useLabPage, trainingStatus } from '../helpers/browser'
import { tempDir } from '../helpers/service'

const FASHION = '/usr/share/datasets/fashion-mnist'
const lab = useLabPage()

/** "within 2σ of a mode 93% · true data 86%" → [0.93, 0.86]. */
function modeShares(text: string): [number, number] {
  const m = /within 2σ of a mode (\d+)% · true data (\d+)%/.exec(text)
  if (!m) throw new Error(`no mode share in "${text}"`)
  return [Number(m[1]) / 100, Number(m[2]) / 100]
}

describe('the first ten minutes', () => {
  it.skipIf(!fs.existsSync(FASHION))('gets FashionMNIST from the system copy', async () => {
    await lab.page.goto(lab.server.openUrl)
    await lab.page.getByTestId('nav-datasets').click()
    const card = lab.page.getByTestId('dataset-fashion-mnist')
    await card.getByTestId('dataset-get').click()
    await expect.poll(() => card.getAttribute('data-state'), { timeout: 120_000, interval: 250 }).toBe('verified')
    await card.click()
    await lab.page.getByTestId('dataset-preview').waitFor({ timeout: 60_000 })
    await screenshot(lab.page, 'first-1-datasets')
  }, 240_000)

  it('trains the toy-quick preset to clearly separated modes, with the cost said up front', async () => {
    if (lab.page.url() === 'about:blank') await lab.page.goto(lab.server.openUrl)
    await lab.page.getByTestId('backend-badge').waitFor()
    await lab.page.keyboard.press('Alt+N')
    await lab.page.getByTestId('preset-toy-quick').click()
    await lab.page.getByTestId('run-name-input').fill('my first toy run')
    await expect.poll(() => lab.page.getByTestId('run-estimate').innerText(), { timeout: 30_000 }).toMatch(/^≈ .* · starts now$/)
    await screenshot(lab.page, 'first-2-new-run')
    const t0 = Date.now()
    await lab.page.getByTestId('start-run').click()
    await lab.page.getByTestId('training-header').waitFor()
    await lab.page.waitForTimeout(3000)
    await screenshot(lab.page, 'first-3-training')
    await expect.poll(() => trainingStatus(lab.page), { timeout: 180_000, interval: 500 }).toBe('finished')
    console.log(`[first ten minutes] toy-quick trained in ${((Date.now() - t0) / 1000).toFixed(0)} s`)
    await screenshot(lab.page, 'first-4-trained')
  }, 240_000)

  it('samples it: the samples fall near the 8 modes by the reported metric, beside the true data', async () => {
    await lab.page.getByTestId('nav-sample').click()
    await lab.page.getByTestId('sample-checkpoint').waitFor()
    await lab.page.getByTestId('s-sampler').selectOption('ode')
    await lab.page.getByTestId('s-count').fill('1000')
    await lab.page.getByTestId('sample-run-button').click()
    await lab.page.getByTestId('sample-result').waitFor({ timeout: 120_000 })
    await lab.page.getByTestId('sample-truth').waitFor({ timeout: 30_000 })
    const [share, truth] = modeShares(await lab.page.getByTestId('sample-metric-modes').innerText())
    // A ring would put most points between the modes; 8 separated clusters put most near one.
    expect(share).toBeGreaterThanOrEqual(0.75)
    expect(share).toBeGreaterThan(truth - 0.15)
    expect(await lab.page.getByTestId('sample-metric-logp').innerText()).toMatch(/log p −?[\d.]+ nats · true data −?[\d.]+/)
    await screenshot(lab.page, 'first-5-sample')
  }, 180_000)

  it('compares three samplers on the same noise and exports the figure', async () => {
    await lab.page.getByTestId('nav-compare').click()
    await expect.poll(() => lab.page.getByTestId('compare-entry').count()).toBe(3)
    await lab.page.getByTestId('c-count').fill('600')
    await lab.page.getByTestId('compare-run').click()
    await lab.page.getByTestId('compare-results').waitFor({ timeout: 240_000 })
    await expect.poll(() => lab.page.getByTestId('compare-grid').count(), { timeout: 60_000 }).toBe(3)
    const labels = await lab.page.getByTestId('compare-label').allInnerTexts()
    expect(new Set(labels).size).toBe(3)
    // The preset's VE SDE gets pc's VE signal-to-noise ratio (0.01 would be VP's).
    expect(labels.find((l) => l.startsWith('pc'))).toMatch(/snr 0\.16/)
    for (const text of await lab.page.getByTestId('compare-metric-modes').allInnerTexts()) expect(modeShares(text)[0]).toBeGreaterThanOrEqual(0.6)
    await lab.page.getByTestId('compare-chart').locator('canvas').waitFor()
    await lab.page.getByTestId('compare-results').scrollIntoViewIfNeeded()
    await screenshot(lab.page, 'first-6-compare')
    const [d] = await Promise.all([lab.page.waitForEvent('download'), lab.page.getByTestId('compare-export').click()])
    const file = path.join(tempDir('score-lab-first-'), d.suggestedFilename())
    await d.saveAs(file)
    expect(fs.readFileSync(file).subarray(1, 4).toString()).toBe('PNG')
    // One sampler is nothing to compare: the button says so and waits for a second.
    await lab.page.getByRole('button', { name: 'Remove sampler 3' }).click()
    await lab.page.getByRole('button', { name: 'Remove sampler 2' }).click()
    expect(await lab.page.getByTestId('compare-run').innerText()).toMatch(/Compare 1 sampler$/)
    expect(await lab.page.getByTestId('compare-run').isDisabled()).toBe(true)
    expect(lab.errors).toEqual([])
  }, 300_000)
})
