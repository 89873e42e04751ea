/// <reference lib="dom" />
// The studies of issue 20 in the GUI, against the real backend. (1) A run group of three loss
// weightings on toy-gmm, made through the "New run group…" dialog: it trains, its chip ticks its
// runs, the Training view overlays their three curves and the group table lists each run's value
// and final loss. (2) The likelihood from the Studies panel equals the CLI's for the same
// checkpoint, points and seed, with its per-point histogram; the Training view's likelihood curve
// gains a point per kept checkpoint from "Measure every checkpoint". (3) A latent interpolation
// between two FashionMNIST test images (and a dropped file for one end), with the strip, the
// GIF, the originals and the round-trip numbers.
import { execFile } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'
import { encodePng } from '../../src/engine/images/png'
import { screenshot, useLabPage } from '../helpers/browser'
import { tempDir } from '../helpers/service'
import { createDispatch } from '../../src/lab/dispatch'
import { PRESETS } from '../../src/lab/catalog'
import type { RunSummary, SampleRecord } from '../../src/shared/contract'

const lab = useLabPage()
const CLI = path.resolve(__dirname, '../../bin/score-lab.mjs')
const FASHION = '/usr/share/datasets/fashion-mnist'
const toy = PRESETS.find((p) => p.name === 'toy-quick')!.config
const fashion = PRESETS.find((p) => p.name === 'fashion-mnist-tutorial')!.config
const run = promisify(execFile)

async function ok<T>(method: string, input: unknown): Promise<T> {
  const env = await createDispatch(lab.service.handlers)(method, input)
  if (!env.ok) throw new Error(env.error.message)
  return env.result as T
}
async function waitJob(jobId: string): Promise<void> {
  await expect.poll(() => lab.service.jobs.get(jobId).state, { timeout: 300_000, interval: 500 }).toBe('finished')
}
async function open(): Promise<void> {
  if (lab.page.url() === 'about:blank') await lab.page.goto(lab.server.openUrl)
}
/** Opens a run in a panel through a link (#run=…&panel=…), as the Training header's "Copy link" does. */
async function openLink(runId: string, panel: string): Promise<void> {
  await open()
  await lab.page.evaluate(([id, p]) => (location.hash = `run=${id}&panel=${p}`), [runId, panel])
}

describe('the studies of issue 20', () => {
  it('runs a group of three weightings on toy-gmm, overlays their curves and lists their values and final losses', async () => {
    await open()
    // Studies sits after Compare in the sidebar.
    expect(await lab.page.locator('nav[aria-label="Panels"] button').evaluateAll((bs) => bs.map((b) => b.getAttribute('data-testid')))).toEqual([
      'nav-system', 'nav-runs', 'nav-training', 'nav-datasets', 'nav-sample', 'nav-control', 'nav-compare', 'nav-studies'
    ])
    await lab.page.getByTestId('nav-runs').click()
    await lab.page.getByTestId('new-group').click()
    await lab.page.getByTestId('group-dialog').waitFor()
    await lab.page.getByTestId('group-recipe').selectOption('preset:toy-quick')
    await lab.page.getByTestId('group-setting').selectOption('weighting')
    // The registry's weightings, as checkboxes.
    for (const w of ['std2', 'likelihood', 'vp_exp', 'uniform']) await lab.page.getByTestId(`group-value-${w}`).waitFor()
    expect(await lab.page.getByTestId('group-problem').innerText()).toMatch(/Give 2 to 8 values/)
    for (const w of ['std2', 'likelihood', 'uniform']) await lab.page.getByTestId(`group-value-${w}`).check()
    await lab.page.getByTestId('group-steps').fill('40')
    await lab.page.getByTestId('group-name').fill('weights')
    expect(await lab.page.getByTestId('group-preview').innerText()).toMatch(/3 runs of 40 steps.*weights · weighting=std2, weights · weighting=likelihood, weights · weighting=uniform/)
    await screenshot(lab.page, 'studies-1-group-dialog')
    await lab.page.getByTestId('group-start').click()
    await lab.page.getByTestId('group-dialog').waitFor({ state: 'detached' })

    // Three runs, tagged, queued one after another; wait for all three to finish.
    const members = () => lab.service.runs.list().filter((r: RunSummary) => r.tags.includes('group:weights'))
    await expect.poll(() => members().length).toBe(3)
    expect(members().map((r) => r.config.steps)).toEqual([40, 40, 40])
    await expect.poll(() => members().map((r) => r.status).join(','), { timeout: 300_000, interval: 500 }).toBe('finished,finished,finished')
    expect(lab.errors).toEqual([])

    // The group's chip ticks its three runs: one row each, its value and final loss.
    const chip = lab.page.locator('[data-testid="run-group-chip"][data-group="weights"]')
    await chip.click()
    await expect.poll(() => chip.getAttribute('aria-pressed')).toBe('true')
    const rows = lab.page.getByTestId('run-group-row')
    await expect.poll(() => rows.count()).toBe(3)
    expect(await lab.page.getByTestId('run-group-value').allInnerTexts()).toEqual(['std2', 'likelihood', 'uniform'])
    const byValue = new Map(members().map((r) => [r.tags.find((t) => t.startsWith('weighting='))!.slice('weighting='.length), r]))
    const losses = await lab.page.getByTestId('run-group-loss').allInnerTexts()
    for (const [i, w] of ['std2', 'likelihood', 'uniform'].entries()) {
      const last = byValue.get(w)!.lastLoss!
      expect(Number.isFinite(last)).toBe(true)
      // Four significant digits, as the Runs table shows them.
      expect(Math.abs(Number(losses[i]!.replace('★', '').trim()) / last - 1)).toBeLessThan(1e-3)
    }
    console.log(`[ui group] final losses: ${losses.join(', ')}`)
    await expect.poll(() => lab.page.getByTestId('run-group-step').allInnerTexts()).toEqual(['40 / 40', '40 / 40', '40 / 40'])
    // The side-by-side settings of the three ticked runs: the weighting differs.
    expect(await lab.page.locator('[data-testid="runs-compare-row"][data-key="weighting"]').getAttribute('data-differs')).toBe('true')
    await lab.page.getByTestId('run-group').scrollIntoViewIfNeeded()
    await screenshot(lab.page, 'studies-2-group-table')

    // Training overlays the three curves.
    await lab.page.getByTestId('nav-training').click()
    const plot = lab.page.getByTestId('loss-plot')
    await expect.poll(() => plot.getAttribute('data-curves'), { timeout: 20_000 }).toBe('3')
    const colours = (await plot.getAttribute('data-colors'))!.split(' ')
    expect(new Set(colours.map((c) => c.split('=')[0])).size).toBe(3)
    expect(new Set(colours.map((c) => c.split('=')[1])).size).toBe(3)
    await screenshot(lab.page, 'studies-3-group-overlay')
  }, 600_000)

  it('measures the likelihood in the Studies panel to the CLI\'s number for the same checkpoint, points and seed, and every checkpoint from the Training view', async () => {
    const { runId, jobId } = await ok<{ runId: string; jobId: string }>('runs.start', {
      config: { ...toy, steps: 60, checkpointEvery: 20, keepLast: 10, batchSize: 128, previewEvery: 0 },
      name: 'likelihood toy'
    })
    await waitJob(jobId)
    await openLink(runId, 'studies')
    await lab.page.getByTestId('studies-panel').waitFor()
    await expect.poll(() => lab.page.getByTestId('sample-run').inputValue()).toBe(runId)
    await lab.page.getByTestId('sample-checkpoint').waitFor()
    // A toy run: no interpolation, the likelihood in nats.
    await lab.page.getByTestId('interp-toy').waitFor()
    await lab.page.getByTestId('likelihood-count').fill('100')
    await lab.page.getByTestId('likelihood-seed').fill('3')
    await lab.page.getByTestId('likelihood-estimator').selectOption('rademacher')
    await lab.page.getByTestId('likelihood-probes').fill('1')
    expect(await lab.page.getByTestId('likelihood-probes-help').innerText()).toMatch(/K probes average K estimates, which is 1\/K the variance at K× the cost/)
    await lab.page.getByTestId('likelihood-run').click()
    const summary = lab.page.getByTestId('likelihood-summary')
    await expect
      .poll(async () => {
        const error = await lab.page.getByTestId('likelihood-error').innerText({ timeout: 100 }).catch(() => null)
        if (error) throw new Error(error)
        return summary.isVisible()
      }, { timeout: 180_000, interval: 300 })
      .toBe(true)
    const shown = await summary.innerText()
    expect(shown).toMatch(/^NLL -?\d+\.\d{4} nats over 100 points \(NFE \d+\)$/)
    expect(await lab.page.getByTestId('likelihood-histogram').getAttribute('data-count')).toBe('100')
    await lab.page.getByTestId('likelihood-result').scrollIntoViewIfNeeded()
    await screenshot(lab.page, 'studies-4-likelihood')

    // The CLI on the same checkpoint (the newest), points and seed: the same number, the same rounding.
    const { stdout } = await run(process.execPath, [CLI, 'likelihood', '--checkpoint', runId, '--n', '100', '--seed', '3', '--json', '--data-dir', lab.service.dataDir], { encoding: 'utf8', timeout: 240_000 })
    const json = JSON.parse(stdout.trim().split('\n').at(-1)!) as { nllNats: number; bitsPerDim: number | null; count: number }
    expect(json.bitsPerDim).toBeNull()
    console.log(`[ui likelihood] GUI: ${shown}; CLI: ${json.nllNats}`)
    expect(shown.match(/^NLL (-?\d+\.\d{4}) nats/)![1]).toBe(json.nllNats.toFixed(4))

    // The Training view: the run's likelihood against step (the two points measured so far are at step 60), then every kept checkpoint.
    await openLink(runId, 'training')
    const card = lab.page.getByTestId('likelihood-curve')
    await expect.poll(() => card.getAttribute('data-points'), { timeout: 20_000 }).toBe('2')
    await lab.page.getByTestId('likelihood-measure-all').click()
    await expect.poll(() => card.getAttribute('data-points'), { timeout: 240_000, interval: 500 }).toBe('5')
    // Two ways of measuring (100 points seed 3, 512 points seed 0): two lines, the second over steps 20, 40, 60.
    expect(await card.getAttribute('data-series')).toBe('2')
    const kept = await ok<{ step: number; count: number }[]>('runs.likelihoods', { runId })
    expect(kept.filter((p) => p.count === 512).map((p) => p.step)).toEqual([20, 40, 60])
    expect(await lab.page.getByTestId('likelihood-curve-latest').innerText()).toMatch(/^step 60: NLL -?\d+\.\d{4} nats$/)
    expect(lab.errors).toEqual([])
    await card.scrollIntoViewIfNeeded()
    await screenshot(lab.page, 'studies-5-likelihood-curve')
  }, 600_000)

  it.skipIf(!fs.existsSync(FASHION))('interpolates between two test images, and from a dropped file, with the strip, the GIF, the originals and the round trip', async () => {
    await waitJob((await ok<{ jobId: string }>('datasets.get', { name: 'fashion-mnist' })).jobId)
    const { runId, jobId } = await ok<{ runId: string; jobId: string }>('runs.start', {
      config: { ...fashion, steps: 4, batchSize: 8, checkpointEvery: 4, previewEvery: 0 },
      name: 'tiny fashion'
    })
    await waitJob(jobId)
    await openLink(runId, 'studies')
    await expect.poll(() => lab.page.getByTestId('sample-run').inputValue()).toBe(runId)
    await lab.page.getByTestId('interpolate-card').waitFor()
    await lab.page.getByTestId('interp-index-0').fill('3')
    await lab.page.getByTestId('interp-index-1').fill('7')
    // Each end's thumbnail is the test image at its index.
    await expect.poll(() => lab.page.getByTestId('interp-caption-0').innerText(), { timeout: 10_000 }).toMatch(/^test image 3 of 10,000 · \d /)
    await expect.poll(() => lab.page.getByTestId('interp-caption-1').innerText(), { timeout: 10_000 }).toMatch(/^test image 7 of 10,000/)
    expect(await lab.page.getByTestId('interp-thumb-0').getAttribute('src')).toMatch(/^data:image\/png/)
    await lab.page.getByTestId('interp-frames').fill('6')
    await lab.page.getByTestId('interp-tolerance').selectOption({ label: '1e-3' })
    await lab.page.getByTestId('interp-run').click()
    const result = lab.page.getByTestId('interp-result')
    await expect
      .poll(async () => {
        const error = await lab.page.getByTestId('interp-error').innerText({ timeout: 100 }).catch(() => null)
        if (error) throw new Error(error)
        return result.isVisible()
      }, { timeout: 300_000, interval: 300 })
      .toBe(true)
    const id = (await result.getAttribute('data-sample-id'))!
    const record = lab.service.runs.samples(runId).get(id) as SampleRecord
    expect(record.interpolation).toMatchObject({ images: [3, 7], split: 'test', frames: 6 })
    expect(record.settings).toMatchObject({ rtol: 1e-3, atol: 1e-3 })
    const numbers = await lab.page.getByTestId('interp-numbers').innerText()
    const i = record.interpolation!
    expect(numbers).toBe(
      `round trip max |Δ| ${i.reconstruction.maxAbs.toExponential(2)} · rms ${i.reconstruction.rms.toExponential(2)} (pixels in [0,1]); NFE ${i.nfeEncode} to encode, ${i.nfeDecode} to decode`
    )
    expect(await lab.page.getByTestId('interp-explain').innerText()).toMatch(/invertible.*tolerance/)
    // Four training steps are far from a flow that gives the originals back: the card says so.
    expect(await lab.page.getByTestId('interp-warning').count()).toBe(i.reconstruction.maxAbs > 0.1 ? 1 : 0)
    // The strip large and crisp; the GIF and the originals loaded.
    const strip = lab.page.getByTestId('interp-strip')
    await expect.poll(() => strip.evaluate((img) => (img as HTMLImageElement).naturalWidth)).toBe(record.width)
    expect(await strip.evaluate((img) => getComputedStyle(img).imageRendering)).toBe('pixelated')
    expect(((await strip.boundingBox())!.width / record.width)).toBeGreaterThanOrEqual(2)
    await expect.poll(() => lab.page.getByTestId('interp-gif').getAttribute('src')).toMatch(/^data:image\/gif/)
    await expect.poll(() => lab.page.getByTestId('interp-originals').getAttribute('src')).toMatch(/^data:image\/png/)
    const [download] = await Promise.all([lab.page.waitForEvent('download'), lab.page.getByTestId('interp-export-gif').click()])
    expect(download.suggestedFilename()).toBe('fashion-mnist-interpolate-test-3-7-6f-step4.gif')
    expect(lab.errors).toEqual([])
    await result.scrollIntoViewIfNeeded()
    await screenshot(lab.page, 'studies-6-interpolation')
    // The interpolation is no plain sample: the Sample panel's history does not list it.
    await lab.page.getByTestId('nav-sample').click()
    await lab.page.getByTestId('sample-empty').waitFor()

    // A file dropped on end B replaces its index: sent at the run's size, in grey.
    await lab.page.getByTestId('nav-studies').click()
    const W = 40
    const rgba = new Uint8Array(W * W * 4)
    for (let y = 0; y < W; y++) for (let x = 0; x < W; x++) rgba.set([x * 6, y * 6, (x + y) % 2 ? 255 : 0, 255], 4 * (y * W + x))
    const file = path.join(tempDir('score-lab-interp-'), 'picture.png')
    fs.writeFileSync(file, encodePng({ width: W, height: W, data: rgba }))
    const bytes = [...fs.readFileSync(file)]
    await lab.page.evaluate((b) => {
      const dt = new DataTransfer()
      dt.items.add(new File([new Uint8Array(b)], 'dropped.png', { type: 'image/png' }))
      const end = document.querySelector('[data-testid="interp-end-1"]')!
      end.dispatchEvent(new DragEvent('dragover', { dataTransfer: dt, bubbles: true, cancelable: true }))
      end.dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }))
    }, bytes)
    await expect.poll(() => lab.page.getByTestId('interp-caption-1').innerText(), { timeout: 10_000 }).toBe('dropped.png, at 28×28, grey')
    expect(await lab.page.getByTestId('interp-index-1').isDisabled()).toBe(true)
    await lab.page.getByTestId('interp-frames').fill('3')
    await lab.page.getByTestId('interp-tolerance').selectOption({ label: '1e-2' })
    await lab.page.getByTestId('interp-run').click()
    await expect.poll(async () => {
      const error = await lab.page.getByTestId('interp-error').innerText({ timeout: 100 }).catch(() => null)
      if (error) throw new Error(error)
      return result.getAttribute('data-sample-id')
    }, { timeout: 300_000, interval: 300 }).not.toBe(id)
    const second = lab.service.runs.samples(runId).get((await result.getAttribute('data-sample-id'))!) as SampleRecord
    expect(second.interpolation).toMatchObject({ images: [3, 'file'], frames: 3 })
    await lab.page.getByTestId('interp-end-1').scrollIntoViewIfNeeded()
    await screenshot(lab.page, 'studies-7-interpolation-dropped')
  }, 600_000)
})
