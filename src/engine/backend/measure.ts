// Times one small training step on the active backend, so select.ts can pick the fastest working
// backend by measurement instead of by rank: an integrated GPU (or a software adapter) can be
// slower than Score Lab's CPU kernels, and only a measurement on this machine says which.
//
// The step is the tutorial ScoreNet (the engine's `scorenet`, default channels) on 28×28×1 at a
// small batch, with denoising score matching and Adam: the same convolutions, GroupNorm and
// transposed convolutions a real run spends its time in, at a size that takes tens of
// milliseconds on the native kernels.
import { tf } from '../tf'
import { createModel } from '../nets'
import { createSde } from '../sde'

const BATCH = 8
const SHAPE = [28, 28, 1]
/** Timed steps after the warm-up; the median is reported. */
const TIMED_STEPS = 3
/** Past this much timed work a slow backend stops early (at least one step is always timed). */
const BUDGET_MS = 1500

/**
 * What is measured, stored with the timings: a change here must invalidate timings kept from
 * an older definition of the step (select.ts puts it in the machine's fingerprint).
 */
export const MEASURED_STEP = `scorenet ${SHAPE.join('x')} batch ${BATCH}, DSM + Adam, median of up to ${TIMED_STEPS} steps after a warm-up`

export interface StepTime {
  /** Median ms of the timed steps; where `finished` is false, the time waited (a lower bound). */
  ms: number
  /** False when a step had not finished by the deadline and was no longer waited for. */
  finished: boolean
}

/**
 * Times the training step on the active backend. A backend still busy `deadlineMs` after the
 * start gets no further steps: its time is reported as at least that long, and a step still on
 * the GPU finishes in the background before its tensors are freed. (What tfjs does synchronously,
 * e.g. compiling shaders, cannot be cut short: SwiftShader spends over a minute there on a busy
 * 2-core machine, so its first start pays one step, not four.)
 */
export async function measureTrainingStep(deadlineMs = Infinity): Promise<StepTime> {
  const sde = createSde({ name: 'vesde_tutorial' })
  const model = createModel('scorenet', { shape: SHAPE, sde, seed: 0 })
  const optimizer = tf.train.adam(1e-4)
  const vars = [...model.params.values()].filter((v) => v.trainable)
  const { x, z, t, std } = tf.tidy(() => {
    const x = tf.randomNormal([BATCH, ...SHAPE], 0, 1, 'float32', 1)
    const t = tf.linspace(0.05, 1, BATCH) as tf.Tensor1D
    const std = tf.reshape(sde.marginalProb(x, t).std, [BATCH, 1, 1, 1])
    return { x, z: tf.randomNormal([BATCH, ...SHAPE], 0, 1, 'float32', 2), t, std }
  })
  const free = () => {
    tf.dispose([x, z, t, std])
    optimizer.dispose()
    model.dispose()
  }
  const step = async (): Promise<void> => {
    const loss = optimizer.minimize(() => {
      const score = model.score(tf.add(x, tf.mul(z, std)), t)
      return tf.mean(tf.sum(tf.square(tf.add(tf.mul(score, std), z)), [1, 2, 3])) as tf.Scalar
    }, true, vars)!
    // data(), not dataSync(): a synchronous read is impossible on WebGPU in Node, and awaiting the
    // value is what makes a GPU's queued work count in the time.
    try {
      const [value] = await loss.data()
      if (!Number.isFinite(value)) throw new Error(`the measured training step gave a non-finite loss (${value})`)
    } finally {
      loss.dispose()
    }
  }
  const start = performance.now()
  let timer: NodeJS.Timeout | undefined
  /** The step, or 'late' once the deadline (counted from the start) has passed. */
  const stepBefore = (pending: Promise<void>): Promise<void | 'late'> => {
    const left = deadlineMs - (performance.now() - start)
    if (!Number.isFinite(left)) return pending
    return Promise.race([pending, new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), Math.max(0, left))))]).finally(() => clearTimeout(timer))
  }
  let pending: Promise<void> | null = null
  try {
    // Warm-up (kernel setup, shader compilation, heap growth), then the timed steps.
    pending = step()
    if ((await stepBefore(pending)) === 'late') return { ms: performance.now() - start, finished: false }
    const times: number[] = []
    let spent = 0
    while (times.length < TIMED_STEPS && (times.length === 0 || spent < BUDGET_MS)) {
      const t0 = performance.now()
      pending = step()
      if ((await stepBefore(pending)) === 'late') return { ms: Math.max(performance.now() - t0, ...times), finished: false }
      const ms = performance.now() - t0
      times.push(ms)
      spent += ms
    }
    pending = null
    times.sort((a, b) => a - b)
    return { ms: times[Math.floor(times.length / 2)]!, finished: true }
  } finally {
    // A step still running owns the tensors until it ends; its error (if any) no longer matters.
    if (pending) void pending.catch(() => {}).finally(free)
    else free()
  }
}
