// Classifier guidance for image runs (issue 18): a run's noise-conditional classifier trains as a
// job on the run's data perturbed by the run's SDE, is kept in the run's folder with its accuracy
// at several t, and then guides that run's class samples with any sampler. Tiny settings: this
// checks the plumbing and the invariants (accuracy above chance near t = 0, lower at T), not
// sample quality. Also the refusals.
import fs from 'node:fs'
import { describe, expect, it } from 'vitest'
import { PRESETS } from '../../src/lab/catalog'
import { resultOf, type SampleRecord } from '../../src/shared/contract'
import { runPaths } from '../../src/lab/runs/run-layout'
import { labHarness } from '../helpers/service'

const FASHION = fs.existsSync('/usr/share/datasets/fashion-mnist')
const { service, call, ok, ended, finished } = labHarness()

describe.skipIf(!FASHION)('guidance classifiers', () => {
  it("train for a run, are kept in its folder, and guide its class samples with any sampler", async () => {
    await finished((await ok<{ jobId: string }>('datasets.get', { name: 'fashion-mnist' })).jobId)
    const base = PRESETS.find((p) => p.name === 'fashion-mnist-tutorial')!.config
    const { runId, jobId } = await ok<{ runId: string; jobId: string }>('runs.start', { config: { ...base, steps: 2, batchSize: 8, checkpointEvery: 2, previewEvery: 0 } })
    await finished(jobId)

    // Before it has one: a class is refused naming both ways to get one.
    const refused = await ended((await ok<{ jobId: string }>('samples.start', { runId, sampler: 'euler_maruyama', steps: 4, seed: 0, count: 4, useEma: true, condition: { kind: 'class', label: 3 } })).jobId)
    expect(refused.state).toBe('failed')
    expect(refused.error).toMatch(/class-conditional run .* or this run's guidance classifier \(score-lab train-classifier --for RUN\)/)

    const trained = await finished((await ok<{ jobId: string }>('classifiers.trainGuidance', { runId, steps: 150, seed: 1 })).jobId)
    const info = resultOf(trained, 'classifier')!
    expect(info).toMatchObject({ dataset: 'fashion-mnist', steps: 150, seed: 1, guidance: { runId } })
    const [near, mid, far] = info.guidance!.accuracyByTime
    console.log(`[guidance classifier, 150 steps] accuracy ${info.guidance!.accuracyByTime.map((a) => `${(a.accuracy * 100).toFixed(1)} % at t = ${a.t}`).join(', ')}`)
    expect(near!.t).toBe(0.05)
    expect(near!.accuracy).toBeGreaterThan(0.2)
    expect(far!.accuracy).toBeLessThan(near!.accuracy)
    expect(mid!.t).toBe(0.5)
    expect(fs.existsSync(runPaths(service.dataDir, runId).guidanceClassifier)).toBe(true)

    for (const sampler of ['euler_maruyama', 'dpmpp_2m']) {
      const job = await finished((await ok<{ jobId: string }>('samples.start', { runId, sampler, steps: 4, seed: 0, count: 4, useEma: true, condition: { kind: 'class', label: 3, guidance: 2 } })).jobId)
      const record: SampleRecord = resultOf(job, 'sample')!.samples[0]!
      expect(record.condition).toEqual({ kind: 'class', label: 3, guidance: 2 })
      expect(record.nfe).toBe(4)
    }
    const bad = await ended((await ok<{ jobId: string }>('samples.start', { runId, sampler: 'euler_maruyama', steps: 4, seed: 0, count: 4, useEma: true, condition: { kind: 'class', label: 12 } })).jobId)
    expect(bad.error).toMatch(/10 classes \(0–9\); there is no class 12/)
  }, 600_000)

  it('are refused for toy runs and class-conditional runs, which need none', async () => {
    const toy = PRESETS.find((p) => p.name === 'toy-quick')!.config
    const { runId, jobId } = await ok<{ runId: string; jobId: string }>('runs.start', { config: { ...toy, steps: 2, checkpointEvery: 2, previewEvery: 0 } })
    await finished(jobId)
    const env = await call('classifiers.trainGuidance', { runId })
    expect(env.ok).toBe(false)
    if (!env.ok) expect(env.error.message).toMatch(/toy run: toy-gmm's classes are guided by its exact classifier/)
    const conditional = service.runs.create({ ...toy, dataset: 'fashion-mnist', model: 'scorenet', conditional: true }, 'cond', null)
    const env2 = await call('classifiers.trainGuidance', { runId: conditional.id })
    expect(env2.ok).toBe(false)
    if (!env2.ok) expect(env2.error.message).toMatch(/class-conditional: it samples a class by classifier-free guidance/)
  }, 120_000)
})
