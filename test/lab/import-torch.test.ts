// A PyTorch tutorial state_dict (the parity fixture made with ../shared/reference/ref_scorenet.py)
// imports as a run whose checkpoint every sampler can use.
import fs from 'node:fs'
import path from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { createLabService } from '../../src/lab/service'
import { createDispatch } from '../../src/lab/dispatch'
import { EventRecorder } from '../helpers/events'
import { tempDir } from '../helpers/service'

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
