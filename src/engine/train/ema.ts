// Exponential moving average of the weights, as score_sde's models/ema.py:
//   n ← n + 1;  d = min(decay, (1 + n)/(10 + n));  shadow ← shadow − (1 − d)(shadow − param)
// The warm-up in d keeps early shadows from being dominated by the random initialisation.
import { tf } from '../tf'
import { assignArray, readArrays, type NamedArray } from './adam'
import { variableFrom } from '../ops/variable'
import { emaUpdate } from '../ops/optimizer-update'

export interface EmaState {
  decay: number
  numUpdates: number
  shadow: Record<string, NamedArray>
}

export class Ema {
  readonly shadow = new Map<string, tf.Variable>()
  private n = 0

  constructor(
    private readonly params: ReadonlyMap<string, tf.Variable>,
    readonly decay: number
  ) {
    if (!(decay >= 0 && decay < 1)) throw new Error(`EMA decay must be in [0, 1), got ${decay}`)
    for (const [name, p] of params) this.shadow.set(name, variableFrom(tf.clone(p), false))
  }

  get numUpdates(): number {
    return this.n
  }

  update(): void {
    this.n += 1
    const d = Math.min(this.decay, (1 + this.n) / (10 + this.n))
    tf.tidy(() => {
      for (const [name, p] of this.params) {
        const s = this.shadow.get(name)!
        s.assign(emaUpdate(s, p, { oneMinusDecay: 1 - d })) // one fused kernel on webgpu, else the composite ops
      }
    })
  }

  /** Reads the shadows back asynchronously (a synchronous read is impossible on WebGPU in Node). */
  async getState(): Promise<EmaState> {
    const numUpdates = this.n
    return { decay: this.decay, numUpdates, shadow: await readArrays(this.shadow) }
  }

  setState(state: EmaState): void {
    for (const [name, variable] of this.shadow) {
      const s = state.shadow[name]
      if (!s) throw new Error(`EMA state has no shadow for parameter ${name}`)
      assignArray(variable, s, `ema.${name}`)
    }
    this.n = state.numUpdates
  }

  dispose(): void {
    for (const t of this.shadow.values()) t.dispose()
  }
}
