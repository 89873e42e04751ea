// Quality against cost as a job: every sampler at every budget from the same seeds, measured the
// same way (sliced W2 to true samples for a toy run), with the real-data floor; and the plan that
// turns NFE budgets into steps per sampler.
import fs from 'node:fs'
import path from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import { PRESETS } from '../../src/lab/catalog'
import { planSweep } from '../../src/lab/worker/sweep-job'
import { resultOf, type TrainConfig } from '../../src/shared/contract'
import { sweepCsv, SWEEP_COLUMNS } from '../../src/shared/sweep-table'
import { labHarness } from '../helpers/service'

const { service, call, ok, ended } = labHarness()

const toyConfig: TrainConfig = { ...PRESETS.find((p) => p.name === 'toy-quick')!.config, steps: 300, checkpointEvery: 300, batchSize: 128, previewEvery: 0 }

describe('the sweep plan', () => {
  it('meets each NFE budget with the steps of each fixed-step sampler, and gives adaptive ones tolerances', () => {
    const plans = planSweep({ samplers: [{ sampler: 'euler_maruyama' }, { sampler: 'pc', settings: { nSteps: 1 } }, { sampler: 'ode', settings: { method: 'rk45' } }], nfe: [10, 20, 40], tolerances: [1e-2, 1e-3] }, 've')
    const by = (s: string) => plans.filter((p) => p.sampler === s)
    expect(by('euler_maruyama').map((p) => p.steps)).toEqual([10, 20, 40])
    // pc with one corrector step costs 2 NFE per step.
    expect(by('pc').map((p) => p.steps)).toEqual([5, 10, 20])
    expect(by('ode').map((p) => [p.steps, p.tolerance])).toEqual([[null, 1e-2], [null, 1e-3]])
    expect(by('ode')[0]!.settings).toMatchObject({ rtol: 1e-2, atol: 1e-2 })
  })
})

describe('sweep jobs', () => {
  let runId: string
  beforeAll(async () => {
    const started = await ok<{ runId: string; jobId: string }>('runs.start', { config: toyConfig })
    expect((await ended(started.jobId)).state).toBe('finished')
    runId = started.runId
  }, 300_000)

  it('measures each point against true samples, from the same seeds, with the floor below them all', async () => {
    const { jobId } = await ok<{ jobId: string }>('samples.sweep', { runId, seed: 3, useEma: true, n: 400, nfe: [2, 30], samplers: [{ sampler: 'euler_maruyama' }, { sampler: 'ode', settings: { method: 'rk45' } }], tolerances: [1e-1, 1e-3] })
    const job = await ended(jobId)
    expect(job.state).toBe('finished')
    const r = resultOf(job, 'sweep')!
    expect(r).toMatchObject({ n: 400, seed: 3, metric: 'sw2', metricLabel: 'sliced W2 to 400 true samples' })
    expect(r.points.map((p) => p.label)).toEqual(['euler_maruyama · 2 steps', 'euler_maruyama · 30 steps', 'ode · tol 1e-1', 'ode · tol 1e-3'])
    expect(r.points[0]!.nfe).toBe(2)
    expect(r.points[1]!.nfe).toBe(30)
    // The tighter tolerance takes more evaluations.
    expect(r.points[3]!.nfe).toBeGreaterThan(r.points[2]!.nfe)
    const [em2, em30] = r.points
    // Two Euler steps are far from the data; thirty are much closer; neither beats real data.
    expect(em2!.quality!).toBeGreaterThan(em30!.quality!)
    for (const p of r.points) expect(p.quality!).toBeGreaterThan(r.floor! * 0.5)
    expect(r.ceiling!).toBeGreaterThan(em30!.quality!)
    // Each point keeps its picture as a sample of the run, tagged with the sweep.
    const records = await ok<{ id: string; compareId: string | null }[]>('samples.list', { runId })
    for (const p of r.points) expect(records.find((s) => s.id === p.sampleId)?.compareId).toBe(jobId)
    // The CSV: a header and a row per point.
    const csv = sweepCsv(r).trim().split('\n')
    expect(csv[0]).toBe(SWEEP_COLUMNS.join(','))
    expect(csv).toHaveLength(r.points.length + 1)
  }, 300_000)

  it('a cancelled sweep resumes by batch, and the resumed point is exactly the uninterrupted one', async () => {
    // 5,000 toy samples are 3 batches (2,000 per batch); 100 Euler steps keep each one busy long
    // enough (about a second) to cancel between the first and the last.
    const request = { runId, seed: 5, useEma: true, n: 5000, nfe: [100], samplers: [{ sampler: 'euler_maruyama' }] }
    const batchDir = path.join(service.dataDir, 'runs', runId, 'sweep-batches')
    const first = await ok<{ jobId: string }>('samples.sweep', request)
    // Cancel as soon as batch 0 is on disk (its .json is written last).
    const firstKept = () => fs.existsSync(batchDir) && fs.readdirSync(batchDir).some((d) => fs.existsSync(path.join(batchDir, d, '0.json')))
    for (let waited = 0; !firstKept(); waited += 10) {
      if (waited > 120_000) throw new Error('no batch was kept')
      await new Promise((r) => setTimeout(r, 10))
    }
    await ok('jobs.cancel', { jobId: first.jobId })
    expect((await ended(first.jobId)).state).toBe('cancelled')
    const kept = fs.readdirSync(batchDir).flatMap((d) => fs.readdirSync(path.join(batchDir, d)))
    expect(kept).toContain('0.f32')
    expect(kept).toContain('0.json')
    expect(kept).not.toContain('2.json')

    const resumed = resultOf(await ended((await ok<{ jobId: string }>('samples.sweep', request)).jobId), 'sweep')!
    expect(resumed.points[0]!.resumedBatches).toBeGreaterThanOrEqual(1)
    expect(resumed.points[0]!.resumedBatches).toBeLessThan(3)
    // A finished sweep leaves nothing to resume …
    expect(fs.readdirSync(batchDir)).toEqual([])
    // … so the same request again samples every batch, and reads the same number to the last bit.
    const fresh = resultOf(await ended((await ok<{ jobId: string }>('samples.sweep', request)).jobId), 'sweep')!
    expect(fresh.points[0]!.resumedBatches).toBe(0)
    expect(resumed.points[0]!.quality).toBe(fresh.points[0]!.quality)
    expect(resumed.points[0]!.nfe).toBe(100)
    // A different seed is a different point: the cache key has it, so nothing stale is read.
    const other = resultOf(await ended((await ok<{ jobId: string }>('samples.sweep', { ...request, seed: 6, n: 400 })).jobId), 'sweep')!
    expect(other.points[0]!.resumedBatches).toBe(0)
  }, 300_000)

  it('refuses an image run without its classifier, naming how to get one', async () => {
    const img = service.runs.create({ ...toyConfig, dataset: 'fashion-mnist', model: 'scorenet' }, 'no classifier', null)
    const refused = await call('samples.sweep', { runId: img.id, seed: 0, useEma: true, n: 100, nfe: [10], samplers: [{ sampler: 'euler_maruyama' }] })
    expect(refused).toMatchObject({ ok: false, error: { code: 'conflict', message: expect.stringMatching(/feature classifier.*score-lab train-classifier --dataset fashion-mnist/) } })
    // And a toy data set has no classifier to train.
    expect(await call('classifiers.train', { dataset: 'toy-gmm' })).toMatchObject({ ok: false, error: { code: 'bad_request' } })
    expect(await ok<unknown[]>('classifiers.list', {})).toEqual([])
  })
})
