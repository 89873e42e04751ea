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

// ---------------------------------------------------------------------------------------------
// Conv2DBackpropInput (also the forward of conv2dTranspose). wasm's own kernel is a scalar C++
// loop (~1 GFLOP/s); this one is a single XNNPACK convolution by sub-pixel decomposition.
//
// Per axis, with forward stride s, padding p and kernel size K, dx[i] = Σ_{o·s + k − p = i} dy[o]·W[k].
// Split the output by phase i = s·q + r (r ∈ [0, s)): only taps k ≡ (r + p) mod s reach phase r,
//   k = k_r + s·j,  o = q + c_r − j,  with k_r = (r + p) mod s and c_r = (r + p − k_r) / s,
// so every phase is an ordinary stride-1 correlation of dy with a reversed sub-kernel. All phases
// read the same window of dy, so they run as ONE convolution whose s_h·s_w·ci output channels are
// the phases side by side (sub-kernels zero-padded to a common M×M window: for 3×3 stride 2 that
// is a 2×2 kernel with 4·ci outputs, 16/9 of the useful multiply-adds instead of the 4× of
// zero-insertion). A transpose interleaves the phases back into the image; a slice trims the
// rows/columns past the input size. For stride 1 this is just the flipped-kernel convolution.

interface AxisPlan {
  s: number
  /** padding of dy before the window, after it, and window size */
  padBefore: number
  padAfter: number
  M: number
  /** number of output rows per phase (ceil(n / s)) */
  Q: number
  /** for phase r and window position m: the kernel tap k, or −1 */
  tap: Int32Array // [s][M]
}

function planAxis(n: number, o: number, K: number, s: number, p: number): AxisPlan {
  const Q = Math.ceil(n / s)
  const kr: number[] = []
  const cr: number[] = []
  const J: number[] = []
  for (let r = 0; r < s; r++) {
    kr.push((((r + p) % s) + s) % s)
    cr.push((r + p - kr[r]!) / s)
    J.push(kr[r]! < K ? Math.ceil((K - kr[r]!) / s) : 0)
  }
  let padBefore = 0
  let last = 0
  for (let r = 0; r < s; r++) if (J[r]! > 0) padBefore = Math.max(padBefore, J[r]! - 1 - cr[r]!)
  for (let r = 0; r < s; r++) if (J[r]! > 0) last = Math.max(last, cr[r]! + padBefore)
  const M = last + 1
  // window m ∈ [0, M) for output q reads dy[q + m − padBefore]; tap j = c_r + padBefore − m
  const tap = new Int32Array(s * M).fill(-1)
  for (let r = 0; r < s; r++) {
    for (let m = 0; m < M; m++) {
      const j = cr[r]! + padBefore - m
      if (j >= 0 && j < J[r]!) tap[r * M + m] = kr[r]! + s * j
    }
  }
  // conv output rows = o + padBefore + padAfter − M + 1 must be ≥ Q (extra rows are sliced off)
  const padAfter = Math.max(0, Q + M - 1 - o - padBefore)
  return { s, padBefore, padAfter, M, Q, tap }
}

interface InputPlan {
  h: AxisPlan
  w: AxisPlan
  /** combined filter [Mh, Mw, co, sh·sw·ci] as indices into W [kh,kw,ci,co] (−1 = zero) */
  index: Int32Array
  shape: [number, number, number, number]
}

const inputPlans = new Map<string, InputPlan>()

function inputPlan(inShape: number[], dyShape: number[], filterShape: number[], sh: number, sw: number, top: number, left: number): InputPlan {
  const key = [inShape, dyShape, filterShape, sh, sw, top, left].join('|')
  const hit = inputPlans.get(key)
  if (hit) return hit
  const [kh, kw, ci, co] = filterShape as [number, number, number, number]
  const h = planAxis(inShape[1]!, dyShape[1]!, kh, sh, top)
  const w = planAxis(inShape[2]!, dyShape[2]!, kw, sw, left)
  const P = sh * sw * ci
  const index = new Int32Array(h.M * w.M * co * P).fill(-1)
  for (let mh = 0; mh < h.M; mh++) {
    for (let mw = 0; mw < w.M; mw++) {
      for (let rh = 0; rh < sh; rh++) {
        const th = h.tap[rh * h.M + mh]!
        if (th < 0) continue
        for (let rw = 0; rw < sw; rw++) {
          const tw = w.tap[rw * w.M + mw]!
          if (tw < 0) continue
          const phase = rh * sw + rw
          for (let o = 0; o < co; o++) {
            const dst = ((mh * w.M + mw) * co + o) * P + phase * ci
            const src = (th * kw + tw) * ci * co + o
            for (let c = 0; c < ci; c++) index[dst + c] = src + c * co
          }
        }
      }
    }
  }
  const plan: InputPlan = { h, w, index, shape: [h.M, w.M, co, P] }
  if (inputPlans.size > 64) inputPlans.clear()
  inputPlans.set(key, plan)
  return plan
}

/**
 * Exact variant: one convolution per phase with only its own taps (no zero taps), outputs
 * concatenated phase-major. Used when every phase has taps and needs no negative padding
 * (true for the usual VALID/SAME 3×3 stride-2 cases); null otherwise.
 */
interface PhasePlan {
  rh: number
  rw: number
  padH: [number, number]
  padW: [number, number]
  index: Int32Array
  shape: [number, number, number, number]
}

const phasePlans = new Map<string, PhasePlan[] | null>()

function phasePlan(inShape: number[], dyShape: number[], filterShape: number[], sh: number, sw: number, top: number, left: number): PhasePlan[] | null {
  const key = [inShape, dyShape, filterShape, sh, sw, top, left].join('|')
  if (phasePlans.has(key)) return phasePlans.get(key)!
  const [kh, kw, ci, co] = filterShape as [number, number, number, number]
  const axis = (n: number, o: number, K: number, s: number, p: number) => {
    const Q = Math.ceil(n / s)
    const out: Array<{ kr: number; J: number; pad: [number, number] } | null> = []
    for (let r = 0; r < s; r++) {
      const kr = (((r + p) % s) + s) % s
      const c = (r + p - kr) / s
      const J = kr < K ? Math.ceil((K - kr) / s) : 0
      const before = J - 1 - c
      const after = Q + J - 1 - o - before
      out.push(J > 0 && before >= 0 && after >= 0 ? { kr, J, pad: [before, after] } : null)
    }
    return out
  }
  const ah = axis(inShape[1]!, dyShape[1]!, kh, sh, top)
  const aw = axis(inShape[2]!, dyShape[2]!, kw, sw, left)
  let plans: PhasePlan[] | null = []
  for (let rh = 0; rh < sh && plans; rh++) {
    for (let rw = 0; rw < sw && plans; rw++) {
      const h = ah[rh]
      const w = aw[rw]
      if (!h || !w) {
        plans = null
        break
      }
      const index = new Int32Array(h.J * w.J * co * ci)
      for (let mh = 0; mh < h.J; mh++) {
        for (let mw = 0; mw < w.J; mw++) {
          const th = h.kr + sh * (h.J - 1 - mh)
          const tw = w.kr + sw * (w.J - 1 - mw)
          for (let o = 0; o < co; o++) {
            const dst = ((mh * w.J + mw) * co + o) * ci
            const src = (th * kw + tw) * ci * co + o
            for (let c = 0; c < ci; c++) index[dst + c] = src + c * co
          }
        }
      }
      plans.push({ rh, rw, padH: h.pad, padW: w.pad, index, shape: [h.J, w.J, co, ci] })
    }
  }
  if (phasePlans.size > 64) phasePlans.clear()
  phasePlans.set(key, plans)
  return plans
}

interface WasmBackendLike extends Backend {
  dataIdMap: { has(id: object): boolean }
  makeOutput(shape: number[], dtype: 'float32', memoryOffset?: number, values?: Float32Array): TensorInfo
  typedArrayFromHeap(t: TensorInfo): Float32Array
}

/**
 * Combined filters kept while their source filter lives (sampling calls the net with the same
 * weights hundreds of times; XNNPACK also caches its packed weights by filter tensor).
 */
const filterCache = new Map<object, Map<string, TensorInfo>>()
const FILTER_CACHE_MAX = 64

function combinedFilter(backend: WasmBackendLike, filter: TensorInfo, plan: { index: Int32Array; shape: number[] }, key: string): TensorInfo {
  for (const [src, e] of filterCache) {
    if (!backend.dataIdMap.has(src)) {
      for (const info of e.values()) free(backend, info)
      filterCache.delete(src)
    }
  }
  let perFilter = filterCache.get(filter.dataId)
  const hit = perFilter?.get(key)
  if (hit) return hit
  const out = backend.makeOutput(plan.shape, 'float32')
  const dst = backend.typedArrayFromHeap(out) // after the allocation: the heap may have grown
  const src = backend.typedArrayFromHeap(filter)
  const idx = plan.index
  for (let i = 0; i < idx.length; i++) {
    const k = idx[i]!
    dst[i] = k < 0 ? 0 : src[k]!
  }
  if (!perFilter) filterCache.set(filter.dataId, (perFilter = new Map()))
  perFilter.set(key, out)
  if (filterCache.size > FILTER_CACHE_MAX) {
    const [oldest, e] = filterCache.entries().next().value as [object, Map<string, TensorInfo>]
    for (const info of e.values()) free(backend, info)
    filterCache.delete(oldest)
  }
  return out
}

export interface Conv2DBackpropInputAttrs {
  strides: number | [number, number]
  pad: Conv2DBackpropFilterAttrs['pad']
  dataFormat?: 'NHWC' | 'NCHW'
  dimRoundingMode?: 'floor' | 'round' | 'ceil'
  inputShape: [number, number, number, number]
}

function conv2DBackpropInput(args: { inputs: Record<string, TensorInfo>; backend: unknown; attrs?: Record<string, unknown> }): TensorInfo {
  const backend = args.backend as WasmBackendLike
  const { dy: dyIn, filter } = args.inputs as { dy: TensorInfo; filter: TensorInfo }
  const attrs = args.attrs as unknown as Conv2DBackpropInputAttrs
  const nhwc = (attrs.dataFormat ?? 'NHWC') === 'NHWC'
  const info = tf.backend_util.computeConv2DInfo(
    attrs.inputShape,
    filter.shape as [number, number, number, number],
    attrs.strides,
    1,
    attrs.pad as never,
    attrs.dimRoundingMode,
    false,
    nhwc ? 'channelsLast' : 'channelsFirst'
  )
  const { batchSize: B, inHeight: H, inWidth: W, inChannels: ci, strideHeight: sh, strideWidth: sw } = info
  const dy = nhwc ? dyIn : run('Transpose', backend, { x: dyIn }, { perm: [0, 2, 3, 1] })
  const phases = (sh > 1 || sw > 1) && PHASED ? phasePlan([B, H, W, ci], dy.shape, filter.shape, sh, sw, info.padInfo.top, info.padInfo.left) : null
  let y: TensorInfo
  const convAttrs = (ph: [number, number], pw: [number, number]) => ({
    strides: [1, 1],
    pad: [[0, 0], ph, pw, [0, 0]],
    dataFormat: 'NHWC',
    dilations: [1, 1],
    dimRoundingMode: undefined
  })
  if (phases) {
    const outs = phases.map((p) => {
      const wp = combinedFilter(backend, filter, p, [filter.shape, 'phase', p.rh, p.rw, sh, sw, info.padInfo.top, info.padInfo.left].join('|'))
      return run('Conv2D', backend, { x: dy, filter: wp }, convAttrs(p.padH, p.padW)) // [B, Qh, Qw, ci]
    })
    y = outs.length === 1 ? outs[0]! : run('Concat', backend, outs as never, { axis: 3 })
    if (outs.length > 1) free(backend, ...outs)
  } else {
    const plan = inputPlan([B, H, W, ci], dy.shape, filter.shape, sh, sw, info.padInfo.top, info.padInfo.left)
    const key = [filter.shape, plan.shape, sh, sw, info.padInfo.top, info.padInfo.left].join('|')
    const wc = combinedFilter(backend, filter, plan, key)
    y = run('Conv2D', backend, { x: dy, filter: wc }, convAttrs([plan.h.padBefore, plan.h.padAfter], [plan.w.padBefore, plan.w.padAfter])) // [B, ≥Qh, ≥Qw, sh·sw·ci]
  }
  if (!nhwc) free(backend, dy)
  if (sh > 1 || sw > 1) {
    // [B, Qh, Qw, (rh, rw, ci)] → [B, Qh, rh, Qw, (rw, ci)]: one 4-D transpose with contiguous
    // sw·ci rows (wasm's DepthToSpace is ~20× slower than this on these shapes).
    const [b, qh, qw] = y.shape as [number, number, number, number]
    const r = run('Reshape', backend, { x: y }, { shape: [b * qh, qw, sh, sw * ci] })
    const t = run('Transpose', backend, { x: r }, { perm: [0, 2, 1, 3] })
    free(backend, r)
    const z = run('Reshape', backend, { x: t }, { shape: [b, qh * sh, qw * sw, ci] })
    free(backend, t)
    free(backend, y)
    y = z
  }
  if (y.shape[1] !== H || y.shape[2] !== W) {
    const s = run('Slice', backend, { x: y }, { begin: [0, 0, 0, 0], size: [B, H, W, ci] })
    free(backend, y)
    y = s
  }
  if (!nhwc) {
    const t = run('Transpose', backend, { x: y }, { perm: [0, 3, 1, 2] })
    free(backend, y)
    y = t
  }
  return y
}

let registered = false

/** Use the exact per-phase convolutions where they apply (SCORE_LAB_WASM_PHASED=0 turns them off for benchmarks). */
const PHASED = process.env.SCORE_LAB_WASM_PHASED !== '0'

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
  // Replace wasm's scalar Conv2DBackpropInput.
  const native = tf.getKernel('Conv2DBackpropInput', BACKEND)
  if (native && native.kernelFunc !== (conv2DBackpropInput as never)) {
    tf.unregisterKernel('Conv2DBackpropInput', BACKEND)
    tf.registerKernel({ kernelName: 'Conv2DBackpropInput', backendName: BACKEND, setupFunc: native.setupFunc, kernelFunc: conv2DBackpropInput as never })
  }
}
