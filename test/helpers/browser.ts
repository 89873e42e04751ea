// Launches Debian's Chromium through playwright-core (browsers cannot be downloaded here)
// and a real browser-mode server over the built renderer.
import fs from 'node:fs'
import path from 'node:path'
import { afterAll, beforeAll } from 'vitest'
import { chromium, type Browser, type Page } from 'playwright-core'
import { startServer, type RunningServer } from '../../src/server/server'
import { createLabService, type LabService } from '../../src/lab/service'
import { tempDir } from './service'

export const ROOT = path.resolve(__dirname, '../..')
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'
export const SHOTS = path.join(ROOT, 'test-results')

export async function launchBrowser(): Promise<Browser> {
  if (!fs.existsSync(CHROMIUM)) throw new Error(`Chromium not found at ${CHROMIUM}: apt-get install chromium (or set CHROMIUM_PATH)`)
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic']
  })
}

export async function startLab(opts: { dataDir?: string } = {}): Promise<{ server: RunningServer; dataDir: string; service: LabService }> {
  const staticDir = path.join(ROOT, 'out/renderer')
  if (!fs.existsSync(path.join(staticDir, 'index.html'))) throw new Error('out/renderer is not built: run npm run build (scripts/ui-tests.mjs does this)')
  const dataDir = opts.dataDir ?? tempDir('score-lab-ui-')
  const service = createLabService({ dataDir, shell: 'browser' })
  const server = await startServer({ service, port: 0, staticDir })
  return { server, dataDir, service }
}

export async function screenshot(page: Page, name: string): Promise<string> {
  fs.mkdirSync(SHOTS, { recursive: true })
  const file = path.join(SHOTS, `${name}.png`)
  await page.screenshot({ path: file, fullPage: false })
  return file
}

export async function newPage(browser: Browser, colorScheme: 'light' | 'dark' = 'dark'): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, colorScheme })
  const page = await context.newPage()
  page.on('pageerror', (err) => console.error('[page error]', err.message))
  return page
}

/** The Training panel's run status (data-status on its header: running, paused, finished…). */
export function trainingStatus(page: Page): Promise<string | null> {
  return page.getByTestId('training-header').locator('[data-status]').getAttribute('data-status')
}

export interface LabPage {
  server: RunningServer
  service: LabService
  browser: Browser
  page: Page
  /** Uncaught errors of the page, for a test to expect none. */
  errors: string[]
}

/**
 * A fresh lab in browser mode and one Chromium page on it, for a whole UI test file: started in
 * beforeAll, closed in afterAll. Fields are set once beforeAll has run.
 */
export function useLabPage(): LabPage {
  const lab = { errors: [] as string[] } as LabPage
  beforeAll(async () => {
    ;({ server: lab.server, service: lab.service } = await startLab())
    lab.browser = await launchBrowser()
    lab.page = await newPage(lab.browser)
    lab.page.on('pageerror', (e) => lab.errors.push(e.message))
  })
  afterAll(async () => {
    await lab.browser?.close()
    await lab.server?.close()
    await lab.service?.close()
  })
  return lab
}
