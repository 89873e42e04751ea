// Sampling, comparison and likelihood as jobs on a briefly trained checkpoint: every sampler
// writes a PNG of the expected pixel size whose text chunk holds its settings.
import fs from 'node:fs'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createLabService } from '../../src/lab/service'
import { createDispatch } from '../../src/lab/dispatch'
import { PRESETS } from '../../src/lab/catalog'
import { decodePng, readPngSettings } from '../../src/engine/images/png'
import { gifSize } from '../../src/engine/images/gif'
import type { SampleRecord, TrainConfig } from '../../src/shared/contract'
import { EventRecorder } from '../helpers/events'
import { tempDir } from '../helpers/service'

const service = createLabService({ dataDir: tempDir(), shell: 'cli' })
const call = createDispatch(service.handlers)
const rec = new EventRecorder(service.events)
afterAll(() => service.close())

async function ok<T>(method: string, input: unknown): Promise<T> {
  const env = await call(method, input)
  if (!env.ok) throw new Error(env.error.message)
  return env.result as T
}

async function finished(jobId: string): Promise<Record<string, unknown>> {
  const e = await rec.waitFor((e) => e.type === 'job' && e.job.id === jobId && !['queued', 'running', 'paused'].includes(e.job.state), 300_000)
  if (e.type !== 'job' || e.job.state !== 'finished') throw new Error(`job ${jobId} ended ${e.type === 'job' ? `${e.job.state}: ${e.job.error}` : ''}`)
  return e.job.result!
}

const FASHION = fs.existsSync('/usr/share/datasets/fashion-mnist')
const toyConfig: TrainConfig = { ...PRESETS.find((p) => p.name === 'toy-quick')!.config, steps: 150, checkpointEvery: 150, batchSize: 128, ema: 0.99 }

describe('sampling jobs', () => {
  let toyRun: string
  beforeAll(async () => {
    const { runId, jobId } = await ok<{ runId: string; jobId: string }>('runs.start', { config: toyConfig })
    await finished(jobId)
    toyRun = runId
  })

  it('serves the learned score field beside the true one', async () => {
    const field = await ok<{ points: number[]; model: number[]; truth: number[] | null; n: number }>('runs.scoreField', { runId: toyRun, t: 0.8, n: 12 })
    expect(field.points).toHaveLength(12 * 12 * 2)
    expect(field.truth).not.toBeNull()
    let cos = 0
    for (let k = 0; k < 144; k++) {
      const [a, b, c, d] = [field.model[2 * k]!, field.model[2 * k + 1]!, field.truth![2 * k]!, field.truth![2 * k + 1]!]
      cos += (a * c + b * d) / (Math.hypot(a, b) * Math.hypot(c, d) + 1e-12)
    }
    console.log(`score field cosine at t = 0.8 after 150 steps: ${(cos / 144).toFixed(3)}`)
    // At t = 0.8 (σ ≈ 1.3 on toy-quick's VE SDE, σ 0.05 → 3) the field is smooth and learned early;
    // a sign or axis mix-up would fail this. (At t = 0.5, σ ≈ 0.39, the 8 modes already show in it.)
    expect(cos / 144).toBeGreaterThan(0.9)
    expect(await call('runs.scoreField', { runId: service.runs.create({ ...toyConfig, dataset: 'mnist', model: 'scorenet' }, 'img', null).id, t: 0.5, n: 8 })).toMatchObject({ ok: false, error: { code: 'bad_request' } })
  })

  it('samples one class of the mixture through its exact classifier, and refuses conditions that do not apply', async () => {
    const { jobId } = await ok<{ jobId: string }>('samples.start', { runId: toyRun, sampler: 'pc', steps: 30, seed: 1, count: 300, useEma: true, condition: { kind: 'class', label: 2 } })
    const { samples } = (await finished(jobId)) as { samples: SampleRecord[] }
    // Beside them, fresh samples of that class's component, which the metrics measure against.
    expect(samples[0]).toMatchObject({ condition: { kind: 'class', label: 2 }, referenceKind: 'truth', toyMetrics: { target: 'toy-gmm, class 2', count: 300, nearModesRef: expect.any(Number) } })
    const fail = async (input: object, pattern: RegExp) => {
      const { jobId } = await ok<{ jobId: string }>('samples.start', { runId: toyRun, seed: 0, count: 8, useEma: true, ...input })
      const end = await rec.waitFor((e) => e.type === 'job' && e.job.id === jobId && e.job.state === 'failed')
      expect(end.type === 'job' && end.job.error).toMatch(pattern)
    }
    // The exact classifier's gradient guides any sampler, the ODE's included.
    const ode = (await finished((await ok<{ jobId: string }>('samples.start', { runId: toyRun, sampler: 'ode', seed: 1, count: 300, useEma: true, condition: { kind: 'class', label: 5 } })).jobId)) as { samples: SampleRecord[] }
    expect(ode.samples[0]!.toyMetrics).toMatchObject({ target: 'toy-gmm, class 5' })
    await fail({ sampler: 'ode', condition: { kind: 'inpaint', mask: 'left', split: 'test' } }, /needs an image run/)
    await fail({ sampler: 'pc', condition: { kind: 'class', label: 99 } }, /no class 99/)
    await fail({ sampler: 'pc', condition: { kind: 'inpaint', mask: 'left', split: 'test' } }, /needs an image run/)
  })

  it('refuses to sample a run without a checkpoint, and unknown samplers', async () => {
    const run = service.runs.create(toyConfig, 'empty', null)
    expect(await call('samples.start', { runId: run.id, sampler: 'ode', seed: 0, count: 4, useEma: false })).toMatchObject({ ok: false, error: { code: 'conflict' } })
    const { jobId } = await ok<{ jobId: string }>('samples.start', { runId: toyRun, sampler: 'magic', seed: 0, count: 4, useEma: false })
    const end = await rec.waitFor((e) => e.type === 'job' && e.job.id === jobId && e.job.state === 'failed')
    expect(end.type === 'job' && end.job.error).toMatch(/Unknown sampler "magic"/)
  })

  it('samples a toy run with a trajectory, lists it, serves its images and exports the PNG', async () => {
    const { jobId } = await ok<{ jobId: string }>('samples.start', { runId: toyRun, sampler: 'euler_maruyama', steps: 50, seed: 3, count: 500, useEma: true, trajectoryFrames: 10 })
    const result = (await finished(jobId)) as { samples: SampleRecord[] }
    const [record] = result.samples
    expect(record!.nfe).toBe(50)
    const list = await ok<SampleRecord[]>('samples.list', { runId: toyRun })
    expect(list.map((s) => s.id)).toContain(record!.id)
    const images = await ok<{ pngDataUrl: string; gifDataUrl: string | null; frames: string[] }>('samples.image', { runId: toyRun, id: record!.id })
    expect(images.frames.length).toBe(11) // 10 trajectory frames + the final samples
    expect(gifSize(Buffer.from(images.gifDataUrl!.split(',')[1]!, 'base64'))).toEqual({ width: 256, height: 256 })
    const out = path.join(tempDir(), 'export.png')
    await ok('samples.export', { runId: toyRun, id: record!.id, path: out, what: 'png' })
    const png = new Uint8Array(fs.readFileSync(out))
    expect(decodePng(png).width).toBe(256)
    expect(readPngSettings(png)).toMatchObject({ sampler: 'euler_maruyama', settings: { seed: 3, n: 50 } })
  })

  it('compares samplers on the same seed, one record each, and estimates a likelihood', async () => {
    const { jobId } = await ok<{ jobId: string }>('samples.compare', {
      runId: toyRun,
      seed: 11,
      count: 200,
      useEma: true,
      entries: [
        { sampler: 'euler_maruyama', steps: 40 },
        { sampler: 'pc', steps: 20, settings: { snr: 0.1 } },
        { sampler: 'ode', settings: { rtol: 1e-3, atol: 1e-3 } }
      ]
    })
    const { samples } = (await finished(jobId)) as { samples: SampleRecord[] }
    expect(samples.map((s) => s.sampler)).toEqual(['euler_maruyama', 'pc', 'ode'])
    expect(new Set(samples.map((s) => s.compareId))).toEqual(new Set([jobId]))
    expect(samples[1]!.nfe).toBe(40) // PC: predictor + one corrector step per level
    expect(samples[2]!.nfe).toBeGreaterThan(5)
    const like = await ok<{ jobId: string }>('likelihood.start', { runId: toyRun, count: 64, split: 'test', rtol: 1e-3, atol: 1e-3 })
    const r = (await finished(like.jobId)) as { nllNats: number; nfe: number; bitsPerDim: number | null }
    expect(Number.isFinite(r.nllNats)).toBe(true)
    expect(r.bitsPerDim).toBeNull() // bits/dim is for 8-bit images only
    expect(r.nfe).toBeGreaterThan(0)
  })

  it.skipIf(!FASHION)('with a briefly trained FashionMNIST scorenet, every sampler writes a PNG grid of the expected size with its settings', async () => {
    const { jobId: getJob } = await ok<{ jobId: string }>('datasets.get', { name: 'fashion-mnist' })
    await finished(getJob)
    const base = PRESETS.find((p) => p.name === 'fashion-mnist-tutorial')!.config
    const { runId, jobId } = await ok<{ runId: string; jobId: string }>('runs.start', { config: { ...base, steps: 2, batchSize: 8, checkpointEvery: 2 } })
    await finished(jobId)
    const entries = [
      { sampler: 'euler_maruyama', steps: 3 },
      { sampler: 'reverse_diffusion', steps: 3 },
      { sampler: 'ancestral_sampling', steps: 3 },
      { sampler: 'pc', steps: 2 },
      { sampler: 'ald', steps: 2, settings: { stepsPerLevel: 1 } },
      { sampler: 'ode', steps: 3, settings: { method: 'euler' } }
    ]
    const cmp = await ok<{ jobId: string }>('samples.compare', { runId, seed: 1, count: 4, useEma: false, entries })
    const { samples } = (await finished(cmp.jobId)) as { samples: SampleRecord[] }
    expect(samples).toHaveLength(6)
    // Inpainting the right half of test images: the masked references are saved beside the samples.
    const inp = await ok<{ jobId: string }>('samples.start', { runId, sampler: 'pc', steps: 2, seed: 3, count: 4, useEma: false, condition: { kind: 'inpaint', mask: 'right', split: 'test' } })
    const [painted] = ((await finished(inp.jobId)) as { samples: SampleRecord[] }).samples
    const images = await ok<{ referenceDataUrl: string | null }>('samples.image', { runId, id: painted!.id })
    const ref = decodePng(new Uint8Array(Buffer.from(images.referenceDataUrl!.split(',')[1]!, 'base64')))
    expect([ref.width, ref.height]).toEqual([62, 62])
    const col = await ok<{ jobId: string }>('samples.start', { runId, sampler: 'pc', steps: 2, seed: 3, count: 4, useEma: false, condition: { kind: 'colorize', split: 'test' } })
    const colEnd = await rec.waitFor((e) => e.type === 'job' && e.job.id === col.jobId && e.job.state === 'failed')
    expect(colEnd.type === 'job' && colEnd.job.error).toMatch(/needs colour images; fashion-mnist has 1 channel/)
    for (const s of samples) {
      const png = new Uint8Array(fs.readFileSync(path.join(service.dataDir, 'runs', runId, 'samples', s.png)))
      const img = decodePng(png)
      // 4 images of 28×28 in 2 columns with make_grid's 2-pixel padding: 2·28 + 3·2 = 62.
      expect([img.width, img.height]).toEqual([62, 62])
      expect(readPngSettings(png)).toMatchObject({ sampler: s.sampler, settings: { seed: 1, batchSize: 4 } })
    }
  })
})
