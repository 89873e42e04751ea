// Bookkeeping shared by every sampler loop: NFE, wall time, the onStep callback (with x
// copied out of the tensor as a Float32Array), cancellation, and yielding to the event loop
// now and then so an AbortController (or a UI) gets a chance to run between steps.
import type { tf } from '../tf'
import type { Sde } from '../sde/types'
import type { SampleResult, SamplerOptions } from './types'

const YIELD_EVERY_MS = 15

export class Progress {
  nfe = 0
  private readonly started = performance.now()
  private lastYield = this.started

  constructor(
    private readonly opts: SamplerOptions,
    private readonly sde: Sde,
    /** Time interval walked, from tStart (noise) to tEnd (data), for `progress`. */
    private readonly tStart: number,
    private readonly tEnd: number,
    private readonly n: number | null
  ) {}

  /** Reports step i at time t; x is read only when the callback asked for it this step. */
  async report(i: number, t: number, x: tf.Tensor | Float64Array | null): Promise<void> {
    const { onStep, every = 0, signal } = this.opts
    if (onStep) {
      const wantX = every > 0 && x !== null && (i % every === 0 || i === this.n)
      const span = this.tStart - this.tEnd
      await onStep({
        i,
        n: this.n,
        t,
        sigma: this.sde.marginalStdAt(Math.max(t, 0)),
        nfe: this.nfe,
        // Step count when known; otherwise how much of [tEnd, tStart] is covered.
        progress: this.n ? i / this.n : span === 0 ? 1 : Math.min(1, Math.max(0, (this.tStart - t) / span)),
        // A copy: the cpu backend hands out its own buffer, which must not be transferred away.
        x: wantX ? (x instanceof Float64Array ? Float32Array.from(x) : new Float32Array(await (x as tf.Tensor).data())) : undefined
      })
    }
    const now = performance.now()
    if (now - this.lastYield > YIELD_EVERY_MS) {
      await new Promise((resolve) => setTimeout(resolve, 0))
      this.lastYield = performance.now()
    }
    signal?.throwIfAborted()
  }

  result(samples: tf.Tensor, steps: number): SampleResult {
    const seconds = (performance.now() - this.started) / 1000
    return { samples, nfe: this.nfe, steps, seconds, stepsPerSecond: seconds > 0 ? steps / seconds : Infinity }
  }
}

/** Disposes each tensor in `old` that is not also in `keep` (x and xMean are often the same tensor). */
export function disposeExcept(old: (tf.Tensor | null | undefined)[], keep: (tf.Tensor | null | undefined)[] = []): void {
  for (const t of new Set(old)) if (t && !keep.includes(t)) t.dispose()
}
