// One batch size, one process: a training step of the tutorial ScoreNet through the engine's own
// Trainer (Adam + EMA, as the lab trains) and what it cost in memory. Prints `RESULT {json}`.
// A fresh process per batch, because the wasm heap only grows: its size after the steps is that
// batch's peak, and peak RSS is the process's.
//   node --import tsx bench/memory-worker.ts --backend native --batch 64 [--steps 2] [--probe]
import { tf } from '../src/engine/tf'
import { selectBackend } from '../src/engine/backend/select'
import { usableMemoryBytes } from '../src/engine/backend/memory-limit'
import type { BackendName } from '../src/engine/backend/types'
import { createModel } from '../src/engine/nets'
import { createSde } from '../src/engine/sde'
import { Trainer } from '../src/engine/train'
import { largestBatch, PROBE_BATCHES, probeTrainingSteps } from '../src/engine/train/probe'
import { flag, opt } from './worker-args'

const BACKEND = opt('backend', 'native') as BackendName
const BATCH = Number(opt('batch', '64'))
const STEPS = Number(opt('steps', '2'))
const SHAPE = [28, 28, 1]

function heapBytes(): number | null {
  const b = tf.backend() as unknown as { wasm?: { HEAPU8?: Uint8Array } }
  return b.wasm?.HEAPU8?.buffer.byteLength ?? null
}

function makeTrainer(): Trainer {
  const sde = createSde({ name: 'vesde_tutorial' })
  const model = createModel('scorenet', { shape: SHAPE, sde, seed: 0 })
  // The lab's defaults for the tutorial preset: Adam, EMA on.
  return new Trainer({ model, sde, config: { lr: 1e-4, batchSize: BATCH, seed: 0, emaDecay: 0.999 }, dataShape: SHAPE })
}

async function main(): Promise<void> {
  if (!tf.getGradient('Conv2D')) await import('@tensorflow/tfjs-core/dist/register_all_gradients')
  const info = await selectBackend({ force: BACKEND })
  const result: Record<string, unknown> = { backend: BACKEND, device: info.device, batch: BATCH }
  if (flag('probe')) {
    // What the run form's check runs (probe-job.ts): steps at PROBE_BATCHES, fitted a + b·batch.
    const probe = await probeTrainingSteps(makeTrainer, SHAPE, PROBE_BATCHES, 1)
    const limit = usableMemoryBytes(BACKEND)
    result.probe = { memory: probe.memory, limitBytes: limit, largestBatch: limit === null ? null : largestBatch(probe.memory, limit) }
  } else {
    const rss0 = process.memoryUsage().rss
    const heap0 = heapBytes()
    const trainer = makeTrainer()
    const x = tf.randomNormal([BATCH, ...SHAPE])
    let peakTensorBytes = 0
    try {
      for (let i = 0; i < STEPS; i++) {
        const p = await tf.profile(async () => {
          trainer.step(x)
          await trainer.readPending()
        })
        peakTensorBytes = Math.max(peakTensorBytes, p.peakBytes)
      }
      result.ok = true
    } catch (e) {
      result.ok = false
      result.error = String((e as Error).message ?? e).split('\n')[0]
    }
    result.peakTensorBytes = peakTensorBytes
    result.heapBytesBefore = heap0
    result.heapBytes = heapBytes()
    result.rssBeforeBytes = rss0
    result.peakRssBytes = process.resourceUsage().maxRSS * 1024
  }
  console.log('RESULT ' + JSON.stringify(result))
  process.exit(0)
}

main().catch((e) => {
  console.log('RESULT ' + JSON.stringify({ ok: false, error: String((e as Error).message ?? e).split('\n')[0] }))
  process.exit(0)
})
