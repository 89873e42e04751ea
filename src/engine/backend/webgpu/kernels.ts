// Score Lab's own WebGPU kernels for the ops that dominate a ScoreNet step (convolution and both
// its gradients, the fused GroupNorm+bias+swish each way, Concat/SplitV, the fused Adam and EMA
// updates), registered on tfjs-webgpu the way native-kernels.ts registers the C++ kernels on wasm.
// Why: tfjs-webgpu's conv backprop and normalisation are generic (GroupNorm alone is ~15
// dispatches and as many passes over the activations), and the CPU path only became fast once
// the hot ops had kernels of their own.
//
// `useWebgpuKernels(true)` swaps ours in and keeps the stock ones for `useWebgpuKernels(false)`
// (the self-check and the bench compare both in one process).
import { tf } from '../../tf'
import { CONV_KERNELS } from './conv'
import { NORM_KERNELS } from './group-norm'
import { COPY_KERNELS } from './concat'
import { OPTIMIZER_KERNELS } from './optimizer'
import { KernelSwap } from '../kernel-swap'
import type { KernelArgs, OwnKernel } from './types'

const BACKEND = 'webgpu'

/** Every kernel we register, by tfjs kernel name (one list, read by the registry and the bench). */
export const WEBGPU_KERNELS: Readonly<Record<string, OwnKernel>> = { ...CONV_KERNELS, ...NORM_KERNELS, ...COPY_KERNELS, ...OPTIMIZER_KERNELS }

/** tfjs-webgpu's own kernels, kept while ours are in (useWebgpuKernels). */
const swap = new KernelSwap(BACKEND, (name) => `${name}: Score Lab's WebGPU kernel does not handle this case and tfjs-webgpu has no kernel for it`)

/** Our kernels as tfjs kernel functions, each handing what it does not cover to the stock one (read at each swap). */
const registered = () =>
  Object.fromEntries(Object.entries(WEBGPU_KERNELS).map(([name, own]) => [name, (args: KernelArgs) => own(args, (a: KernelArgs) => swap.stock(name, a))]))

/**
 * Swaps our kernels in (true) or restores the stock ones (false). Returns false when the webgpu
 * backend is not registered. Safe to call repeatedly.
 */
export function useWebgpuKernels(on: boolean): boolean {
  if (!tf.findBackendFactory(BACKEND)) return false
  swap.use(on, registered())
  return true
}

/** True while our kernels are registered and webgpu is the active backend. */
export function webgpuKernelsActive(): boolean {
  return swap.isOn && tf.getBackend() === BACKEND
}
