/// <reference lib="dom" />
// Quality against cost from the Compare panel: a small sweep on a 2-D toy run (its quality, sliced
// W2 to true samples, is known exactly), read back from the chart, the table and the CSV.
import fs from 'node:fs'
import { describe, expect, it } from 'vitest'
import { screenshot, useLabPage } from '../helpers/browser'
import { createDispatch } from '../../src/lab/dispatch'
import { PRESETS } from '../../src/lab/catalog'
import { SWEEP_COLUMNS } from '../../src/shared/sweep-table'

const lab = useLabPage()
const toy = PRESETS.find((p) => p.name === 'toy-quick')!.config

describe('the quality sweep', () => {
  it('plots quality against NFE per sampler with the floor, shows a point\'s samples, and downloads the table', async () => {
    const call = createDispatch(lab.service.handlers)
    const env = await call('runs.start', { config: { ...toy, steps: 400, batchSize: 64, checkpointEvery: 400, previewEvery: 0 }, name: 'sweep me' })
    if (!env.ok) throw new Error(env.error.message)
    const { jobId } = env.result as { jobId: string }
    await expect.poll(() => lab.service.jobs.get(jobId).state, { timeout: 120_000, interval: 500 }).toBe('finished')

    await lab.page.goto(lab.server.openUrl)
    await lab.page.getByTestId('nav-compare').click()
    await expect.poll(() => lab.page.getByTestId('compare-entry').count(), { timeout: 15_000 }).toBeGreaterThan(1)
    // Two fixed-step samplers are enough: drop the adaptive ODE entry if it is there.
    const entries = lab.page.getByTestId('compare-entry')
    for (let i = (await entries.count()) - 1; i >= 0; i--) {
      const label = await entries.nth(i).getByTestId('compare-entry-label').innerText()
      if (/^ode/.test(label) && (await entries.count()) > 2) await entries.nth(i).getByRole('button', { name: /Remove sampler/ }).click()
    }
    await lab.page.getByTestId('sweep-nfe').fill('4, 16')
    await lab.page.getByTestId('sweep-n').fill('300')
    await lab.page.getByTestId('sweep-run').click()
    const rows = lab.page.getByTestId('sweep-table').locator('tbody tr')
    await expect.poll(() => rows.count(), { timeout: 180_000, interval: 1000 }).toBeGreaterThanOrEqual(3)
    expect(lab.errors).toEqual([])

    // The chart says what it plots, with every sampler's points, and the floor above it.
    const label = await lab.page.getByTestId('sweep-chart-canvas').getAttribute('aria-label')
    expect(label).toMatch(/sliced W2 to 300 true samples against NFE/)
    expect(label).toMatch(/euler_maruyama: NFE 4 → [\d.]+, NFE 16 → [\d.]+/)
    expect(await lab.page.getByTestId('sweep-metric').innerText()).toMatch(/floor [\d.]+ · noise [\d.]+/)

    // Hovering a point shows its samples.
    await rows.first().hover()
    await expect.poll(() => lab.page.getByTestId('sweep-peek').locator('img').count(), { timeout: 10_000 }).toBe(1)
    expect(await lab.page.getByTestId('sweep-peek').innerText()).toMatch(/euler_maruyama · 4 steps · NFE 4/)
    await lab.page.getByTestId('sweep-x-seconds').click()
    expect(await lab.page.getByTestId('sweep-chart-canvas').getAttribute('aria-label')).toMatch(/against seconds/)
    await screenshot(lab.page, 'compare-sweep')

    // The CSV has a row per point with the floor on each.
    const [download] = await Promise.all([lab.page.waitForEvent('download'), lab.page.getByTestId('sweep-csv').click()])
    const csv = fs.readFileSync((await download.path())!, 'utf8').trim().split('\n')
    expect(csv[0]).toBe(SWEEP_COLUMNS.join(','))
    expect(csv.length - 1).toBe(await rows.count())
    const em4 = csv.find((l) => l.startsWith('euler_maruyama,euler_maruyama · 4 steps,4,4,'))!
    const cols = em4.split(',')
    const quality = Number(cols[SWEEP_COLUMNS.indexOf('quality')])
    const floor = Number(cols[SWEEP_COLUMNS.indexOf('floor')])
    expect(quality).toBeGreaterThan(floor) // 4 Euler steps cannot match true samples
    expect(Number(cols[SWEEP_COLUMNS.indexOf('n')])).toBe(300)
  })
})
