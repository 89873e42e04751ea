/// <reference lib="dom" />
// The lab going away under an open tab (browser mode, real backend): with a run training, the
// server is closed; the whole app is covered by the disconnected overlay (since when, retry
// countdown and attempt, Retry now), nothing behind it can be used or looks live, and the
// token shows up in no console message. A new server on the same port and data folder keeps
// the token, so the tab reconnects by itself, reloads the runs and drops the overlay. Then the
// token is rotated (--new-token): the tab says its token is refused (not "server down") and
// takes the new URL pasted into the overlay. A reload keeps working from sessionStorage.
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Browser, ConsoleMessage, Page } from 'playwright-core'
import { launchBrowser, newPage, ROOT, screenshot, trainingStatus } from '../helpers/browser'
import { tempDir } from '../helpers/service'
import { createLabService, type LabService } from '../../src/lab/service'
import { startServer, type RunningServer } from '../../src/server/server'

let browser: Browser
let page: Page
let service: LabService
let server: RunningServer
let port = 0
const dataDir = tempDir('score-lab-ui-disconnect-')
const staticDir = path.join(ROOT, 'out/renderer')
const consoleLines: string[] = []
const errors: string[] = []
const tokens = new Set<string>()

/** A lab process coming up on the data folder (and, after the first, on the same port). */
async function up(opts: { newToken?: boolean } = {}): Promise<void> {
  service = createLabService({ dataDir, shell: 'browser' })
  server = await startServer({ service, port, staticDir, ...opts })
  port = server.port
  tokens.add(server.token)
}
/** The lab process going away: its sockets, then its jobs. */
async function down(): Promise<void> {
  await server.close()
  await service.close()
}

const overlay = () => page.getByTestId('disconnected-overlay')
const consoleWithToken = () => consoleLines.filter((l) => [...tokens].some((t) => l.includes(t)))

beforeAll(async () => {
  await up()
  browser = await launchBrowser()
  page = await newPage(browser)
  page.on('pageerror', (e) => errors.push(e.message))
  page.on('console', (m: ConsoleMessage) => consoleLines.push(`${m.type()}: ${m.text()} @ ${m.location().url}`))
})
afterAll(async () => {
  await browser?.close()
  await server?.close()
  await service?.close()
})

describe('the lab going away under an open tab', () => {
  it('starts a run, with the token gone from the address bar', async () => {
    await page.goto(server.openUrl)
    await page.getByTestId('backend-badge').waitFor()
    expect(page.url()).not.toContain('token')
    expect(await page.evaluate(() => sessionStorage.getItem('score-lab-token'))).toBe(server.token)
    await page.getByTestId('nav-runs').click()
    await page.keyboard.press('Alt+N')
    await page.getByTestId('preset-toy-quick').click()
    await page.getByTestId('f-steps').fill('200000')
    await page.getByTestId('f-batchSize').fill('64')
    await page.getByTestId('run-name-input').fill('long run')
    await page.getByTestId('start-run').click()
    await page.getByTestId('training-header').waitFor()
    await expect.poll(() => trainingStatus(page), { timeout: 60_000 }).toBe('running')
    await expect.poll(async () => page.getByTestId('training-eta').innerText(), { timeout: 60_000 }).toMatch(/left/)
    expect(await overlay().isVisible()).toBe(false)
  })

  it('covers the app when the server closes: since when, retry countdown, nothing usable or live', async () => {
    await down()
    await overlay().waitFor({ state: 'visible', timeout: 10_000 })
    const text = await overlay().innerText()
    expect(text).toMatch(/Lost the connection to the lab/)
    expect(text).toMatch(/Disconnected since \d\d:\d\d:\d\d/)
    expect(text).toMatch(/Nothing here is live/)
    await expect.poll(async () => page.getByTestId('reconnect-status').innerText(), { timeout: 10_000 }).toMatch(/(Retrying in \d+ s|Trying to reconnect…) \(attempt ([2-9]|\d\d)\)/)
    expect(await overlay().getAttribute('data-reason')).toBe('down')
    expect(await page.getByTestId('status-bar').innerText()).toMatch(/disconnected|reconnecting/)

    // Everything behind the overlay is inert: no button can be clicked, no shortcut acts.
    for (const region of ['header', 'nav', 'main']) expect(await page.locator(`.shell > ${region}`).getAttribute('inert')).not.toBeNull()
    const usable = await page.evaluate(() => Array.from(document.querySelectorAll('button, input, select, textarea')).filter((b) => !b.closest('[inert]') && !b.closest('dialog[data-testid="disconnected-overlay"]')).length)
    expect(usable).toBe(0)
    await expect(page.getByTestId('training-stop').click({ timeout: 1500 })).rejects.toThrow()
    await expect(page.getByTestId('nav-system').click({ timeout: 1500 })).rejects.toThrow()
    await page.keyboard.press('Alt+1')
    expect(await page.getByTestId('training-header').isVisible()).toBe(true) // still the training view
    // No live look: the backend dot is off, the sidebar's live count is gone, animations stand still.
    expect(await page.getByTestId('backend-dot').getAttribute('class')).toMatch(/\boff\b/)
    expect(await page.locator('.sidebar .live').count()).toBe(0)
    expect(await page.title()).toMatch(/^Disconnected/)
    await screenshot(page, 'disconnect-1-down')

    // Retry now tries at once (and fails: nothing is there).
    const before = await page.getByTestId('reconnect-status').innerText()
    const attempt = (s: string) => Number(/attempt (\d+)/.exec(s)?.[1])
    await page.getByTestId('reconnect-now').click()
    await expect.poll(async () => attempt(await page.getByTestId('reconnect-status').innerText()), { timeout: 5000 }).toBeGreaterThan(attempt(before))
    expect(consoleWithToken()).toEqual([])
  })

  it('reconnects by itself when the lab is back on the same data folder, and reloads the runs', async () => {
    await page.waitForTimeout(3000) // a few attempts fail first
    await up()
    expect(tokens.size).toBe(1) // the same token: it is kept in the data folder
    await overlay().waitFor({ state: 'hidden', timeout: 20_000 })
    expect(await page.getByTestId('status-bar').innerText()).toMatch(/Browser mode · connected/)
    expect(await page.locator('main').getAttribute('inert')).toBeNull()
    expect(await page.title()).not.toMatch(/Disconnected/)
    // The run the old process trained is not running any more, and the tab knows it.
    await expect.poll(() => trainingStatus(page), { timeout: 20_000 }).not.toBe('running')
    await page.getByTestId('nav-runs').click()
    await page.getByTestId('nav-training').click()
    await screenshot(page, 'disconnect-2-back')
    expect(consoleWithToken()).toEqual([])
  })

  it('says the token is refused (not that the lab is down) after --new-token, and takes the new URL', async () => {
    await down()
    await overlay().waitFor({ state: 'visible', timeout: 10_000 })
    await up({ newToken: true })
    expect(tokens.size).toBe(2)
    await expect.poll(async () => overlay().getAttribute('data-reason'), { timeout: 20_000 }).toBe('unauthorized')
    expect(await overlay().innerText()).toMatch(/refuses this tab’s access token[\s\S]*HTTP 401/)
    expect(await page.getByTestId('status-bar').innerText()).toMatch(/access refused|reconnecting/)
    await screenshot(page, 'disconnect-3-refused')
    await page.getByTestId('token-input').fill(server.openUrl)
    await page.getByTestId('token-input').press('Enter')
    await overlay().waitFor({ state: 'hidden', timeout: 10_000 })
    expect(await page.evaluate(() => sessionStorage.getItem('score-lab-token'))).toBe(server.token)

    // A reload still works from sessionStorage (the address bar has no token).
    await page.reload()
    await page.getByTestId('backend-badge').waitFor()
    expect(await page.getByTestId('status-bar').innerText()).toMatch(/connected/)
    expect(await overlay().isVisible()).toBe(false)
    expect(consoleWithToken()).toEqual([])
    expect(consoleLines.length).toBeGreaterThan(0) // the browser did log the failed attempts (without the token)
    if (process.env.SHOW_CONSOLE) console.log(consoleLines.join('\n'))
    expect(errors).toEqual([])
  })
})
