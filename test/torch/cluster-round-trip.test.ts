// The round trip of a run that outgrows this machine: the lab trains a FashionMNIST run a little,
// exports it as a PyTorch package, `torchrun --nproc_per_node=2` trains it on with DDP (gloo, CPU)
// while the lab watches the attached folder live; the lab then reads its curve and checkpoints,
// samples from the new checkpoint, refuses to train it while it trains elsewhere, and resumes it
// here on request with the step count, the Adam state and the EMA carried on.
import { spawn, spawnSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { loadCheckpoint } from '../../src/engine/checkpoint/checkpoint'
import { decodeSafetensors } from '../../src/engine/io/safetensors'
import { presetFor } from '../../src/lab/catalog'
import { resultOf, type CheckpointInfo, type RunSummary, type TrainConfig } from '../../src/shared/contract'
import { labHarness, tempDir } from '../helpers/service'
import { findTorchPython } from '../helpers/torch-python'

const FASHION = '/usr/share/datasets/fashion-mnist'
const torch = findTorchPython()
const skip = !torch.python ? torch.reason : !torch.torchrun ? `no torchrun beside ${torch.python}` : !fs.existsSync(FASHION) ? `${FASHION} is missing (apt-get install dataset-fashion-mnist)` : ''

describe.skipIf(skip !== '')(`a run trained with torchrun and brought back${skip ? ` (skipped: ${skip})` : ''}`, () => {
  const h = labHarness()

  it('exports, trains on 2 DDP processes while attached, samples, refuses, and resumes here keeping step, Adam and EMA', async () => {
    await h.finished((await h.ok<{ jobId: string }>('datasets.get', { name: 'fashion-mnist' })).jobId)
    const config: TrainConfig = { ...presetFor('fashion-mnist')!.config, steps: 2, batchSize: 8, checkpointEvery: 2, previewEvery: 0, ema: 0.999, warmup: 3, gradClip: 1, keepLast: 5 }
    const started = await h.ok<{ runId: string; jobId: string }>('runs.start', { config, name: 'cluster round trip' })
    await h.finished(started.jobId)

    const pkgDir = path.join(tempDir('score-lab-torch-pkg-'), 'pkg')
    const pkg = await h.ok<{ path: string; runDir: string; startStep: number; files: string[] }>('runs.exportTorch', { runId: started.runId, path: pkgDir })
    expect(pkg.startStep).toBe(2)
    for (const f of ['model.py', 'train.py', 'recipe.json', 'requirements.txt', 'README.md']) expect(pkg.files).toContain(f)
    const recipe = JSON.parse(fs.readFileSync(path.join(pkgDir, 'recipe.json'), 'utf8'))
    expect(recipe.train).toMatchObject({ lr: config.lr, warmup: 3, gradClip: 1, emaDecay: 0.999, batchSize: 8, lossEps: 1e-5, weighting: 'std2', reduction: 'sum' })
    expect(recipe.sde).toEqual({ name: 'vesde_tutorial', sigma: 25, N: 500 })
    // A second export into the same (now full) folder is refused.
    await expect(h.ok('runs.exportTorch', { runId: started.runId, path: pkgDir })).rejects.toThrow(/not empty/)

    const data = path.join(h.dataDir, 'datasets', 'fashion-mnist')
    const env = { ...process.env, OMP_NUM_THREADS: '1' }
    // A process count that does not divide the batch is refused before any process group forms.
    const bad = spawnSync(torch.python!, [path.join(pkgDir, 'train.py'), '--data', data, '--steps', '4'], { env: { ...env, WORLD_SIZE: '3' }, encoding: 'utf8', timeout: 60_000 })
    expect(bad.status).not.toBe(0)
    expect(bad.stderr).toMatch(/batches of 8 images, which 3 processes cannot share evenly/)

    // Attached before it trains: the exported folder is a run at once (the lab's curve so far, step 2).
    const attached = await h.ok<RunSummary>('runs.attach', { path: pkg.runDir })
    expect(attached).toMatchObject({ step: 2, attachedDir: fs.realpathSync(pkg.runDir) })
    const runId = attached.id
    expect(runId).not.toBe(started.runId)

    const t0 = performance.now()
    // --redirects 1 --tee 1: Debian's torch 1.13 under Python 3.11 cannot parse torchrun's default
    // --redirects 0 (an IntFlag change; fixed in torch 2.0); worker output still reaches the pipe.
    // --monitor_interval 0.5: the agent otherwise looks at its workers every 5 s (≈7 s of idle waiting here).
    const child = spawn(torch.torchrun!, ['--standalone', '--nproc_per_node=2', '--redirects', '1', '--tee', '1', '--monitor_interval', '0.5', path.join(pkgDir, 'train.py'), '--data', data, '--steps', '6'], { env, stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    child.stdout.on('data', (d) => (out += d))
    child.stderr.on('data', (d) => (out += d))
    // A hung torchrun fails here, with its output, instead of outliving the test.
    const watchdog = setTimeout(() => child.kill('SIGKILL'), 150_000)
    const code = await new Promise<number | null>((r) => child.on('exit', r))
    clearTimeout(watchdog)
    const torchrunSeconds = (performance.now() - t0) / 1000
    expect(code, out).toBe(0)
    expect(out).toMatch(/2 processes \(gloo, cpu\); per-process batch 4, effective batch 8; from ckpt-00000002\.safetensors at step 2/)

    // Live: the watcher turns the folder's new lines and checkpoints into the usual events.
    await h.rec.waitFor((e) => e.type === 'metrics' && e.runId === runId && e.points.at(-1)!.step === 6, 60_000)
    await h.rec.waitFor((e) => e.type === 'checkpoint' && e.runId === runId && e.checkpoint.step === 6, 60_000)
    const { run, checkpoints } = await h.ok<{ run: RunSummary; checkpoints: CheckpointInfo[] }>('runs.get', { runId })
    expect(run).toMatchObject({ status: 'finished', step: 6, trainsElsewhere: { worldSize: 2, perRankBatch: 4, effectiveBatch: 8 } })
    expect(checkpoints.map((c) => c.step)).toEqual([2, 4, 6])
    const metrics = await h.ok<{ step: number; loss: number | null; buckets?: (number | null)[] }[]>('runs.metrics', { runId })
    expect(metrics.map((m) => m.step)).toEqual([1, 2, 3, 4, 5, 6]) // the lab's two steps, then the cluster's four
    expect(metrics.every((m) => Number.isFinite(m.loss) && m.buckets?.length === 10)).toBe(true)
    const ck6 = path.join(pkg.runDir, 'checkpoints', 'ckpt-00000006.safetensors')
    const meta = decodeSafetensors(new Uint8Array(fs.readFileSync(ck6))).metadata
    expect(meta).toMatchObject({ world_size: '2', per_rank_batch: '4', effective_batch: '8', distributed_backend: 'gloo' })
    const at6 = await loadCheckpoint(ck6)
    expect([at6.step, at6.optim.step, at6.ema!.numUpdates]).toEqual([6, 6, 6])

    // Read-only for training while it trains elsewhere.
    await expect(h.ok('runs.resume', { runId })).rejects.toThrow(`this run trains elsewhere (${fs.realpathSync(pkg.runDir)})`)

    // Sampling from the new checkpoint, exactly as for a local run.
    const sampled = await h.finished((await h.ok<{ jobId: string }>('samples.start', { runId, sampler: 'euler_maruyama', steps: 5, seed: 1, count: 4, useEma: true })).jobId)
    const rec = resultOf(sampled, 'sample')!.samples[0]!
    expect(rec.checkpoint).toBe('ckpt-00000006.safetensors')
    expect(fs.existsSync(path.join(pkg.runDir, 'samples', rec.png))).toBe(true)

    // Taken back deliberately: the lab trains it on from step 6 with the cluster's Adam moments and EMA.
    const resumed = await h.ok<{ jobId: string }>('runs.resume', { runId, here: true, steps: 8 })
    await h.finished(resumed.jobId)
    expect(h.rec.events.some((e) => e.type === 'log' && /Resumed from ckpt-00000006\.safetensors at step 6/.test(e.message))).toBe(true)
    const home = await h.ok<{ run: RunSummary; checkpoints: CheckpointInfo[] }>('runs.get', { runId })
    expect(home.run).toMatchObject({ status: 'finished', step: 8, trainsElsewhere: null })
    const at8 = await loadCheckpoint(path.join(pkg.runDir, 'checkpoints', 'ckpt-00000008.safetensors'))
    // Counters continue (a fresh Adam or EMA would say 2) and the moments continue from step 6's:
    // v after two more updates is at least β2² of step 6's, elementwise.
    expect([at8.step, at8.optim.step, at8.ema!.numUpdates]).toEqual([8, 8, 8])
    const b2 = at6.train.beta2 ** 2
    for (const [n, v6] of Object.entries(at6.optim.v)) {
      const v8 = at8.optim.v[n]!.data
      expect(v6.data.every((v, i) => v8[i]! >= v * b2 * (1 - 1e-6)), n).toBe(true)
    }
    expect((await h.ok<{ step: number }[]>('runs.metrics', { runId })).map((m) => m.step)).toEqual([1, 2, 3, 4, 5, 6, 7, 8])
    console.log(`torchrun (2 processes, gloo, full ScoreNet, batch 8 = 2 × 4, 4 steps incl. start-up): ${torchrunSeconds.toFixed(1)} s`)
    fs.rmSync(path.dirname(pkgDir), { recursive: true, force: true })
  }, 300_000)
})
