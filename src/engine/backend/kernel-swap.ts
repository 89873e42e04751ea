// Kernels of our own swapped in over a tfjs backend's stock ones, and back out: the native C++
// kernels on wasm (native-kernels.ts) and the WebGPU kernels on webgpu (webgpu/kernels.ts). The
// stock kernels are kept, so one process can run and compare both sets (the self-check, the
// benches), and so ours can hand a case they do not cover to the stock kernel of the same name.
import { tf } from '../tf'

type Args = { inputs: Record<string, tf.TensorInfo>; backend: unknown; attrs?: Record<string, unknown> }
export type KernelResult = tf.TensorInfo | tf.TensorInfo[]

export class KernelSwap {
  private active = false
  /** The stock kernels while ours are in (undefined where the backend had none). */
  private readonly saved = new Map<string, tf.KernelConfig | undefined>()

  /** `noStock(name)`: the error when ours hand a case on and the backend has no kernel of that name. */
  constructor(
    readonly backend: string,
    private readonly noStock: (name: string) => string
  ) {}

  get isOn(): boolean {
    return this.active
  }

  /** Runs the stock kernel `name` (the one ours replaced). */
  stock(name: string, args: Args): KernelResult {
    const k = this.saved.get(name)
    if (!k) throw new Error(this.noStock(name))
    return k.kernelFunc(args as never) as KernelResult
  }

  /** Registers `kernels` in place of the stock ones (true) or restores those (false). Idempotent. */
  use(on: boolean, kernels: Readonly<Record<string, (args: Args) => KernelResult>>): void {
    if (on === this.active) return
    if (on) {
      for (const [name, kernelFunc] of Object.entries(kernels)) {
        const prev = tf.getKernel(name, this.backend)
        this.saved.set(name, prev)
        if (prev) tf.unregisterKernel(name, this.backend)
        tf.registerKernel({ kernelName: name, backendName: this.backend, setupFunc: prev?.setupFunc, kernelFunc: kernelFunc as never })
      }
    } else {
      for (const [name, prev] of this.saved) {
        tf.unregisterKernel(name, this.backend)
        if (prev) tf.registerKernel(prev)
      }
      this.saved.clear()
    }
    this.active = on
  }
}
