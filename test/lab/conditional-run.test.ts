// Class-conditional runs end to end (issue 18, classifier-free guidance): a toy-gmm run trained
// with --conditional semantics through the lab (labels from the mixture's components, dropped to
// ∅ at rate labelDropout), then sampled for one class with any sampler at guidance weight w: the
// samples land in the requested component. Also the refusals.
import { beforeAll, describe, expect, it } from 'vitest'
import { PRESETS } from '../../src/lab/catalog'
import { createToy, GmmToy } from '../../src/engine/toy'
import { DEFAULT_LABEL_DROPOUT, resultOf, type SampleRecord, type TrainConfig } from '../../src/shared/contract'
import { DEFAULT_LABEL_DROPOUT as ENGINE_DEFAULT_LABEL_DROPOUT } from '../../src/engine/train'
import { labHarness } from '../helpers/service'

const { service, ok, ended, finished } = labHarness()
const base = PRESETS.find((p) => p.name === 'toy-quick')!.config
const config: TrainConfig = { ...base, steps: 800, checkpointEvery: 800, batchSize: 128, previewEvery: 0, conditional: true, labelDropout: 0.1 }

describe('class-conditional runs', () => {
  let runId = ''
  beforeAll(async () => {
    const started = await ok<{ runId: string; jobId: string }>('runs.start', { config })
    await finished(started.jobId)
    runId = started.runId
  }, 300_000)

  it('keep conditional and labelDropout in the run, and sample one class by classifier-free guidance with any sampler', async () => {
    expect(service.runs.get(runId).config).toMatchObject({ conditional: true, labelDropout: 0.1 })
    const k = (createToy('toy-gmm') as GmmToy).componentCount
    const rates: string[] = []
    for (const [sampler, label, guidance] of [['euler_maruyama', 2, 1], ['ode', 5, 1], ['dpmpp_2m', 0, 3]] as const) {
      const job = await finished((await ok<{ jobId: string }>('samples.start', { runId, sampler, steps: sampler === 'ode' ? undefined : 60, seed: 3, count: 400, useEma: true, condition: { kind: 'class', label, guidance } })).jobId)
      const record: SampleRecord = resultOf(job, 'sample')!.samples[0]!
      expect(record.condition).toEqual({ kind: 'class', label, guidance })
      // The toy metrics measure against the requested component: most samples sit near it.
      expect(record.toyMetrics?.target).toBe(`toy-gmm, class ${label}`)
      rates.push(`${sampler} class ${label} w ${guidance}: near-mode ${record.toyMetrics!.nearModes?.toFixed(3)} (true ${record.toyMetrics!.nearModesRef?.toFixed(3)}), sliced W2 ${record.toyMetrics!.sw2.toFixed(3)} (floor ${record.toyMetrics!.sw2Ref.toFixed(3)})`)
      expect(record.toyMetrics!.nearModes!).toBeGreaterThan(0.6)
    }
    console.log(`[cfg, toy-gmm with ${k} classes, 800 steps]\n${rates.join('\n')}`)
  }, 300_000)

  it("the product's default label dropout is the engine's", () => {
    expect(DEFAULT_LABEL_DROPOUT).toBe(ENGINE_DEFAULT_LABEL_DROPOUT)
  })

  it('refuses a class the run does not have, and a conditional run on a set without classes', async () => {
    const bad = await ended((await ok<{ jobId: string }>('samples.start', { runId, sampler: 'euler_maruyama', steps: 10, seed: 0, count: 8, useEma: true, condition: { kind: 'class', label: 9 } })).jobId)
    expect(bad.state).toBe('failed')
    expect(bad.error).toMatch(/8 classes \(0–7\); there is no class 9/)
    const rings = await ok<{ jobId: string }>('runs.start', { config: { ...config, dataset: 'toy-rings', steps: 2, checkpointEvery: 2 } })
    await expect(finished(rings.jobId)).rejects.toThrow(/toy-rings has no classes/)
  }, 120_000)
})
