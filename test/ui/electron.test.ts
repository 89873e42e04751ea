/// <reference lib="dom" />
// Electron smoke test: runs where the Electron binary exists; elsewhere it skips and says why.
import { describe, expect, it } from 'vitest'
import { createRequire } from 'node:module'
import fs from 'node:fs'
import path from 'node:path'
import { _electron as electron } from 'playwright-core'
import { ROOT, SHOTS, trainingStatus } from '../helpers/browser'
import { tempDir } from '../helpers/service'

const require = createRequire(import.meta.url)

function electronBinary(): { path?: string; why?: string } {
  try {
    const p = require('electron') as unknown
    return typeof p === 'string' && fs.existsSync(p) ? { path: p } : { why: 'the electron package returned no binary path' }
  } catch (err) {
    return { why: `the Electron binary is not installed (${String((err as Error).message).split('\n')[0]}); offline installs skip its download` }
  }
}

const bin = electronBinary()
if (!bin.path) console.log(`[electron smoke] SKIPPED: ${bin.why}`)

describe.skipIf(!bin.path)('Electron shell (smoke)', () => {
  it('opens the window, exposes window.lab over IPC and shows the backend', async () => {
    const app = await electron.launch({
      executablePath: bin.path,
      args: [ROOT, '--no-sandbox'],
      env: { ...process.env, SCORE_LAB_HOME: tempDir('score-lab-electron-') }
    })
    const page = await app.firstWindow()
    await page.getByTestId('backend-badge').waitFor({ timeout: 60_000 })
    const transport = await page.evaluate(() => (window as unknown as { lab: { transport: string } }).lab.transport)
    expect(transport).toBe('ipc')
    const nodeVisible = await page.evaluate(() => typeof (globalThis as { require?: unknown }).require)
    expect(nodeVisible).toBe('undefined')
    fs.mkdirSync(SHOTS, { recursive: true })
    await page.screenshot({ path: path.join(SHOTS, 'electron-shell.png') })

    // The same flow as the browser-mode tests, over IPC: a toy run trains, pauses, continues,
    // writes a checkpoint, and a sampler draws from it.
    await page.getByTestId('nav-runs').click()
    await page.keyboard.press('Alt+N')
    await page.getByTestId('preset-toy-quick').click()
    await page.getByTestId('f-steps').fill('400')
    await page.getByTestId('f-checkpointEvery').fill('200')
    await page.getByTestId('run-name-input').fill('electron run')
    await page.getByTestId('start-run').click()
    const count = async () => Number(await page.getByTestId('curve-points').getAttribute('data-count'))
    await expect.poll(count, { timeout: 60_000 }).toBeGreaterThan(0)
    await page.keyboard.press('Alt+P')
    await expect.poll(() => trainingStatus(page), { timeout: 20_000 }).toBe('paused')
    await page.getByTestId('training-continue').click()
    await page.getByTestId('checkpoint-row').first().waitFor({ timeout: 120_000 })
    await page.getByTestId('nav-sample').click()
    await page.getByTestId('s-sampler').selectOption('euler_maruyama')
    await page.getByTestId('s-steps').fill('30')
    await page.getByTestId('sample-run-button').click()
    await page.getByTestId('sample-grid').waitFor({ timeout: 120_000 })
    expect(await page.getByTestId('sample-caption').innerText()).toMatch(/NFE 30/)
    await page.screenshot({ path: path.join(SHOTS, 'electron-sample.png') })
    await app.close()
  })
})
