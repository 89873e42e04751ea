// Quality numbers of image samples through the data set's classifier, end to end: the classifier
// trains as a job and is kept in the data folder; a comparison with `metric` and a sweep then read
// FD (with floor and ceiling), KID and precision/recall. Tiny settings: this checks the plumbing
// and the invariants (floor < noise, numbers finite), not the quality of a 2-step model.
import fs from 'node:fs'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { PRESETS } from '../../src/lab/catalog'
import { resultOf, type SampleRecord } from '../../src/shared/contract'
import { labHarness } from '../helpers/service'
import { formulaWeightsFile } from '../helpers/fid-formula'
import { fidWeightsPath } from '../../src/lab/classifiers'
import { sweepCsv, SWEEP_COLUMNS } from '../../src/shared/sweep-table'

const FASHION = fs.existsSync('/usr/share/datasets/fashion-mnist')
const { service, call, ok, finished } = labHarness()

describe.skipIf(!FASHION)('image quality through the classifier', () => {
  it('trains and keeps the classifier, then measures a comparison and a sweep against the floor and the noise', async () => {
    await finished((await ok<{ jobId: string }>('datasets.get', { name: 'fashion-mnist' })).jobId)
    const trained = await finished((await ok<{ jobId: string }>('classifiers.train', { dataset: 'fashion-mnist', steps: 60, seed: 1 })).jobId)
    const info = resultOf(trained, 'classifier')!
    // 60 steps already classify far above chance (10 %).
    expect(info).toMatchObject({ kind: 'classifier', dataset: 'fashion-mnist', steps: 60, seed: 1 })
    expect(info.testAccuracy!).toBeGreaterThan(0.4)
    expect(await ok<unknown[]>('classifiers.list', {})).toEqual([expect.objectContaining({ dataset: 'fashion-mnist', steps: 60 })])

    const base = PRESETS.find((p) => p.name === 'fashion-mnist-tutorial')!.config
    const { runId, jobId } = await ok<{ runId: string; jobId: string }>('runs.start', { config: { ...base, steps: 2, batchSize: 8, checkpointEvery: 2, previewEvery: 0 } })
    await finished(jobId)

    const compare = await finished((await ok<{ jobId: string }>('samples.compare', { runId, seed: 0, count: 48, useEma: true, metric: true, entries: [{ sampler: 'euler_maruyama', steps: 4 }, { sampler: 'heun', steps: 3 }] })).jobId)
    const records: SampleRecord[] = resultOf(compare, 'compare')!.samples
    for (const r of records) {
      const q = r.quality!
      expect(q.metric).toBe('fd')
      expect(q.label).toMatch(/48 test images/)
      // Real training images sit far below noise; a 2-step model sits above the floor.
      expect(q.floor!).toBeLessThan(q.ceiling!)
      expect(q.value!).toBeGreaterThan(q.floor!)
      expect(Number.isFinite(q.kid!.mean)).toBe(true)
      expect(q.precision!).toBeGreaterThanOrEqual(0)
      expect(q.recall!).toBeLessThanOrEqual(1)
      // Predicted classes: one per sample, an entropy within [0, ln 10], and the real images'
      // (a near-even draw of 10 classes) well above a collapsed histogram's 0.
      expect(q.classes!.histogram).toHaveLength(10)
      expect(q.classes!.histogram.reduce((a, b) => a + b, 0)).toBe(48)
      expect(q.classes!.entropy).toBeGreaterThanOrEqual(0)
      expect(q.classes!.entropy).toBeLessThanOrEqual(q.classes!.entropyMax + 1e-12)
      expect(q.classes!.entropyMax).toBeCloseTo(Math.log(10), 12)
      expect(q.classes!.meanConfidence).toBeGreaterThan(0.1)
      expect(q.classes!.meanConfidence).toBeLessThanOrEqual(1)
      expect(q.realClasses!.entropy).toBeGreaterThan(1.5)
    }

    const sweep = await finished((await ok<{ jobId: string }>('samples.sweep', { runId, seed: 0, useEma: true, n: 70, nfe: [3], samplers: [{ sampler: 'dpmpp_2m' }] })).jobId)
    const r = resultOf(sweep, 'sweep')!
    expect(r).toMatchObject({ metric: 'fd', n: 70 })
    // 70 samples come in two batches (64 + 6): the point still counts all of them.
    expect(r.points).toHaveLength(1)
    expect(r.points[0]).toMatchObject({ sampler: 'dpmpp_2m', steps: 3, nfe: 3 })
    expect(r.points[0]!.quality!).toBeGreaterThan(r.floor!)
    expect(r.points[0]!.classes!.histogram.reduce((a, b) => a + b, 0)).toBe(70)
    expect(r.realClasses!.histogram.reduce((a, b) => a + b, 0)).toBe(70)

    // FID: refused without the weights (naming how to supply them); with them (here the formula
    // weights of the engine's parity test, a working network that is not the real one), the
    // sweep reads FID beside FD, with its own floor.
    const fidRequest = { runId, seed: 0, useEma: true, n: 16, nfe: [3], samplers: [{ sampler: 'dpmpp_2m' }], fid: true }
    const refused = await call('samples.sweep', fidRequest)
    expect(refused.ok).toBe(false)
    if (!refused.ok) expect(refused.error.message).toMatch(/fid-inception-to-safetensors\.py .*fid\/pt_inception-2015-12-05\.safetensors/)
    fs.mkdirSync(path.dirname(fidWeightsPath(service.dataDir)), { recursive: true })
    fs.writeFileSync(fidWeightsPath(service.dataDir), formulaWeightsFile())
    const started = performance.now()
    const withFid = resultOf(await finished((await ok<{ jobId: string }>('samples.sweep', fidRequest)).jobId), 'sweep')!
    console.log(`[fid] sweep of 16 samples with FID: ${((performance.now() - started) / 1000).toFixed(1)} s, FID ${withFid.points[0]!.fid}, floor ${withFid.fidFloor}`)
    expect(withFid.fidFloor!).toBeGreaterThan(0)
    expect(withFid.points[0]!.fid!).toBeGreaterThan(withFid.fidFloor!)
    expect(withFid.points[0]!.quality).toBeGreaterThan(withFid.floor!)
    const fidCsv = sweepCsv(withFid).trim().split('\n')
    expect(fidCsv[1]!.split(',')[SWEEP_COLUMNS.indexOf('fid')]).not.toBe('')

    // A damaged classifier file: a sweep or a measured comparison is refused naming the file and
    // how to replace it; the list leaves it out (so the panel offers to train it again) and
    // nothing of the run is lost.
    const file = path.join(service.dataDir, 'classifiers', 'fashion-mnist.safetensors')
    fs.writeFileSync(file, fs.readFileSync(file).subarray(0, 5000))
    expect(await ok<unknown[]>('classifiers.list', {})).toEqual([])
    const before = (await ok<unknown[]>('samples.list', { runId })).length
    for (const [method, input] of [
      ['samples.sweep', { runId, seed: 0, useEma: true, n: 70, nfe: [3], samplers: [{ sampler: 'dpmpp_2m' }] }],
      ['samples.compare', { runId, seed: 0, count: 16, useEma: true, metric: true, entries: [{ sampler: 'ddim', steps: 3 }] }]
    ] as const) {
      const env = await call(method, input)
      expect(env.ok, method).toBe(false)
      if (env.ok) continue
      expect(env.error.message).toMatch(/fashion-mnist feature classifier cannot be read \(.*fashion-mnist\.safetensors.*truncated/)
      expect(env.error.message).toMatch(/score-lab train-classifier --dataset fashion-mnist/)
    }
    expect((await ok<unknown[]>('samples.list', { runId })).length).toBe(before)
  }, 600_000)
})
