// Adam over named tf.Variables, written out (rather than tf.train.adam) so its state (m, v and
// the step count) is ours to save and restore bit for bit. The update is PyTorch's (score_sde
// and the tutorial train with torch.optim.Adam):
//   m ← β1 m + (1−β1) g;  v ← β2 v + (1−β2) g²
//   p ← p − (lr/(1−β1^k)) · m / (√v/√(1−β2^k) + eps)
import { tf } from '../tf'
import { variableFrom } from '../ops/variable'
import { adamUpdate } from '../ops/optimizer-update'

export interface AdamOptions {
  beta1: number
  beta2: number
  eps: number
}

export const ADAM_DEFAULTS: AdamOptions = { beta1: 0.9, beta2: 0.999, eps: 1e-8 }

export interface NamedArray {
  shape: number[]
  data: Float32Array
}

export interface AdamState {
  /** Number of updates applied (PyTorch's state['step']). */
  step: number
  m: Record<string, NamedArray>
  v: Record<string, NamedArray>
}

export class Adam {
  readonly opts: AdamOptions
  private readonly m = new Map<string, tf.Variable>()
  private readonly v = new Map<string, tf.Variable>()
  private k = 0

  constructor(
    private readonly params: ReadonlyMap<string, tf.Variable>,
    opts: Partial<AdamOptions> = {}
  ) {
    this.opts = { ...ADAM_DEFAULTS, ...opts }
    for (const [name, p] of params) {
      this.m.set(name, variableFrom(tf.zerosLike(p), false))
      this.v.set(name, variableFrom(tf.zerosLike(p), false))
    }
  }

  get step(): number {
    return this.k
  }

  /** Applies one update with learning rate `lr`; grads are keyed by parameter name. */
  apply(grads: Record<string, tf.Tensor>, lr: number): void {
    const { beta1, beta2, eps } = this.opts
    this.k += 1
    const stepSize = lr / (1 - Math.pow(beta1, this.k))
    const bc2Sqrt = Math.sqrt(1 - Math.pow(beta2, this.k))
    tf.tidy(() => {
      for (const [name, p] of this.params) {
        const g = grads[name]
        if (!g) throw new Error(`Adam: no gradient for parameter ${name}`)
        const m = this.m.get(name)!
        const v = this.v.get(name)!
        // One fused kernel where the backend has it (webgpu), else the composite ops.
        const [p1, m1, v1] = adamUpdate(p, m, v, g, { beta1, beta2, eps, stepSize, bc2Sqrt })
        m.assign(m1)
        v.assign(v1)
        p.assign(p1)
      }
    })
  }

  /** Reads m and v back asynchronously (a synchronous read is impossible on WebGPU in Node). */
  async getState(): Promise<AdamState> {
    const step = this.k
    const [m, v] = await Promise.all([readArrays(this.m), readArrays(this.v)])
    return { step, m, v }
  }

  setState(state: AdamState): void {
    for (const [label, dst, src] of [['m', this.m, state.m], ['v', this.v, state.v]] as const) {
      for (const [name, variable] of dst) {
        const s = src[name]
        if (!s) throw new Error(`Adam state has no ${label} for parameter ${name}`)
        assignArray(variable, s, `optim.${label}.${name}`)
      }
    }
    if (!(Number.isInteger(state.step) && state.step >= 0)) throw new Error(`Adam state step must be a non-negative integer, got ${state.step}`)
    this.k = state.step
  }

  dispose(): void {
    for (const t of this.m.values()) t.dispose()
    for (const t of this.v.values()) t.dispose()
  }
}

/**
 * Host copies of named tensors, all reads issued at once so a GPU backend waits for its queue
 * once. Each read is enqueued when this is called, so later assigns do not change what it returns;
 * copied, as the cpu backend hands out its own storage.
 */
export async function readArrays(src: Iterable<[string, tf.Tensor]>): Promise<Record<string, NamedArray>> {
  const entries = [...src]
  const data = await Promise.all(entries.map(([, t]) => t.data()))
  const out: Record<string, NamedArray> = {}
  entries.forEach(([name, t], i) => (out[name] = { shape: [...t.shape], data: (data[i] as Float32Array).slice() }))
  return out
}

/** Assigns saved values to a variable after checking the shape (naming the tensor on mismatch). */
export function assignArray(variable: tf.Variable, arr: NamedArray, label: string): void {
  if (arr.shape.join() !== variable.shape.join()) {
    throw new Error(`${label}: saved shape [${arr.shape.join(', ')}] does not match the model's [${variable.shape.join(', ')}]`)
  }
  tf.tidy(() => variable.assign(tf.tensor(arr.data, arr.shape, 'float32')))
}
