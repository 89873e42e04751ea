// What every Score Lab WebGPU kernel is: a tfjs kernel function that may hand a case it does not
// cover back to the stock tfjs-webgpu kernel of the same name.
import type { tf } from '../../tf'

export type TensorInfo = tf.TensorInfo
export interface KernelArgs {
  inputs: Record<string, TensorInfo>
  backend: unknown
  attrs?: Record<string, unknown>
}
/** The stock tfjs-webgpu kernel of the same name (throws where there is none). */
export type StockKernel = (args: KernelArgs) => TensorInfo | TensorInfo[]
export type OwnKernel = (args: KernelArgs, stock: StockKernel) => TensorInfo | TensorInfo[]
