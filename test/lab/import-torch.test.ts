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
