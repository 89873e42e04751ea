/// <reference lib="dom" />
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Browser } from 'playwright-core'
import { launchBrowser, newPage, screenshot, startLab } from '../helpers/browser'
import type { RunningServer } from '../../src/server/server'
import { contentSecurityPolicy } from '../../src/shared/csp'

let browser: Browser
let server: RunningServer
let dataDir: string

beforeAll(async () => {
  ;({ server, dataDir } = await startLab())
  browser = await launchBrowser()
})
afterAll(async () => {
  await browser?.close()
  await server?.close()
})

describe('app shell in browser mode', () => {
  it('opens with the token, shows the backend from a real system.info call, and hides the token', async () => {
    const page = await newPage(browser)
    const errors: string[] = []
    page.on('pageerror', (e) => errors.push(e.message))
    await page.goto(server.openUrl)
    await page.getByTestId('backend-badge').waitFor()
    const badge = await page.getByTestId('backend-badge').innerText()
    expect(badge.toLowerCase()).toMatch(/^\s*(native|wasm|cpu|webgpu|tensorflow)\b/)
    expect(await page.getByTestId('data-dir').innerText()).toBe(dataDir)
    // Why this backend: forced, the only one that loads, or the step times measured on each.
    expect(await page.getByTestId('backend-choice').innerText()).toMatch(/forced|only backend|fastest measured( \(kept from [\d-]+\))?: \w+ [\d.]+ ms vs /)
    const remeasure = page.getByTestId('remeasure-backends')
    if (await remeasure.count()) {
      await remeasure.click()
      expect(await page.getByTestId('remeasured').innerText()).toMatch(/next start \(or job\) measures the backends again/)
    }
    expect(await page.getByTestId('status-bar').innerText()).toMatch(/Browser mode · connected/)
    expect(page.url()).not.toContain('token=')
    // A tab icon of its own (inline: no request, nothing for the CSP to refuse).
    expect(await page.locator('link[rel="icon"]').getAttribute('href')).toMatch(/^data:image\/svg\+xml,/)
    await page.getByTestId('run-doctor').click()
    await page.getByTestId('doctor-report').waitFor()
    expect(await page.getByTestId('doctor-report').innerText()).toMatch(/Diagnosis/)
    await screenshot(page, 'shell-system-dark')
    expect(errors).toEqual([])
  })

  it('renders the light theme', async () => {
    const page = await newPage(browser, 'light')
    await page.goto(server.openUrl)
    await page.getByTestId('backend-badge').waitFor()
    await screenshot(page, 'shell-system-light')
    const bg = await page.evaluate(() => getComputedStyle(document.body).backgroundColor)
    expect(bg).toBe('rgb(246, 247, 249)')
  })

  it('runs under the one Content-Security-Policy: the header and the built meta tag (src/shared/csp.ts)', async () => {
    const page = await newPage(browser)
    const violations: string[] = []
    page.on('console', (m) => {
      if (/Content Security Policy/i.test(m.text())) violations.push(m.text())
    })
    const res = await page.goto(server.openUrl)
    expect(res?.headers()['content-security-policy']).toBe(contentSecurityPolicy({ delivery: 'header' }))
    // The tag the build put into out/renderer/index.html (Electron's file:// window has only this one).
    expect(await page.locator('meta[http-equiv="Content-Security-Policy"]').getAttribute('content')).toBe(contentSecurityPolicy({ delivery: 'meta' }))
    await page.getByTestId('backend-badge').waitFor()
    expect(await page.getByTestId('status-bar').innerText()).toMatch(/Browser mode · connected/)
    expect(violations).toEqual([])
  })

  it('without the token the page says it cannot connect', async () => {
    const page = await newPage(browser)
    await page.goto(server.url)
    await page.getByText(/No access token/).first().waitFor({ timeout: 15_000 })
    await screenshot(page, 'shell-no-token')
  })
})
