// A PyTorch tutorial state_dict (the parity fixture made with ../shared/reference/ref_scorenet.py)
// imports as a run whose checkpoint every sampler can use.
import fs from 'node:fs'
import path from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { createLabService } from '../../src/lab/service'
import { createDispatch } from '../../src/lab/dispatch'
import { EventRecorder } from '../helpers/events'
import { tempDir } from '../helpers/service'
import { createSde } from '../../src/engine/sde'
import { createModel } from '../../src/engine/nets'
import { encodeTorchSafetensors } from '../../src/engine/nets/torch-import'
import { LABEL_EMBED } from '../../src/engine/nets/labels'
import { loadCheckpoint } from '../../src/engine/checkpoint/checkpoint'
import { Trainer } from '../../src/engine/train'

const WEIGHTS = path.resolve(__dirname, '../fixtures/parity/weights.safetensors')
const service = createLabService({ dataDir: tempDir(), shell: 'cli' })
const call = createDispatch(service.handlers)
const rec = new EventRecorder(service.events)
afterAll(() => service.close())

describe('importing PyTorch tutorial weights', () => {
  it('creates a run with a step-0 checkpoint that samples', async () => {
    const env = await call('runs.importTorch', { path: WEIGHTS, dataset: 'fashion-mnist' })
    expect(env.ok, env.ok ? '' : env.error.message).toBe(true)
    if (!env.ok) return
    const run = env.result as { id: string; config: { model: string; sde: { name: string } } }
    expect(run.config).toMatchObject({ model: 'scorenet', sde: { name: 'vesde_tutorial' } })
    const got = await call('runs.get', { runId: run.id })
    expect(got.ok && (got.result as any).checkpoints).toHaveLength(1)
    const start = await call('samples.start', { runId: run.id, sampler: 'euler_maruyama', steps: 3, seed: 0, count: 4, useEma: true })
    expect(start.ok).toBe(true)
    if (!start.ok) return
    const jobId = (start.result as { jobId: string }).jobId
    const end = await rec.waitFor((e) => e.type === 'job' && e.job.id === jobId && ['finished', 'failed'].includes(e.job.state), 120_000)
    expect(end.type === 'job' && end.job.error).toBeFalsy()
    const sample = (end.type === 'job' && (end.job.result as any).samples[0])!
    expect([sample.width, sample.height]).toEqual([62, 62])
  })

  it('exports a checkpoint in both formats (with its JSON config) and deletes it', async () => {
    const [run] = service.runs.list()
    const file = service.runs.checkpoints(run!.id)[0]!.file
    const dir = tempDir()
    const torch = await call('checkpoints.export', { runId: run!.id, file, path: path.join(dir, 'model.safetensors'), format: 'torch' })
    expect(torch.ok, torch.ok ? '' : torch.error.message).toBe(true)
    // The exported PyTorch layout imports again: a full round trip through the tutorial format.
    const again = await call('runs.importTorch', { path: path.join(dir, 'model.safetensors'), dataset: 'fashion-mnist', name: 'round trip' })
    expect(again.ok).toBe(true)
    expect(JSON.parse(fs.readFileSync(path.join(dir, 'model.json'), 'utf8'))).toMatchObject({ step: 0, format: 'torch', config: { model: 'scorenet' } })
    const ours = await call('checkpoints.export', { runId: run!.id, file, path: path.join(dir, 'ours.safetensors'), format: 'safetensors' })
    expect(ours.ok && (ours.result as { bytes: number }).bytes).toBe(fs.statSync(path.join(service.runs.checkpointsDir(run!.id), file)).size)
    const nowhere = await call('checkpoints.export', { runId: run!.id, file, path: '/nonexistent/dir/x.safetensors', format: 'safetensors' })
    expect(nowhere).toMatchObject({ ok: false, error: { code: 'bad_request' } })
    const del = await call('checkpoints.delete', { runId: (again as { result: { id: string } }).result.id, file: 'ckpt-00000000.safetensors' })
    expect(del).toMatchObject({ ok: true, result: [] })
    expect(await call('checkpoints.delete', { runId: run!.id, file: 'nope.safetensors' })).toMatchObject({ ok: false, error: { code: 'not_found' } })
    await call('runs.delete', { runId: (again as { result: { id: string } }).result.id })
  })

  it('imports a class-conditional state_dict as a conditional run (its label embedding kept), and refuses one whose classes are not the set\'s', async () => {
    const sde = createSde({ name: 'vesde_tutorial' })
    const net = createModel('scorenet', { shape: [28, 28, 1], sde, seed: 3, options: { classes: 10 } })
    const dir = tempDir()
    const file = path.join(dir, 'conditional.safetensors')
    fs.writeFileSync(file, await encodeTorchSafetensors(net as never))
    const want = Array.from((net.params.get(LABEL_EMBED) as { dataSync(): Float32Array }).dataSync())
    net.dispose()
    const env = await call('runs.importTorch', { path: file, dataset: 'fashion-mnist', name: 'conditional import' })
    expect(env.ok, env.ok ? '' : env.error.message).toBe(true)
    const run = (env as { result: { id: string; config: { conditional?: boolean } } }).result
    expect(run.config.conditional).toBe(true)
    // The checkpoint carries the ten classes and the null label's row, equal to the file's.
    const state = await loadCheckpoint(path.join(service.runs.checkpointsDir(run.id), 'ckpt-00000000.safetensors'))
    const trainer = Trainer.fromState(state)
    expect(trainer.model.classes).toBe(10)
    expect(Array.from((trainer.model.params.get(LABEL_EMBED) as { dataSync(): Float32Array }).dataSync())).toEqual(want)
    trainer.dispose()
    // MNIST also has ten classes; a 3-class net is refused for it.
    const three = createModel('scorenet', { shape: [28, 28, 1], sde, seed: 3, options: { classes: 3 } })
    fs.writeFileSync(path.join(dir, 'three.safetensors'), await encodeTorchSafetensors(three as never))
    three.dispose()
    expect(await call('runs.importTorch', { path: path.join(dir, 'three.safetensors'), dataset: 'mnist' })).toMatchObject({ ok: false, error: { code: 'bad_request', message: expect.stringMatching(/class-conditional with 3 classes, but mnist has 10/) } })
    await call('runs.delete', { runId: run.id })
  })

  it('refuses a file that is not a tutorial state_dict, naming it', async () => {
    const junk = path.join(tempDir(), 'junk.safetensors')
    fs.writeFileSync(junk, 'definitely not safetensors')
    const env = await call('runs.importTorch', { path: junk, dataset: 'mnist' })
    expect(env).toMatchObject({ ok: false, error: { code: 'bad_request' } })
    if (!env.ok) expect(env.error.message).toContain(junk)
    const toy = await call('runs.importTorch', { path: WEIGHTS, dataset: 'toy-gmm' })
    expect(toy).toMatchObject({ ok: false, error: { code: 'bad_request' } })
    expect(service.runs.list()).toHaveLength(1) // nothing half-made was left behind
  })
})
