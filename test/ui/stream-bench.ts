// Benchmark, not a test: how the training view holds up while a run streams metrics at full
// speed. A synthetic run gets a long history (metrics.jsonl) and then batches of points every
// 250 ms (as the lab flushes them) through the real browser-mode server; the page records the
// time between animation frames. Needs the built renderer (npm run build).
//   npx tsx test/ui/stream-bench.ts [historyPoints=200000] [stepsPerSecond=4000] [seconds=15]
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { chromium } from 'playwright-core'
import { createLabService } from '../../src/lab/service'
import { startServer } from '../../src/server/server'
import type { MetricPoint, TrainConfig } from '../../src/shared/contract'
import { FAKE_BACKEND, tempDir } from '../helpers/service'

// (test/helpers/browser.ts needs Vitest's __dirname; this script runs under plain tsx.)
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')

const [history = 200_000, rate = 4000, seconds = 15] = process.argv.slice(2).map(Number)
const config: TrainConfig = {
  dataset: 'toy-gmm', model: 'mlp', sde: { name: 'vpsde', params: {} }, steps: 10_000_000, batchSize: 256, lr: 1e-3, warmup: 0, gradClip: 0,
  ema: 0, weighting: 'std2', reduction: 'sum', seed: 0, checkpointEvery: 1_000_000, keepLast: 3, keepBest: true, previewEvery: 0, centered: false, randomFlip: false
}

const t0 = Date.now() - history * 10
const point = (step: number): MetricPoint => ({
  step,
  wallTime: t0 + step * 10,
  loss: 2 * Math.exp(-step / 20_000) + 0.5 + 0.3 * Math.sin(step * 12.9898) ** 2,
  gradNorm: 1 + Math.random(),
  lr: 1e-3,
  imagesPerSec: 20_000 + 500 * Math.random(),
  buckets: Array.from({ length: 10 }, (_, i) => 3 / (i + 1) + Math.random() * 0.1)
})

const service = createLabService({ dataDir: tempDir('score-lab-bench-'), shell: 'browser', backend: async () => FAKE_BACKEND })
const server = await startServer({ service, port: 0, staticDir: path.join(ROOT, 'out/renderer') })
const run = service.runs.update(service.runs.create(config, 'synthetic stream', null).id, { status: 'running', backend: 'synthetic' })
const lines: string[] = []
for (let s = 1; s <= history; s++) lines.push(JSON.stringify(point(s)))
fs.writeFileSync(service.runs.metricsFile(run.id), lines.join('\n') + '\n')

const browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', headless: true, args: ['--no-sandbox', '--disable-gpu'] })
const page = await (await browser.newContext({ viewport: { width: 1280, height: 800 }, colorScheme: 'dark' })).newPage()
await page.goto(server.openUrl)
await page.getByTestId('nav-training').click()
const loadStart = Date.now()
await page
  .waitForFunction((n) => Number(document.querySelector('[data-testid="curve-points"]')?.getAttribute('data-count')) >= n, history, { timeout: 120_000 })
  .catch(async (err) => {
    await page.screenshot({ path: path.join(ROOT, 'test-results/bench-stream-load.png') })
    throw err
  })
console.log(`loaded ${history.toLocaleString()} points of history in ${Date.now() - loadStart} ms`)

// A string, not a function: tsx's name helpers do not exist in the page.
await page.evaluate(`(() => {
  window.__frames = []
  let last = performance.now()
  const tick = (now) => {
    window.__frames.push(now - last)
    last = now
    requestAnimationFrame(tick)
  }
  requestAnimationFrame(tick)
})()`)

let step = history
const perFlush = Math.max(1, Math.round(rate / 4))
const started = Date.now()
while (Date.now() - started < seconds * 1000) {
  const points = Array.from({ length: perFlush }, () => point(++step))
  service.events.emit({ type: 'metrics', runId: run.id, points })
  service.events.emit({ type: 'progress', jobId: 'synthetic', fraction: step / config.steps, etaSeconds: (config.steps - step) / rate, rate, unit: 'steps/s' })
  await new Promise((r) => setTimeout(r, 250))
}
// Interact while it streams: zoom with the wheel over the plot and hover for tooltips.
const box = (await page.locator('[data-testid="loss-curve"] canvas').boundingBox())!
await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2)
for (let i = 0; i < 5; i++) await page.mouse.wheel(0, -200)
await page.waitForTimeout(500)

const frames = (await page.evaluate('window.__frames.slice(1)')) as number[]
const shown = Number(await page.getByTestId('curve-points').getAttribute('data-count'))
await page.screenshot({ path: path.join(ROOT, 'test-results/bench-stream.png') })
const sorted = [...frames].sort((a, b) => a - b)
const q = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!.toFixed(1)
console.log(
  `history ${history.toLocaleString()} + streamed ${(step - history).toLocaleString()} points at ${rate} steps/s for ${seconds}s; chart shows ${shown.toLocaleString()}\n` +
    `frames ${frames.length}: median ${q(0.5)} ms, p95 ${q(0.95)} ms, p99 ${q(0.99)} ms, max ${sorted.at(-1)!.toFixed(1)} ms, over 50 ms: ${frames.filter((f) => f > 50).length}`
)
await browser.close()
await server.close()
await service.close()
