// Kernels the tfjs wasm backend (4.22) lacks for training, registered from kernels it has.
//
// tfjs-backend-wasm ships Conv2D (XNNPACK, SIMD) but no Conv2DBackpropFilter, so a conv net
// cannot train on it. The weight gradient of a convolution is itself a convolution:
//
//   dW[kh,kw,ci,co] = Σ_{b,oy,ox} x[b, oy·s + kh − padTop, ox·s + kw − padLeft, ci] · dy[b,oy,ox,co]
//
// Read with the batch and channel roles swapped this is an ordinary NHWC convolution of
//   input  X' = x  transposed to [ci, H, W, B]            (ci plays the batch, B the channels)
//   filter F' = dy transposed to [oh, ow, B, co]          (the output grid is the kernel)
// with stride 1, dilation s (the forward stride) and the forward padding, giving [ci, kh', kw', co]
// (kh' ≥ kh; the extra rows/columns, when the stride does not divide the input, are dropped),
// transposed back to [kh, kw, ci, co]. It runs entirely on wasm's own XNNPACK Conv2D.
//
// Kernels are called directly through the registry (tf.getKernel(name, 'wasm').kernelFunc) on
// TensorInfos, so nothing is taped or tracked; every intermediate is freed with disposeData.
import { tf } from '../tf'

type TensorInfo = tf.TensorInfo
type KernelFn = (args: { inputs: Record<string, TensorInfo>; backend: unknown; attrs?: Record<string, unknown> }) => TensorInfo | TensorInfo[]
interface Backend {
  disposeData(dataId: object, force?: boolean): boolean
}

const BACKEND = 'wasm'

function kernel(name: string): KernelFn {
  const k = tf.getKernel(name, BACKEND)
  if (!k) throw new Error(`wasm-kernels: the wasm backend has no ${name} kernel to build on`)
  return k.kernelFunc as unknown as KernelFn
}

function run(name: string, backend: unknown, inputs: Record<string, TensorInfo>, attrs: Record<string, unknown> = {}): TensorInfo {
  const out = kernel(name)({ inputs, backend, attrs })
  return Array.isArray(out) ? out[0]! : out
}

function free(backend: unknown, ...infos: TensorInfo[]): void {
  for (const t of infos) (backend as Backend).disposeData(t.dataId)
}

export interface Conv2DBackpropFilterAttrs {
  strides: number | [number, number]
  pad: 'valid' | 'same' | number | [[number, number], [number, number], [number, number], [number, number]]
  dataFormat?: 'NHWC' | 'NCHW'
  dimRoundingMode?: 'floor' | 'round' | 'ceil'
  filterShape: [number, number, number, number]
}

/** Conv2DBackpropFilter as one XNNPACK convolution (see the header). */
function conv2DBackpropFilter(args: { inputs: Record<string, TensorInfo>; backend: unknown; attrs?: Record<string, unknown> }): TensorInfo {
  const { inputs, backend } = args
  const { x, dy } = inputs as { x: TensorInfo; dy: TensorInfo }
  const attrs = args.attrs as unknown as Conv2DBackpropFilterAttrs
  const dataFormat = attrs.dataFormat ?? 'NHWC'
  const nhwc = dataFormat === 'NHWC'
  const [kh, kw, ci, co] = attrs.filterShape
  const info = tf.backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number],
    attrs.filterShape,
    attrs.strides,
    1,
    attrs.pad as never,
    attrs.dimRoundingMode,
    false,
    nhwc ? 'channelsLast' : 'channelsFirst'
  )
  const { strideHeight: sh, strideWidth: sw, inHeight: H, inWidth: W, outHeight: oh, outWidth: ow } = info
  const dyH = nhwc ? dy.shape[1]! : dy.shape[2]!
  const dyW = nhwc ? dy.shape[2]! : dy.shape[3]!
  if (dyH !== oh || dyW !== ow) {
    throw new Error(`Conv2DBackpropFilter (wasm): dy is ${dyH}×${dyW} but the convolution gives ${oh}×${ow}`)
  }
  const top = info.padInfo.top
  const left = info.padInfo.left
  // Padding so that the strided windows cover every row the forward pass read (exactly what the
  // reference kernel sums over: rows outside the input contribute zero).
  const bottom = Math.max(0, (oh - 1) * sh + kh - H - top)
  const right = Math.max(0, (ow - 1) * sw + kw - W - left)

  const xT = run('Transpose', backend, { x }, { perm: nhwc ? [3, 1, 2, 0] : [1, 2, 3, 0] }) // [ci,H,W,B]
  const dyT = run('Transpose', backend, { x: dy }, { perm: nhwc ? [1, 2, 0, 3] : [2, 3, 0, 1] }) // [oh,ow,B,co]
  const conv = run(
    'Conv2D',
    backend,
    { x: xT, filter: dyT },
    {
      strides: [1, 1],
      pad: [[0, 0], [top, bottom], [left, right], [0, 0]],
      dataFormat: 'NHWC',
      dilations: [sh, sw],
      dimRoundingMode: undefined
    }
  ) // [ci, kh', kw', co]
  free(backend, xT, dyT)
  let g = conv
  if (conv.shape[1] !== kh || conv.shape[2] !== kw) {
    g = run('Slice', backend, { x: conv }, { begin: [0, 0, 0, 0], size: [ci, kh, kw, co] })
    free(backend, conv)
  }
  const dW = run('Transpose', backend, { x: g }, { perm: [1, 2, 0, 3] }) // [kh,kw,ci,co]
  free(backend, g)
  return dW
}

let registered = false

/**
 * Registers the kernels a conv-net training step needs that tfjs-backend-wasm 4.22 lacks.
 * Idempotent; safe to call before or after the wasm backend is initialised.
 */
export function registerWasmTrainingKernels(): void {
  if (registered) return
  registered = true
  if (!tf.getKernel('Conv2DBackpropFilter', BACKEND)) {
    tf.registerKernel({ kernelName: 'Conv2DBackpropFilter', backendName: BACKEND, kernelFunc: conv2DBackpropFilter as never })
  }
}
