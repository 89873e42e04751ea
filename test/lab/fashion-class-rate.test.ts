// Issue 18's acceptance on real images: with the small models this machine trains in a minute,
// the lab's own feature classifier labels class samples of FashionMNIST as the requested class
// well above chance (10 %), for classifier-free guidance (a class-conditional run) and for
// classifier guidance (an unconditional run and its noise-conditional classifier). The bound is
// loose on purpose: these models are minutes, not days, from the tutorial's; the note and
// bench/results report the rates per class and per w of longer runs.
import fs from 'node:fs'
import { beforeAll, describe, expect, it } from 'vitest'
import { PRESETS } from '../../src/lab/catalog'
import { resultOf, type ClassifierInfo, type SampleRecord, type TrainConfig } from '../../src/shared/contract'
import { labHarness } from '../helpers/service'

const FASHION = '/usr/share/datasets/fashion-mnist'
const { ok, finished } = labHarness({ jobTimeoutMs: 600_000 })
const fashion = PRESETS.find((p) => p.name === 'fashion-mnist-tutorial')!.config
// A higher learning rate than the tutorial's 1e-4: 600 steps is all there is.
const quick: TrainConfig = { ...fashion, steps: 600, batchSize: 32, lr: 1e-3, checkpointEvery: 600, previewEvery: 0 }
const CHANCE = 0.1

describe.skipIf(!fs.existsSync(FASHION))('FashionMNIST class samples are labelled as asked, well above chance', () => {
  let conditional = ''
  let plain = ''
  beforeAll(async () => {
    await finished((await ok<{ jobId: string }>('datasets.get', { name: 'fashion-mnist' })).jobId)
    const judge = resultOf(await finished((await ok<{ jobId: string }>('classifiers.train', { dataset: 'fashion-mnist', steps: 600 })).jobId), 'classifier') as ClassifierInfo
    console.log(`[class rate] feature classifier: test accuracy ${(judge.testAccuracy! * 100).toFixed(1)} %`)
    const start = async (config: TrainConfig) => {
      const r = await ok<{ runId: string; jobId: string }>('runs.start', { config })
      await finished(r.jobId)
      return r.runId
    }
    conditional = await start({ ...quick, conditional: true })
    plain = await start(quick)
    await finished((await ok<{ jobId: string }>('classifiers.trainGuidance', { runId: plain, steps: 300 })).jobId)
  }, 900_000)

  const rate = async (runId: string, guidance: number, what: string): Promise<number> => {
    const job = await finished((await ok<{ jobId: string }>('samples.start', { runId, sampler: 'euler_maruyama', steps: 100, seed: 5, count: 64, useEma: false, condition: { kind: 'classes', perClass: 10, guidance } })).jobId)
    const r: SampleRecord = resultOf(job, 'sample')!.samples[0]!
    const a = r.classAgreement!
    console.log(`[class rate] ${what}, w ${guidance}: ${(a.rate * 100).toFixed(1)} % (per class ${a.perClass.map((p) => (p! * 100).toFixed(0)).join(' / ')}), ${r.seconds.toFixed(1)} s`)
    return a.rate
  }

  it('classifier-free guidance', async () => {
    // Measured with this setup: w 0 38 %, w 1 29 %, w 3 17 % (larger w collapses onto a few classes).
    expect(await rate(conditional, 1, 'classifier-free')).toBeGreaterThan(2 * CHANCE)
  }, 300_000)

  it('classifier guidance', async () => {
    // Measured with this setup: w 0 9 % (chance: the unconditional model), w 3 21 %, w 10 28 %.
    expect(await rate(plain, 10, 'classifier guidance')).toBeGreaterThan(2 * CHANCE)
  }, 300_000)
})
