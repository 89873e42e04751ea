/// <reference lib="dom" />
// Training on a cluster from the Runs panel (issue 19): Export to PyTorch… writes the package
// and shows the torchrun commands; Open a run folder… attaches the package's run folder, which
// then shows where it trains and offers Train here instead of the training buttons. The torchrun
// training itself is tested in test/torch (it needs Debian's python3-torch, not a browser).
import fs from 'node:fs'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { screenshot, useLabPage } from '../helpers/browser'
import { createDispatch } from '../../src/lab/dispatch'
import { PRESETS } from '../../src/lab/catalog'
import { tempDir } from '../helpers/service'

const lab = useLabPage()
const FASHION = '/usr/share/datasets/fashion-mnist'

describe.skipIf(!fs.existsSync(FASHION))('export to PyTorch and open a run folder, from the Runs panel', () => {
  it('exports a run as a torchrun package and attaches its run folder, which trains elsewhere', async () => {
    const call = createDispatch(lab.service.handlers)
    const ok = async <T>(method: string, input: unknown): Promise<T> => {
      const env = await call(method, input)
      if (!env.ok) throw new Error(env.error.message)
      return env.result as T
    }
    const got = await ok<{ jobId: string }>('datasets.get', { name: 'fashion-mnist' })
    await expect.poll(() => lab.service.jobs.get(got.jobId).state, { timeout: 180_000, interval: 500 }).toBe('finished')
    const fashion = PRESETS.find((p) => p.name === 'fashion-mnist-tutorial')!.config
    const { jobId } = await ok<{ runId: string; jobId: string }>('runs.start', { config: { ...fashion, steps: 2, batchSize: 8, checkpointEvery: 2, previewEvery: 0 }, name: 'to the cluster' })
    await expect.poll(() => lab.service.jobs.get(jobId).state, { timeout: 180_000, interval: 500 }).toBe('finished')
    const pkg = path.join(tempDir('score-lab-pkg-'), 'pkg')

    await lab.page.goto(lab.server.openUrl)
    await lab.page.getByTestId('nav-runs').click()
    const row = lab.page.getByTestId('run-row').filter({ hasText: 'to the cluster' })
    await row.getByTestId('action-more').click()
    await lab.page.getByTestId('action-export-torch').click()
    await lab.page.getByTestId('export-torch-path').fill(pkg)
    await lab.page.getByTestId('export-torch-submit').click()
    await lab.page.getByTestId('export-torch-done').waitFor()
    const done = await lab.page.getByTestId('export-torch-done').innerText()
    expect(done).toMatch(/torchrun/)
    expect(done).toContain(pkg)
    for (const f of ['model.py', 'train.py', 'recipe.json', 'requirements.txt', 'README.md', 'run/run.json']) expect(fs.existsSync(path.join(pkg, f)), f).toBe(true)
    await screenshot(lab.page, 'cluster-1-exported')
    await lab.page.keyboard.press('Escape')
    await lab.page.getByTestId('export-torch-done').waitFor({ state: 'detached' })

    await lab.page.getByTestId('attach-run').click()
    await lab.page.getByTestId('attach-path').fill(path.join(pkg, 'run'))
    await lab.page.getByTestId('attach-submit').click()
    // Attached, not yet claimed by a cluster: shown as an attached folder, trainable here still.
    const attached = lab.page.getByTestId('run-row').filter({ hasText: 'to the cluster (PyTorch)' })
    await attached.waitFor()
    expect(await attached.innerText()).toMatch(/attached/)
    // What train.py writes when torchrun starts on the cluster (the folder synced back): the lab
    // follows the folder, says where the run trains, and Train here replaces the training buttons.
    const runFile = path.join(pkg, 'run', 'run.json')
    const run = JSON.parse(fs.readFileSync(runFile, 'utf8')) as Record<string, unknown>
    fs.writeFileSync(runFile, JSON.stringify({ ...run, status: 'running', trainsElsewhere: { where: 'torchrun on node7: 8 processes (nccl, cuda)', host: 'node7', worldSize: 8, perRankBatch: 1, effectiveBatch: 8, since: Date.now() } }))
    await attached.getByTestId('run-elsewhere').waitFor({ timeout: 30_000 })
    expect(await attached.getByTestId('run-elsewhere').getAttribute('title')).toMatch(/Trains elsewhere: torchrun on node7/)
    // Nothing here can stop a run that trains on another machine.
    expect(await attached.getByTestId('action-stop').count()).toBe(0)
    expect(await attached.getByTestId('action-resume-here').count()).toBe(1)
    expect(await attached.getByTestId('action-resume').count()).toBe(0)
    expect(lab.errors).toEqual([])
    await screenshot(lab.page, 'cluster-2-attached')
    // A folder that is no run is refused in the dialog, with the reason.
    await lab.page.getByTestId('attach-run').click()
    await lab.page.getByTestId('attach-path').fill(path.join(pkg, 'nothing-here'))
    await lab.page.getByTestId('attach-submit').click()
    await lab.page.getByTestId('attach-error').waitFor()
    expect(await lab.page.getByTestId('attach-error').innerText()).toMatch(/nothing-here is not a folder/)
  }, 400_000)
})
