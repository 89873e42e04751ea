// Measures a few training steps at small batches: the peak tensor memory and the time per step,
// each fitted as a + b·batch, so the lab can say before a run starts how long it will take and
// whether its batch fits the backend's memory (a wasm heap stops at 4 GiB, and a batch past it
// fails deep inside a kernel with "memory access out of bounds").
import { tf } from '../tf'
import type { Trainer } from './trainer'

export interface LinearFit {
  /** Fixed part (bytes or ms). */
  base: number
  /** Per example. */
  perExample: number
}

export interface StepProbe {
  /** Peak bytes of live tensors during one step (parameters, optimiser state and activations). */
  memory: LinearFit
  /** Milliseconds per step. */
  time: LinearFit
  batches: number[]
}

function fit(xs: number[], ys: number[]): LinearFit {
  const [x0, x1] = [xs[0]!, xs[xs.length - 1]!]
  const [y0, y1] = [ys[0]!, ys[ys.length - 1]!]
  const perExample = Math.max(0, (y1 - y0) / (x1 - x0))
  return { base: Math.max(0, y0 - perExample * x0), perExample }
}

/**
 * The batches the run form's probe measures. Small enough to be quick (about a second for the
 * tutorial ScoreNet), and both past the size where fixed per-step memory (kernel scratch, Adam
 * and EMA state) still bends the curve: fitted from 16 and 64 the tutorial's per-example memory
 * came out 20 % low and the predicted largest batch did not fit (bench/results/*-memory.md).
 */
export const PROBE_BATCHES = [32, 64]

const median = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)]!

/**
 * Runs `repeats` + 1 steps per batch size on random data of `shape` with a fresh trainer from
 * `make` (the first step of each is a warm-up, not timed), and fits memory and time.
 */
export async function probeTrainingSteps(make: () => Trainer, shape: number[], batches: number[], repeats = 2): Promise<StepProbe> {
  const peaks: number[] = []
  const times: number[] = []
  for (const b of batches) {
    const trainer = make()
    const x = tf.randomNormal([b, ...shape])
    try {
      trainer.step(x) // warm-up: first-call kernel setup
      await trainer.readPending()
      const profile = await tf.profile(() => {
        trainer.step(x)
      })
      await trainer.readPending()
      peaks.push(profile.peakBytes)
      const ms: number[] = []
      for (let i = 0; i < repeats; i++) {
        // A step with its read: the read is where an asynchronous backend's work is waited for.
        const t0 = performance.now()
        trainer.step(x)
        await trainer.readPending()
        ms.push(performance.now() - t0)
      }
      times.push(median(ms))
    } finally {
      x.dispose()
      trainer.dispose()
      trainer.model.dispose()
    }
  }
  return { memory: fit(batches, peaks), time: fit(batches, times), batches }
}

/** The largest batch whose fitted peak stays within `limitBytes`. */
export function largestBatch(memory: LinearFit, limitBytes: number): number {
  if (memory.perExample <= 0) return Number.POSITIVE_INFINITY
  return Math.max(0, Math.floor((limitBytes - memory.base) / memory.perExample))
}
