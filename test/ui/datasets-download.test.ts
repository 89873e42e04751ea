/// <reference lib="dom" />
// The Datasets panel downloading a set: FashionMNIST served by a local, throttled mirror (no
// system copy, no internet), so the card shows the progress bar with rate and ETA; Cancel
// stops it, a second Download finishes and verifies against the official checksums.
import crypto from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Browser, Page } from 'playwright-core'
import { launchBrowser, newPage, ROOT, screenshot } from '../helpers/browser'
import { tempDir } from '../helpers/service'
import { createLabService, type LabService } from '../../src/lab/service'
import { startServer, type RunningServer } from '../../src/server/server'
import { FASHION_MNIST } from '../../src/lab/datasets/registry'

const FASHION = '/usr/share/datasets/fashion-mnist'
/** Bytes per second the mirror sends: the 30 MB set takes about five seconds. */
const RATE = 6_000_000

/** Size and MD5 of the file the mirror serves. */
function served(name: string): { bytes: number; md5: string } {
  const body = fs.readFileSync(path.join(FASHION, name))
  return { bytes: body.length, md5: crypto.createHash('md5').update(body).digest('hex') }
}

let mirror: Server
let service: LabService
let server: RunningServer
let browser: Browser
let page: Page
const errors: string[] = []

beforeAll(async () => {
  mirror = createServer((req, res) => {
    const file = path.join(FASHION, path.basename(req.url ?? ''))
    if (!fs.existsSync(file)) return void res.writeHead(404).end()
    const body = fs.readFileSync(file)
    res.writeHead(200, { 'content-length': body.length })
    const chunk = 64 * 1024
    let at = 0
    const tick = setInterval(() => {
      if (res.destroyed) return clearInterval(tick)
      res.write(body.subarray(at, at + chunk))
      at += chunk
      if (at >= body.length) {
        clearInterval(tick)
        res.end()
      }
    }, (1000 * chunk) / RATE)
    res.on('close', () => clearInterval(tick))
  })
  await new Promise<void>((r) => mirror.listen(0, '127.0.0.1', r))
  const base = `http://127.0.0.1:${(mirror.address() as AddressInfo).port}/`
  service = createLabService({
    dataDir: tempDir('score-lab-ui-'),
    shell: 'browser',
    datasets: {
      mirrors: { 'fashion-mnist': [base] },
      systemDirs: { 'fashion-mnist': [] },
      // Debian recompressed the .gz files: same images (the raw SHA-256s still hold), other MD5s and sizes.
      datasets: { 'fashion-mnist': { files: FASHION_MNIST.files.map((f) => ({ ...f, ...served(f.name) })) } }
    }
  })
  server = await startServer({ service, port: 0, staticDir: path.join(ROOT, 'out/renderer') })
  browser = await launchBrowser()
  page = await newPage(browser)
  page.on('pageerror', (e) => errors.push(e.message))
})
afterAll(async () => {
  await browser?.close()
  await server?.close()
  await new Promise<void>((r) => mirror?.close(() => r()))
})

describe.skipIf(!fs.existsSync(FASHION))('downloading a data set in browser mode', () => {
  it('shows progress with rate and ETA, cancels, then downloads and verifies', async () => {
    await page.goto(server.openUrl)
    await page.getByTestId('nav-datasets').click()
    const card = page.getByTestId('dataset-fashion-mnist')
    await card.waitFor()
    expect(await card.getByTestId('dataset-get').innerText()).toMatch(/Download/)
    await card.click()

    await card.getByTestId('dataset-get').click()
    await card.getByTestId('dataset-progress').waitFor()
    await expect.poll(() => card.getByTestId('dataset-progress').innerText(), { timeout: 15_000, interval: 100 }).toMatch(/\d+%\s+[\d.]+ MB\/s\s+\S+ left/)
    expect(await card.getAttribute('data-state')).toBe('getting')
    await screenshot(page, 'datasets-5-downloading')

    await card.getByTestId('dataset-cancel').click()
    await expect.poll(() => card.getAttribute('data-state'), { timeout: 15_000 }).toBe('not-present')
    expect(await card.getByTestId('dataset-note').innerText()).toMatch(/^Cancelled\./)

    await card.getByTestId('dataset-get').click()
    await expect.poll(() => card.getAttribute('data-state'), { timeout: 120_000, interval: 250 }).toBe('verified')
    await page.getByTestId('dataset-preview').waitFor({ timeout: 60_000 })
    expect(await card.innerText()).toMatch(/Checked by/)
    expect(errors).toEqual([])
  })
})
