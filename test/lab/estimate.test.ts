// Cost before commitment: the probe's memory and time fits, the refusal of a batch past the
// backend's memory (instead of "memory access out of bounds" inside a kernel), the time
// budget, and whether a run will queue.
import { afterAll, describe, expect, it } from 'vitest'
import { createLabService } from '../../src/lab/service'
import { createDispatch } from '../../src/lab/dispatch'
import { PRESETS } from '../../src/lab/catalog'
import { largestBatch } from '../../src/engine/train/probe'
import { usableMemoryBytes } from '../../src/engine/backend/memory-limit'
import type { RunEstimate, TrainConfig } from '../../src/shared/contract'
import { EventRecorder } from '../helpers/events'
import { tempDir } from '../helpers/service'

const service = createLabService({ dataDir: tempDir(), shell: 'cli' })
const call = createDispatch(service.handlers)
const rec = new EventRecorder(service.events)
afterAll(() => service.close())
const preset = (name: string) => PRESETS.find((p) => p.name === name)!.config

async function ok<T>(method: string, input: unknown): Promise<T> {
  const env = await call(method, input)
  if (!env.ok) throw new Error(env.error.message)
  return env.result as T
}

describe('run estimates', () => {
  it('fits the largest batch under a limit', () => {
    expect(largestBatch({ base: 100, perExample: 10 }, 1100)).toBe(100)
    expect(largestBatch({ base: 2000, perExample: 10 }, 1100)).toBe(0)
    expect(usableMemoryBytes('native')).toBeLessThan(2 ** 32)
    expect(usableMemoryBytes('tensorflow')).toBeNull()
  })

  it('measures a ScoreNet step: memory grows with the batch, and batch 4096 on FashionMNIST is refused with the batch that fits', async () => {
    const base = { ...(PRESETS.find((p) => p.config.dataset === 'fashion-mnist') ?? PRESETS.find((p) => p.config.model === 'scorenet')!).config, dataset: 'fashion-mnist', model: 'scorenet' } as TrainConfig
    const small = await ok<RunEstimate>('runs.estimate', { config: { ...base, batchSize: 32 } })
    const big = await ok<RunEstimate>('runs.estimate', { config: { ...base, batchSize: 4096 } })
    console.log(`[estimate] scorenet fashion-mnist on ${small.backend}: batch 32 peak ${(small.peakBytes / 2 ** 20).toFixed(0)} MiB, ${small.stepMs.toFixed(0)} ms/step; batch 4096 peak ${(big.peakBytes / 2 ** 30).toFixed(2)} GiB; largest batch ${big.maxBatch}`)
    expect(big.peakBytes).toBeGreaterThan(small.peakBytes * 20)
    expect(small.stepMs).toBeGreaterThan(0)
    expect(small.seconds).toBeCloseTo((base.steps * small.stepMs) / 1000, 5)
    expect(small.basis).toMatch(/measured now/)
    if (small.limitBytes !== null) {
      // On the wasm heap (4 GiB) a ScoreNet batch of 4096 at 28×28 does not fit.
      expect(small.fits).toBe(true)
      expect(big.fits).toBe(false)
      expect(big.maxBatch!).toBeGreaterThan(32)
      expect(big.maxBatch!).toBeLessThan(4096)
      const refused = await call('runs.start', { config: { ...base, batchSize: 4096 } })
      expect(refused.ok).toBe(false)
      if (!refused.ok) expect(refused.error.message).toMatch(/Batch 4096 would need about [\d.]+ GB at its peak, more than the [\d.]+ GB the \w+ backend can hold\. The largest batch that fits is about \d+; set the batch size to \d+ or less\./)
      expect(service.runs.list()).toHaveLength(0) // nothing was created
    }
  }, 120_000)

  it('a time budget ends the run with a checkpoint, and a second run says it will wait', async () => {
    const toy = preset('toy-quick')
    const { runId, jobId } = await ok<{ runId: string; jobId: string }>('runs.start', { config: { ...toy, steps: 10_000_000, maxMinutes: 0.05, checkpointEvery: 1_000_000, previewEvery: 0 } })
    const e = await ok<RunEstimate>('runs.estimate', { config: toy })
    expect(e.waitsBehind).toBe(1)
    await rec.jobState(jobId, 'finished')
    const run = service.runs.get(runId)
    expect(run.status).toBe('finished')
    expect(run.step).toBeGreaterThan(0)
    expect(run.step).toBeLessThan(10_000_000)
    expect(run.trainMs).toBeGreaterThanOrEqual(3000)
    expect(run.trainMs).toBeLessThan(15_000)
    expect(service.runs.checkpoints(runId).at(-1)!.step).toBe(run.step)
    expect((await ok<RunEstimate>('runs.estimate', { config: toy })).waitsBehind).toBe(0)
  }, 120_000)
})
