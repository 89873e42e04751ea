/// <reference lib="dom" />
// Queued runs in the Runs panel: their place in line, moving one ahead, cancelling one and
// deleting one that never started, while another run trains.
import { describe, expect, it } from 'vitest'
import { screenshot, useLabPage } from '../helpers/browser'
import { createDispatch } from '../../src/lab/dispatch'
import { PRESETS } from '../../src/lab/catalog'

const lab = useLabPage()

const toy = PRESETS.find((p) => p.name === 'toy-quick')!.config

describe('queued runs', () => {
  it('show their place in line and can be moved, cancelled and deleted before they start', async () => {
    const call = createDispatch(lab.service.handlers)
    const start = async (name: string, steps: number) => {
      const env = await call('runs.start', { config: { ...toy, steps, batchSize: 32, checkpointEvery: 100, previewEvery: 0 }, name })
      if (!env.ok) throw new Error(env.error.message)
      return env.result as { runId: string; jobId: string }
    }
    const long = await start('trains now', 1_000_000)
    await start('waits first', 100)
    await start('waits second', 100)
    await lab.page.goto(lab.server.openUrl)
    await lab.page.getByTestId('nav-runs').click()
    const row = (name: string) => lab.page.locator('tr', { hasText: name })
    await expect.poll(() => row('waits first').getByTestId('queue-position').innerText(), { timeout: 15_000 }).toMatch(/next in line/)
    expect(await row('waits second').getByTestId('queue-position').innerText()).toMatch(/#2 in line/)
    await screenshot(lab.page, 'runs-queue-1-in-line')

    // Move the second one ahead.
    await row('waits second').getByTestId('action-more').click()
    await lab.page.getByTestId('action-earlier').click()
    await expect.poll(() => row('waits second').getByTestId('queue-position').innerText()).toMatch(/next in line/)
    expect(await row('waits first').getByTestId('queue-position').innerText()).toMatch(/#2 in line/)

    // Cancel one: it never ran and can be resumed later.
    await row('waits second').getByTestId('action-cancel').click()
    await expect.poll(() => row('waits second').locator('[data-status]').getAttribute('data-status')).toBe('stopped')
    await expect.poll(() => row('waits first').getByTestId('queue-position').innerText()).toMatch(/next in line/)

    // Delete the other while it waits: no "stop it first".
    await row('waits first').getByTestId('action-more').click()
    expect(await lab.page.getByTestId('action-delete').isDisabled()).toBe(false)
    await lab.page.getByTestId('action-delete').click()
    await lab.page.getByTestId('confirm-delete').click()
    await expect.poll(() => row('waits first').count()).toBe(0)
    await screenshot(lab.page, 'runs-queue-2-after')
    // The training run cannot be deleted from its menu until it is stopped.
    await row('trains now').getByTestId('action-more').click()
    expect(await lab.page.getByTestId('action-delete').isDisabled()).toBe(true)
    await lab.page.keyboard.press('Escape')
    // Cancelled between checkpoints: one step number, and where a resume starts (its last checkpoint, or the start).
    await expect.poll(() => lab.service.runs.metrics(long.runId).length, { timeout: 60_000 }).toBeGreaterThan(0)
    await call('jobs.cancel', { jobId: long.jobId })
    await expect.poll(() => row('trains now').locator('[data-status]').getAttribute('data-status'), { timeout: 30_000 }).toBe('stopped')
    await row('trains now').click()
    await lab.page.getByTestId('nav-training').click()
    await expect.poll(() => lab.page.getByTestId('training-eta').innerText(), { timeout: 10_000 }).toMatch(/^stopped at step [\d,]+ · resumes from (the start|step [\d,]+)$/)
  })
})
