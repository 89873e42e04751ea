// Conv2D and both its gradients on tfjs-webgpu as tiled implicit GEMMs (WGSL in conv-wgsl.ts),
// float32 NHWC with dilation 1 and any stride/padding; other cases go to the stock kernels.
//
//   Conv2D                M = B·OH·OW      N = CO   K = KH·KW·CI
//   Conv2DBackpropInput   M = B·IH·IW      N = CI   K = taps·CO, per sub-pixel phase (gather form)
//   Conv2DBackpropFilter  M = KH·KW·CI     N = CO   K = B·OH·OW
//
// A GEMM whose 64×64 tiles are too few to fill a GPU (the filter gradient always: M·N is the
// weight count, K the whole batch; the deep low-resolution layers too) splits K across
// workgroups into partial products, summed in fixed order by a second small dispatch, so the
// result does not depend on scheduling and no atomics are needed.
//
// Both programs go through backend.runWebGPUProgram, which owns buffers, bind groups, batching
// and the pipeline cache (keyed by shaderKey, which carries everything baked into the WGSL).
import { tf } from '../../tf'
import {
  convGemmSource, convVectors, GEMM_UNIFORMS, GEOMETRY_FIELDS, gemmRows, phaseCount, reductionLength, SPLIT_REDUCE_SOURCE,
  TILE_K, TILE_M, TILE_N, type ConvGeometry, type ConvKind, type ConvVectors
} from './conv-wgsl'
import { OWN_SHADER_PREFIX, type KernelArgs, type OwnKernel, type StockKernel, type TensorInfo, type Uniform, type WebgpuBackendLike } from './types'

/** How many times each of our conv programs ran (cases handed to the stock kernels not counted), and how many of those split K. */
export const convKernelRuns: Record<ConvKind | 'splitK', number> = { conv2d: 0, backpropInput: 0, backpropFilter: 0, splitK: 0 }

/**
 * A GEMM narrower than this many output columns (N = CO, or CI for the input gradient: tconv1's
 * forward has N = 1) goes to the stock kernel: our 64-wide tile would compute 64/N times the
 * useful products, where tfjs' per-element kernel computes only those (on SwiftShader, B=16
 * 28×28 N=1: stock 143 ms, ours 984 ms). Tests lower it to run the GEMM on every shape.
 */
export const convTuning = { minColumns: 8 }

// Split-K heuristic (not yet tuned on a GPU): split until about TARGET_WORKGROUPS workgroups
// exist (enough to occupy a large GPU), but keep each split at least MIN_SLICES_PER_SPLIT K
// slices long so its partial tile's write and re-read stay small next to its products.
const TARGET_WORKGROUPS = 256
const MIN_SLICES_PER_SPLIT = 8
const MAX_SPLITS = 64
/** Cap on the partial-product buffer (floats), so a split never costs a large allocation. */
const MAX_PARTIAL = 1 << 24

const flatLayout = (rank: number) => ({ x: Array.from({ length: rank }, (_, i) => i) })

// tfjs-webgpu's program shape (webgpu_program.ts WebGPUProgram); a flat dispatchLayout makes
// tfjs call main(index), and the GEMM finds its tile from workgroupId instead.
class ConvGemmProgram {
  readonly variableNames: string[]
  readonly variableComponents: number[]
  readonly outputComponent: number
  readonly outputShape: number[]
  readonly shaderKey: string
  readonly dispatchLayout: { x: number[] }
  readonly dispatch: [number, number, number]
  readonly workgroupSize: [number, number, number] = [TILE_M * TILE_N / 16, 1, 1]
  readonly uniforms = GEMM_UNIFORMS
  readonly size = false
  private readonly vectors: ConvVectors

  constructor(
    private readonly kind: ConvKind,
    geom: ConvGeometry,
    outputShape: number[],
    dispatch: [number, number, number],
    private readonly split: boolean
  ) {
    const v = (this.vectors = convVectors(kind, geom))
    this.variableNames = kind === 'conv2d' ? ['x', 'w'] : kind === 'backpropInput' ? ['dy', 'w'] : ['x', 'dy']
    this.variableComponents = [v.a ? 4 : 1, v.b ? 4 : 1]
    this.outputComponent = v.out ? 4 : 1
    this.outputShape = outputShape
    this.dispatchLayout = flatLayout(outputShape.length)
    this.dispatch = dispatch
    // Geometry is uniform; only the kernel, the vec4 layout and the split shape the WGSL.
    this.shaderKey = `${OWN_SHADER_PREFIX}Conv_${kind}_${v.a}_${v.b}_${v.out}_${split}`
  }

  getUserCode(): string {
    return convGemmSource(this.kind, this.vectors, this.split)
  }
}

class SplitSumProgram {
  readonly variableNames = ['partial']
  readonly variableComponents: number[]
  readonly outputComponent: number
  readonly outputShape: number[]
  readonly shaderKey: string
  readonly dispatchLayout: { x: number[] }
  readonly dispatch: [number, number, number]
  readonly workgroupSize: [number, number, number] = [64, 1, 1]
  readonly uniforms = 'splits : i32, slab : i32,'
  readonly size = true

  constructor(outputShape: number[], component: number) {
    this.outputShape = outputShape
    this.variableComponents = [component]
    this.outputComponent = component
    this.dispatchLayout = flatLayout(outputShape.length)
    this.dispatch = [Math.ceil(tf.util.sizeFromShape(outputShape) / component / 64), 1, 1]
    this.shaderKey = `${OWN_SHADER_PREFIX}ConvSplitSum_${component}`
  }

  getUserCode(): string {
    return SPLIT_REDUCE_SOURCE
  }
}

/** K split into `splits` chunks of `kChunk` (a whole number of slices), or one chunk. */
export function chooseSplits(tiles: number, kLen: number, outSize: number): { splits: number; kChunk: number } {
  const slices = Math.max(1, Math.ceil(kLen / TILE_K))
  const want = Math.min(Math.ceil(TARGET_WORKGROUPS / tiles), Math.floor(slices / MIN_SLICES_PER_SPLIT), MAX_SPLITS, Math.floor(MAX_PARTIAL / outSize))
  const perSplit = Math.ceil(slices / Math.max(1, want))
  return { splits: Math.ceil(slices / perSplit), kChunk: perSplit * TILE_K }
}

/** Runs one conv as GEMM (plus the split sum), or returns null for the stock kernel: too narrow, or a dispatch past the device's limits. */
function runConvGemm(backend: WebgpuBackendLike, kind: ConvKind, geom: ConvGeometry, batch: number, inputs: [TensorInfo, TensorInfo], outShape: number[]): TensorInfo | null {
  const outSize = tf.util.sizeFromShape(outShape)
  const { m, n } = gemmRows(kind, geom, batch)
  if (n < convTuning.minColumns) return null
  const mTiles = Math.ceil(m / TILE_M)
  const nTiles = Math.ceil(n / TILE_N)
  const phases = phaseCount(kind, geom)
  const { splits, kChunk } = chooseSplits(mTiles * nTiles * phases, reductionLength(kind, geom, batch), outSize)
  const dispatch: [number, number, number] = [nTiles, mTiles, phases * splits]
  const limit = backend.device.limits.maxComputeWorkgroupsPerDimension
  if (dispatch.some((d) => d > limit)) return null
  const uniforms: Uniform[] = [
    ...GEOMETRY_FIELDS.map((f): Uniform => ({ type: 'int32', data: [geom[f]] })),
    { type: 'int32', data: [batch] },
    { type: 'int32', data: [kChunk] },
    { type: 'int32', data: [splits] },
    { type: 'int32', data: [outSize] }
  ]
  convKernelRuns[kind]++
  if (splits === 1) return backend.runWebGPUProgram(new ConvGemmProgram(kind, geom, outShape, dispatch, false), inputs, 'float32', uniforms)
  convKernelRuns.splitK++
  const gemm = new ConvGemmProgram(kind, geom, [splits, outSize], dispatch, true)
  const partial = backend.runWebGPUProgram(gemm, inputs, 'float32', uniforms)
  const component = gemm.outputComponent
  const sum = new SplitSumProgram(outShape, component)
  const out = backend.runWebGPUProgram(sum, [partial], 'float32', [
    { type: 'int32', data: [splits] },
    { type: 'int32', data: [outSize / component] }
  ])
  backend.disposeData(partial.dataId)
  return out
}

type Shape4 = [number, number, number, number]

function convInfo(xShape: number[], filterShape: number[], attrs: Record<string, unknown>): tf.backend_util.Conv2DInfo {
  return tf.backend_util.computeConv2DInfo(
    xShape as Shape4, filterShape as Shape4, attrs.strides as number, (attrs.dilations ?? 1) as number,
    attrs.pad as never, attrs.dimRoundingMode as never, false, 'channelsLast')
}

function geometry(info: tf.backend_util.Conv2DInfo): ConvGeometry {
  return {
    inH: info.inHeight, inW: info.inWidth, inC: info.inChannels,
    outH: info.outHeight, outW: info.outWidth, outC: info.outChannels,
    kH: info.filterHeight, kW: info.filterWidth, sH: info.strideHeight, sW: info.strideWidth,
    padT: info.padInfo.top, padL: info.padInfo.left
  }
}

/** Ours handles float32 NHWC with dilation 1 and a non-empty result. */
function handles(attrs: Record<string, unknown>, info: tf.backend_util.Conv2DInfo, outShape: number[], ...ts: TensorInfo[]): boolean {
  return (attrs.dataFormat ?? 'NHWC') === 'NHWC' && ts.every((t) => t.dtype === 'float32') &&
    info.dilationHeight === 1 && info.dilationWidth === 1 && tf.util.sizeFromShape(outShape) > 0
}

function conv2D(args: KernelArgs, stock: StockKernel): TensorInfo | TensorInfo[] {
  const { x, filter } = args.inputs as { x: TensorInfo; filter: TensorInfo }
  const attrs = args.attrs ?? {}
  if ((attrs.dataFormat ?? 'NHWC') !== 'NHWC') return stock(args)
  const info = convInfo(x.shape, filter.shape, attrs)
  if (!handles(attrs, info, info.outShape, x, filter)) return stock(args)
  return runConvGemm(args.backend as WebgpuBackendLike, 'conv2d', geometry(info), info.batchSize, [x, filter], info.outShape) ?? stock(args)
}

function conv2DBackpropInput(args: KernelArgs, stock: StockKernel): TensorInfo | TensorInfo[] {
  const { dy, filter } = args.inputs as { dy: TensorInfo; filter: TensorInfo }
  const attrs = args.attrs ?? {}
  if ((attrs.dataFormat ?? 'NHWC') !== 'NHWC') return stock(args)
  const inputShape = attrs.inputShape as number[]
  const info = convInfo(inputShape, filter.shape, { ...attrs, dilations: 1 })
  if (!handles(attrs, info, inputShape, dy, filter) || info.outHeight !== dy.shape[1] || info.outWidth !== dy.shape[2]) return stock(args)
  return runConvGemm(args.backend as WebgpuBackendLike, 'backpropInput', geometry(info), info.batchSize, [dy, filter], inputShape) ?? stock(args)
}

function conv2DBackpropFilter(args: KernelArgs, stock: StockKernel): TensorInfo | TensorInfo[] {
  const { x, dy } = args.inputs as { x: TensorInfo; dy: TensorInfo }
  const attrs = args.attrs ?? {}
  if ((attrs.dataFormat ?? 'NHWC') !== 'NHWC') return stock(args)
  const filterShape = attrs.filterShape as number[]
  const info = convInfo(x.shape, filterShape, { ...attrs, dilations: 1 })
  if (!handles(attrs, info, filterShape, x, dy) || info.outHeight !== dy.shape[1] || info.outWidth !== dy.shape[2]) return stock(args)
  return runConvGemm(args.backend as WebgpuBackendLike, 'backpropFilter', geometry(info), info.batchSize, [x, dy], filterShape) ?? stock(args)
}

/** Conv2D, Conv2DBackpropInput (also conv2dTranspose's forward) and Conv2DBackpropFilter. */
export const CONV_KERNELS: Record<string, OwnKernel> = {
  Conv2D: conv2D,
  Conv2DBackpropInput: conv2DBackpropInput,
  Conv2DBackpropFilter: conv2DBackpropFilter
}
