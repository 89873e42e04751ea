// Likelihood as a study (issue 20, item 2): the trace estimator and its number of probes chosen,
// each image's value kept for a histogram, and the likelihood of every kept checkpoint as a curve
// beside the loss (runs/<id>/likelihood.jsonl, served by runs.likelihoods), from the lab and the
// CLI. A toy-gmm run with three checkpoints keeps it quick; the numbers' agreement is exact
// because the same images, seed and probes are used each time.
import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import { PRESETS } from '../../src/lab/catalog'
import { resultOf, type LikelihoodPoint, type TrainConfig } from '../../src/shared/contract'
import { labHarness } from '../helpers/service'

const CLI = path.resolve(__dirname, '../../bin/score-lab.mjs')
const { service, ok, finished } = labHarness()
const toy: TrainConfig = { ...PRESETS.find((p) => p.name === 'toy-quick')!.config, steps: 60, checkpointEvery: 20, keepLast: 10, batchSize: 128, previewEvery: 0 }

describe('likelihood per checkpoint, with the estimator chosen', () => {
  let runId = ''
  beforeAll(async () => {
    const r = await ok<{ runId: string; jobId: string }>('runs.start', { config: toy })
    await finished(r.jobId)
    runId = r.runId
  }, 120_000)

  it('measures every kept checkpoint in turn, keeps the curve, and the newest point equals a single measurement of it', async () => {
    const request = { runId, count: 200, split: 'test', seed: 4, estimator: 'gaussian', probes: 3, rtol: 1e-4, atol: 1e-4 }
    const all = resultOf(await finished((await ok<{ jobId: string }>('likelihood.start', { ...request, allCheckpoints: true })).jobId), 'likelihood')!
    expect(all.curve!.map((p) => p.step)).toEqual([20, 40, 60])
    expect(all.curve!.every((p) => p.estimator === 'gaussian' && p.probes === 3 && p.count === 200 && p.bitsPerDim === null)).toBe(true)
    expect(all.perImage).toHaveLength(200)
    // The mean of the per-point values is the reported NLL.
    expect(all.perImage!.reduce((a, b) => a + b, 0) / 200).toBeCloseTo(all.nllNats, 10)
    const one = resultOf(await finished((await ok<{ jobId: string }>('likelihood.start', request)).jobId), 'likelihood')!
    expect(one.checkpoint).toBe(all.curve!.at(-1)!.checkpoint)
    expect(one.nllNats).toBe(all.curve!.at(-1)!.nllNats)
    expect(one.curve).toBeUndefined()
    // More training, better likelihood, on this easy set (a curve that could go either way would say nothing).
    console.log(`[likelihood curve] ${all.curve!.map((p) => `step ${p.step}: ${p.nllNats.toFixed(3)} nats`).join(', ')}`)
    expect(all.curve!.at(-1)!.nllNats).toBeLessThan(all.curve![0]!.nllNats)
    const kept = await ok<LikelihoodPoint[]>('runs.likelihoods', { runId })
    expect(kept.map((p) => p.step)).toEqual([20, 40, 60, 60])
    // A torn line (a crash mid-append) is skipped, not fatal.
    fs.appendFileSync(service.runs.paths(runId).likelihoods, '{"checkpoint":"x", "st')
    expect(await ok<LikelihoodPoint[]>('runs.likelihoods', { runId })).toHaveLength(4)
    await expect(ok('likelihood.start', { ...request, probes: 17 })).rejects.toThrow(/trace probes must be/)
    await expect(ok('likelihood.start', { ...request, estimator: 'exact' })).rejects.toThrow(/estimator/)
  }, 240_000)

  it('score-lab likelihood --all-checkpoints prints the curve and returns it in --json', () => {
    const r = spawnSync(process.execPath, [CLI, 'likelihood', '--checkpoint', runId, '--n', '100', '--probes', '2', '--estimator', 'rademacher', '--all-checkpoints', '--json', '--data-dir', service.dataDir], { encoding: 'utf8', timeout: 240_000 })
    expect(r.status, r.stderr).toBe(0)
    const json = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as { curve: LikelihoodPoint[]; probes: number; perImage: number[] }
    expect(json.curve.map((p) => p.step)).toEqual([20, 40, 60])
    expect(json.probes).toBe(2)
    expect(json.perImage).toHaveLength(100)
    const bad = spawnSync(process.execPath, [CLI, 'likelihood', '--checkpoint', runId, '--estimator', 'exactly', '--data-dir', service.dataDir], { encoding: 'utf8' })
    expect(bad.stderr).toMatch(/--estimator takes rademacher or gaussian, got "exactly"/)
  }, 240_000)
})
