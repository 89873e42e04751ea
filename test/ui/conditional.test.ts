/// <reference lib="dom" />
// Classifier-free guidance from the Sample panel: on a class-conditional toy run the panel offers
// its classes and a guidance weight; sampling one class records the condition and measures the
// samples against that class's component. An unconditional run shows no class picker.
import { describe, expect, it } from 'vitest'
import { screenshot, useLabPage } from '../helpers/browser'
import { createDispatch } from '../../src/lab/dispatch'
import { PRESETS } from '../../src/lab/catalog'
import type { SampleRecord } from '../../src/shared/contract'

const lab = useLabPage()
const toy = PRESETS.find((p) => p.name === 'toy-quick')!.config

describe('class-conditional sampling in the Sample panel', () => {
  it('picks a class and a guidance weight, and the result is measured against that class', async () => {
    const call = createDispatch(lab.service.handlers)
    const start = async (config: object, name: string) => {
      const env = await call('runs.start', { config, name })
      if (!env.ok) throw new Error(env.error.message)
      const { jobId, runId } = env.result as { jobId: string; runId: string }
      await expect.poll(() => lab.service.jobs.get(jobId).state, { timeout: 180_000, interval: 500 }).toBe('finished')
      return runId
    }
    const plain = await start({ ...toy, steps: 20, batchSize: 64, checkpointEvery: 20, previewEvery: 0 }, 'plain')
    const conditional = await start({ ...toy, steps: 600, batchSize: 128, checkpointEvery: 600, previewEvery: 0, conditional: true, labelDropout: 0.1 }, 'by class')

    await lab.page.goto(lab.server.openUrl)
    await lab.page.getByTestId('nav-sample').click()
    await lab.page.getByTestId('sample-run').selectOption(plain)
    await lab.page.getByTestId('sample-checkpoint').waitFor()
    expect(await lab.page.getByTestId('sample-class').count()).toBe(0)

    await lab.page.getByTestId('sample-run').selectOption(conditional)
    await lab.page.getByTestId('sample-class').waitFor()
    // "Any" plus toy-gmm's eight modes.
    expect(await lab.page.getByTestId('sample-class').locator('option').count()).toBe(9)
    expect(await lab.page.getByTestId('sample-guidance').isDisabled()).toBe(true)
    await lab.page.getByTestId('sample-class').selectOption({ label: '3 · mode 3' })
    await lab.page.getByTestId('sample-guidance').fill('2')
    await lab.page.getByTestId('s-sampler').selectOption('euler_maruyama')
    await lab.page.getByTestId('s-steps').fill('60')
    await lab.page.getByTestId('s-count').fill('400')
    await lab.page.getByTestId('sample-run-button').click()
    await lab.page.getByTestId('sample-result').waitFor({ timeout: 120_000 })
    expect(lab.errors).toEqual([])
    const id = await lab.page.getByTestId('sample-result').getAttribute('data-sample-id')
    const record = lab.service.runs.samples(conditional).get(id!) as SampleRecord
    expect(record.condition).toEqual({ kind: 'class', label: 3, guidance: 2 })
    expect(record.toyMetrics?.target).toBe('toy-gmm, class 3')
    console.log(`[ui cfg] class 3, w 2: ${(record.toyMetrics!.nearModes! * 100).toFixed(1)} % within 2σ of mode 3 (true samples ${(record.toyMetrics!.nearModesRef! * 100).toFixed(1)} %)`)
    expect(record.toyMetrics!.nearModes!).toBeGreaterThan(0.6)
    await screenshot(lab.page, 'sample-class-conditional')
  }, 400_000)
})
