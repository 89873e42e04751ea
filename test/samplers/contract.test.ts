// The common contract: same seed → same x_T everywhere, cancellation frees everything,
// NFE/steps accounting, progress reports, the registry, and sample grids from a real ScoreNet.
import { beforeAll, describe, expect, it } from 'vitest'
import { tf } from '../../src/engine/tf'
import { createSde } from '../../src/engine/sde'
import { createModel } from '../../src/engine/nets'
import { getSampler, initialNoise, listSamplers, logLikelihood, runSampler, SAMPLERS } from '../../src/engine/samplers'
import type { StepInfo } from '../../src/engine/samplers/types'
import { makeGrid } from '../../src/engine/images/grid'
import { encodePng, readPngSettings } from '../../src/engine/images/png'
import { gifSize, trajectoryToGif } from '../../src/engine/images/gif'
import { fastScore, gaussianToy } from './helpers'

beforeAll(async () => {
  await tf.setBackend('cpu')
})

/** Cheap settings per sampler for contract checks. */
const QUICK: Record<string, Record<string, unknown>> = {
  euler_maruyama: { n: 10 },
  reverse_diffusion: { n: 10 },
  ancestral_sampling: { n: 10 },
  pc: { n: 10, nSteps: 2 },
  ald: { n: 3, stepsPerLevel: 4 },
  ode: { method: 'euler', n: 7 },
  ddim: { n: 6, eta: 0.5 },
  heun: { n: 5, sChurn: 1 },
  dpmpp_2m: { n: 6 },
  dpmpp_3m_sde: { n: 6 },
  adaptive_sde: { rtol: 0.2, hInit: 0.05 }
}

const sde = createSde({ name: 'vpsde' })
const score = fastScore(gaussianToy(), sde)

describe('sampler contract', () => {
  it('registers the samplers, with defaults and JSON schemas for pickers', () => {
    expect(Object.keys(SAMPLERS)).toEqual(['euler_maruyama', 'reverse_diffusion', 'ancestral_sampling', 'pc', 'ald', 'ode', 'ddim', 'heun', 'dpmpp_2m', 'dpmpp_3m_sde', 'adaptive_sde'])
    const list = listSamplers()
    expect(list.map((s) => s.name)).toEqual(Object.keys(SAMPLERS))
    const pc = list.find((s) => s.name === 'pc')!
    expect(pc.defaults).toMatchObject({ predictor: 'reverse_diffusion', corrector: 'langevin', snr: 0.16, nSteps: 1, denoise: true, seed: 0 })
    expect(JSON.stringify(pc.schema)).toContain('ancestral_sampling')
    expect(() => getSampler('lms')).toThrow(/Unknown sampler/)
  })

  it('gives every sampler the same initial noise for the same seed', async () => {
    const firsts: Float32Array[] = []
    for (const name of Object.keys(SAMPLERS)) {
      let x0: Float32Array | undefined
      const res = await runSampler(name, score, sde, { batchSize: 16, seed: 42, every: 1, ...QUICK[name] }, {
        shape: [2],
        onStep: (info) => { if (info.i === 0) x0 = info.x }
      })
      res.samples.dispose()
      expect(x0, name).toBeInstanceOf(Float32Array)
      firsts.push(x0!)
    }
    const ref = initialNoise(sde, [16, 2], 42)
    const expected = Array.from(ref.dataSync())
    ref.dispose()
    for (const x of firsts) expect(Array.from(x)).toEqual(expected)
    const other = initialNoise(sde, [16, 2], 43)
    expect(Array.from(other.dataSync())).not.toEqual(expected)
    other.dispose()
  })

  it('is deterministic for a seed and differs across seeds', async () => {
    const run = async (seed: number) => {
      // n ≥ 21 on vpsde: DDPM betas are linspace(β_min/N, β_max/N, N), so 1 − β_i < 0 (NaN) for N ≤ 20.
      const r = await runSampler('pc', score, sde, { batchSize: 32, seed, n: 30 }, { shape: [2] })
      const v = Array.from(await r.samples.data())
      r.samples.dispose()
      return v
    }
    const a = await run(5)
    expect(a.every(Number.isFinite)).toBe(true)
    expect(a).toEqual(await run(5))
    expect(await run(5)).not.toEqual(await run(6))
  })

  it.each(Object.keys(QUICK))('%s: cancelling between steps frees every tensor', async (name) => {
    const before = tf.memory().numTensors
    const ctrl = new AbortController()
    let seen = 0
    const run = runSampler(name, score, sde, { batchSize: 64, ...QUICK[name] }, {
      shape: [2],
      signal: ctrl.signal,
      onStep: () => { if (++seen === 3) ctrl.abort() }
    })
    await expect(run).rejects.toThrow(/abort/i)
    expect(seen).toBe(3)
    expect(tf.memory().numTensors).toBe(before)
    // Already aborted before the first step.
    await expect(runSampler(name, score, sde, { batchSize: 8, ...QUICK[name] }, { shape: [2], signal: AbortSignal.abort() })).rejects.toThrow()
    expect(tf.memory().numTensors).toBe(before)
  })

  it('a cancelled likelihood solve frees every tensor', async () => {
    const toy = gaussianToy()
    const x = tf.randomNormal([16, 2])
    const before = tf.memory().numTensors
    const ctrl = new AbortController()
    const run = logLikelihood(toy.scoreFn(sde), sde, x, { signal: ctrl.signal, onStep: (i) => { if (i.step === 2) ctrl.abort() } })
    await expect(run).rejects.toThrow(/abort/i)
    expect(tf.memory().numTensors).toBe(before)
    x.dispose()
  })

  it('counts NFE and steps, reports progress, and hands x out as Float32Array every k steps', async () => {
    const expectNfe: Record<string, [number, number]> = {
      euler_maruyama: [10, 10], reverse_diffusion: [10, 10], ancestral_sampling: [10, 10],
      pc: [30, 10], // n·(1 predictor + 2 corrector steps)
      ald: [13, 12], // L·T + 1 for the Tweedie denoising step
      ode: [8, 7], // n Euler steps + 1 reverse-diffusion denoising step
      ddim: [6, 6], dpmpp_2m: [6, 6], dpmpp_3m_sde: [6, 6], // n levels, the last step lands on x̂₀ at σ = 0
      heun: [9, 5] // 2n − 1: the last step (to σ = 0) is Euler only
    }
    for (const [name, [nfe, steps]] of Object.entries(expectNfe)) {
      const infos: StepInfo[] = []
      const res = await runSampler(name, score, sde, { batchSize: 8, every: 2, ...QUICK[name] }, { shape: [2], onStep: (i) => { infos.push(i) } })
      expect(res.samples.shape).toEqual([8, 2])
      res.samples.dispose()
      expect([res.nfe, res.steps], name).toEqual([nfe, steps])
      expect(res.stepsPerSecond).toBeGreaterThan(0)
      expect(infos.map((i) => i.i)).toEqual(Array.from({ length: steps + 1 }, (_, k) => k))
      expect(infos.at(-1)!.progress).toBeCloseTo(1, 6)
      for (const info of infos) {
        const want = info.i % 2 === 0 || info.i === steps
        expect(info.x !== undefined, `${name} step ${info.i}`).toBe(want)
        if (info.x) expect(info.x).toBeInstanceOf(Float32Array)
        if (info.x) expect(info.x.length).toBe(16)
      }
    }
  })

  it('validates settings and refuses what an SDE cannot do', async () => {
    await expect(runSampler('pc', score, sde, { batchSize: 4, snr: -1 }, { shape: [2] })).rejects.toThrow(/snr/)
    await expect(runSampler('pc', score, sde, { batchSize: 4, predictor: 'heun' }, { shape: [2] })).rejects.toThrow(/predictor/)
    await expect(runSampler('ode', score, sde, { batchSize: 4, sigma: 3 }, { shape: [2] })).rejects.toThrow(/sigma/)
    const subvp = createSde({ name: 'subvpsde' })
    await expect(runSampler('ancestral_sampling', fastScore(gaussianToy(), subvp), subvp, { batchSize: 4, n: 5 }, { shape: [2] })).rejects.toThrow(/ancestral/)
  })
})

describe('sample grids from a ScoreNet', () => {
  it('every sampler writes a PNG grid of the expected size with its settings in the text chunk, and a trajectory GIF', async () => {
    const tsde = createSde({ name: 'vesde_tutorial' })
    const model = createModel('scorenet', { shape: [28, 28, 1], sde: tsde, seed: 0 })
    const settingsFor: Record<string, Record<string, unknown>> = {
      euler_maruyama: { n: 2 }, reverse_diffusion: { n: 2 }, ancestral_sampling: { n: 2 },
      pc: { n: 2 }, ald: { n: 2, stepsPerLevel: 1, denoise: false }, ode: { method: 'euler', n: 1, denoise: false }
    }
    try {
      for (const [name, s] of Object.entries(settingsFor)) {
        const settings = { batchSize: 2, seed: 1, ...s }
        const frames: Float32Array[] = []
        const res = await runSampler(name, (x, t) => model.score(x, t), tsde, { ...settings, every: 1 }, {
          shape: [28, 28, 1],
          onStep: (info) => { if (info.x) frames.push(info.x) }
        })
        const data = new Float32Array(await res.samples.data())
        res.samples.dispose()
        const png = encodePng(makeGrid(data, [2, 28, 28, 1]), { sampler: name, sde: tsde.toConfig(), ...settings, nfe: res.nfe })
        // 1×2 tiles of 28 px with 2 px padding: 2·30 + 2 = 62 wide, 30 + 2 = 32 high.
        const ihdr = new DataView(png.buffer, png.byteOffset)
        expect([ihdr.getUint32(16), ihdr.getUint32(20)]).toEqual([62, 32])
        expect(readPngSettings(png)).toMatchObject({ sampler: name, sde: { name: 'vesde_tutorial' }, nfe: res.nfe, ...s })
        expect(frames.length).toBe(res.steps + 1)
        expect(gifSize(trajectoryToGif(frames, [2, 28, 28, 1], { range: [-1, 1] }))).toEqual({ width: 62, height: 32 })
      }
    } finally {
      model.dispose()
    }
  })
})
