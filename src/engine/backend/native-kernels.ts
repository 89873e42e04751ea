// Native kernels for the wasm backend: Conv2D, Conv2DBackpropInput and Conv2DBackpropFilter (the
// FLOPs of a conv net) and a fused GroupNorm(+bias, +swish) with its gradient, run by the C++
// addon directly on the wasm heap (Float32Array views; nothing is copied). Everything else stays
// on wasm's SIMD kernels. The GroupNorm op that calls the fused kernel is ops/group-norm.ts.
//
// Why native code: WebAssembly SIMD is 128 bits wide and (without relaxed-SIMD, behind a flag in
// Node 20) has no fused multiply-add, so its peak is a quarter of AVX+FMA's; bench/README.md has
// the measurements that ruled out reaching issue 5's 2× goal with wasm kernels alone.
//
// `useNativeKernels(true)` swaps the kernels in and keeps wasm's own for `useNativeKernels(false)`,
// so one process can time and compare both (the `native` and `wasm` backends in select.ts).
import { tf } from '../tf'
import { GROUP_NORM_GRAD_KERNEL, GROUP_NORM_KERNEL, type GroupNormAttrs } from '../ops/group-norm'
import { loadNativeAddon, type NativeAddon } from './native-addon'
import { registerWasmTrainingKernels } from './wasm-kernels'
import { KernelSwap } from './kernel-swap'

type TensorInfo = tf.TensorInfo
type KernelArgs = { inputs: Record<string, TensorInfo>; backend: unknown; attrs?: Record<string, unknown> }

interface WasmBackendLike {
  makeOutput(shape: number[], dtype: 'float32'): TensorInfo
  typedArrayFromHeap(t: TensorInfo): Float32Array
}

const BACKEND = 'wasm'

let addon: NativeAddon | null = null
/** wasm's own kernels, kept while ours are in (useNativeKernels). */
const swap = new KernelSwap(BACKEND, (name) => `${name}: the native kernel does not handle this case and wasm has no kernel for it`)

function fallback(name: string, args: KernelArgs): TensorInfo | TensorInfo[] {
  return swap.stock(name, args)
}

/** [B H W C OH OW CO KH KW sh sw dh dw top left] from tfjs' conv info. */
function geometry(info: tf.backend_util.Conv2DInfo): Int32Array {
  return Int32Array.from([
    info.batchSize, info.inHeight, info.inWidth, info.inChannels,
    info.outHeight, info.outWidth, info.outChannels,
    info.filterHeight, info.filterWidth, info.strideHeight, info.strideWidth,
    info.dilationHeight, info.dilationWidth, info.padInfo.top, info.padInfo.left
  ])
}

const isFloatNhwc = (attrs: Record<string, unknown>, ...ts: TensorInfo[]) =>
  (attrs.dataFormat ?? 'NHWC') === 'NHWC' && ts.every((t) => t.dtype === 'float32')

function conv2D(args: KernelArgs): TensorInfo | TensorInfo[] {
  const { x, filter } = args.inputs as { x: TensorInfo; filter: TensorInfo }
  const attrs = args.attrs ?? {}
  if (!isFloatNhwc(attrs, x, filter)) return fallback('Conv2D', args)
  const info = tf.backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number], filter.shape as [number, number, number, number],
    attrs.strides as number, (attrs.dilations ?? 1) as number, attrs.pad as never, attrs.dimRoundingMode as never)
  const backend = args.backend as WasmBackendLike
  const out = backend.makeOutput(info.outShape, 'float32')
  // Views after the allocation: makeOutput may grow (and so detach) the heap.
  addon!.conv2d(backend.typedArrayFromHeap(x), backend.typedArrayFromHeap(filter), backend.typedArrayFromHeap(out), geometry(info))
  return out
}

type ConvRun = (a: Float32Array, b: Float32Array, out: Float32Array, geom: Int32Array) => void

/** The two gradient kernels: conv info from the forward shapes, dy checked against it, one output. */
function convGradient(
  name: string, args: KernelArgs, operands: [TensorInfo, TensorInfo], dy: TensorInfo,
  xShape: number[], filterShape: number[], outShape: number[], run: ConvRun
): TensorInfo | TensorInfo[] {
  const attrs = args.attrs ?? {}
  if (!isFloatNhwc(attrs, ...operands)) return fallback(name, args)
  const info = tf.backend_util.computeConv2DInfo(
    xShape as [number, number, number, number], filterShape as [number, number, number, number],
    attrs.strides as number, 1, attrs.pad as never, attrs.dimRoundingMode as never)
  if (info.outHeight !== dy.shape[1] || info.outWidth !== dy.shape[2]) return fallback(name, args)
  const backend = args.backend as WasmBackendLike
  const out = backend.makeOutput(outShape, 'float32')
  run(backend.typedArrayFromHeap(operands[0]), backend.typedArrayFromHeap(operands[1]), backend.typedArrayFromHeap(out), geometry(info))
  return out
}

function conv2DBackpropInput(args: KernelArgs): TensorInfo | TensorInfo[] {
  const { dy, filter } = args.inputs as { dy: TensorInfo; filter: TensorInfo }
  const inputShape = args.attrs?.inputShape as number[]
  return convGradient('Conv2DBackpropInput', args, [dy, filter], dy, inputShape, filter.shape, inputShape, (a, b, o, g) => addon!.conv2dBackpropInput(a, b, o, g))
}

function conv2DBackpropFilter(args: KernelArgs): TensorInfo | TensorInfo[] {
  const { x, dy } = args.inputs as { x: TensorInfo; dy: TensorInfo }
  const filterShape = args.attrs?.filterShape as number[]
  return convGradient('Conv2DBackpropFilter', args, [x, dy], dy, x.shape, filterShape, filterShape, (a, b, o, g) => addon!.conv2dBackpropFilter(a, b, o, g))
}

function normGeometry(x: TensorInfo, attrs: GroupNormAttrs, hasBias: boolean): Int32Array {
  const [b, h, w, c] = x.shape as [number, number, number, number]
  return Int32Array.from([b, h * w, c, attrs.groups, attrs.swish ? 1 : 0, hasBias ? 1 : 0])
}

/** Inputs x [B,H,W,C], bias [B,C] (optional), gamma [C], beta [C] → [y, mean [B,G], rstd [B,G]]. */
function groupNorm(args: KernelArgs): TensorInfo[] {
  const { x, bias, gamma, beta } = args.inputs as Record<string, TensorInfo>
  const attrs = args.attrs as unknown as GroupNormAttrs
  const backend = args.backend as WasmBackendLike
  const B = x!.shape[0]!
  const y = backend.makeOutput(x!.shape, 'float32')
  const mean = backend.makeOutput([B, attrs.groups], 'float32')
  const rstd = backend.makeOutput([B, attrs.groups], 'float32')
  const v = (t: TensorInfo | undefined) => (t ? backend.typedArrayFromHeap(t) : null)
  addon!.groupNormForward(v(x)!, v(bias), v(gamma)!, v(beta)!, v(y)!, v(mean)!, v(rstd)!, normGeometry(x!, attrs, Boolean(bias)), attrs.eps)
  return [y, mean, rstd]
}

/** Concat along any axis of float32 tensors: one strided block copy per input. */
function concat(args: KernelArgs): TensorInfo | TensorInfo[] {
  const inputs = Object.values(args.inputs)
  if (inputs.length < 2 || inputs.some((t) => t.dtype !== 'float32')) return fallback('Concat', args)
  const rank = inputs[0]!.shape.length
  const axis = tf.util.parseAxisParam(args.attrs!.axis as number, inputs[0]!.shape)[0]!
  const outShape = tf.backend_util.computeOutShape(inputs.map((t) => t.shape), axis)
  const backend = args.backend as WasmBackendLike
  const out = backend.makeOutput(outShape, 'float32')
  const outer = outShape.slice(0, axis).reduce((a, b) => a * b, 1)
  const total = outShape.slice(axis, rank).reduce((a, b) => a * b, 1)
  const dst = backend.typedArrayFromHeap(out)
  let offset = 0
  for (const t of inputs) {
    const inner = t.shape.slice(axis).reduce((a, b) => a * b, 1)
    if (inner > 0) addon!.copyBlocks(backend.typedArrayFromHeap(t), dst, Int32Array.from([outer, inner, 0, total, offset, inner]))
    offset += inner
  }
  return out
}

/** SplitV (concat's gradient) along any axis: one strided block copy per output. */
function splitV(args: KernelArgs): TensorInfo | TensorInfo[] {
  const { x } = args.inputs as { x: TensorInfo }
  if (x.dtype !== 'float32') return fallback('SplitV', args)
  const axis = tf.util.parseAxisParam(args.attrs!.axis as number, x.shape)[0]!
  const sizes = tf.backend_util.prepareSplitSize(x as never, args.attrs!.numOrSizeSplits as number[], axis)
  const backend = args.backend as WasmBackendLike
  const outs = sizes.map((s) => backend.makeOutput(x.shape.map((d, i) => (i === axis ? s : d)), 'float32'))
  const src = backend.typedArrayFromHeap(x) // after the allocations, which may grow the heap
  const outer = x.shape.slice(0, axis).reduce((a, b) => a * b, 1)
  const rest = x.shape.slice(axis + 1).reduce((a, b) => a * b, 1)
  const total = x.shape[axis]! * rest
  let offset = 0
  outs.forEach((o, i) => {
    const inner = sizes[i]! * rest
    if (inner > 0) addon!.copyBlocks(src, backend.typedArrayFromHeap(o), Int32Array.from([outer, total, offset, inner, 0, inner]))
    offset += inner
  })
  return outs
}

/** Inputs dy, x, bias?, gamma, beta, mean, rstd → [dx, dgamma, dbeta, dbias?]. */
function groupNormGrad(args: KernelArgs): TensorInfo[] {
  const { dy, x, bias, gamma, beta, mean, rstd } = args.inputs as Record<string, TensorInfo>
  const attrs = args.attrs as unknown as GroupNormAttrs
  const backend = args.backend as WasmBackendLike
  const C = x!.shape[3]!
  const dx = backend.makeOutput(x!.shape, 'float32')
  const dgamma = backend.makeOutput([C], 'float32')
  const dbeta = backend.makeOutput([C], 'float32')
  const dbias = bias ? backend.makeOutput(bias.shape, 'float32') : undefined
  const v = (t: TensorInfo | undefined) => (t ? backend.typedArrayFromHeap(t) : null)
  addon!.groupNormBackward(
    v(dy)!, v(x)!, v(bias), v(gamma)!, v(beta)!, v(mean)!, v(rstd)!, v(dx)!, v(dbias), v(dgamma)!, v(dbeta)!,
    normGeometry(x!, attrs, Boolean(bias)), attrs.eps)
  return dbias ? [dx, dgamma, dbeta, dbias] : [dx, dgamma, dbeta]
}

const OVERRIDES: Record<string, (args: KernelArgs) => TensorInfo | TensorInfo[]> = {
  Conv2D: conv2D,
  Conv2DBackpropInput: conv2DBackpropInput,
  Conv2DBackpropFilter: conv2DBackpropFilter,
  Concat: concat,
  SplitV: splitV,
  [GROUP_NORM_KERNEL]: groupNorm,
  [GROUP_NORM_GRAD_KERNEL]: groupNormGrad
}

/** What the native kernels run on, or why they are unavailable. */
export function nativeStatus(): { available: boolean; reason: string; kernel?: string; threads?: number } {
  const { addon: a, reason } = loadNativeAddon()
  if (!a) return { available: false, reason }
  const { kernel, threads } = a.info()
  return { available: true, reason: '', kernel, threads }
}

/**
 * Swaps the native kernels in (true) or restores wasm's own (false). Returns false when the
 * addon is unavailable (nativeStatus() says why). Safe to call repeatedly.
 */
export function useNativeKernels(on: boolean): boolean {
  registerWasmTrainingKernels()
  if (on === swap.isOn) return true
  if (on) {
    addon = loadNativeAddon().addon
    if (!addon) return false
  }
  swap.use(on, OVERRIDES)
  return true
}

/** True while the native kernels are registered and the wasm backend is the active one. */
export function nativeKernelsActive(): boolean {
  return swap.isOn && tf.getBackend() === BACKEND
}

