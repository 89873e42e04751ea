// ops/optimizer-update.ts's fused Adam and EMA updates as WGSL programs on tfjs-webgpu. The
// composite ops cost ~13 dispatches per parameter tensor for Adam and 3 for the EMA, plus a scalar
// tensor uploaded for every JS number they multiply by (lr and the bias corrections change every
// step); here the per-step numbers are uniforms, written with the dispatch like tfjs' shapes.
//
// A tfjs program writes one output, so Adam is one program per output: m' and v' from (m, g) and
// (v, g), then p' from (p, m', v'): 3 dispatches. The alternative, one program writing [3, N] and
// three slices, is 4: tfjs-webgpu 4.22's Slice always copies (no shadow slices). EMA is 1 dispatch.
// Each program's arithmetic follows the composite's order of operations, so results differ from
// the cpu backend's only by the GPU's rounding of sqrt and division.
//
// Every program binds only the inputs its WGSL reads (see group-norm.ts).
import { ADAM_UPDATE_KERNEL, EMA_UPDATE_KERNEL, type AdamUpdateAttrs, type EmaUpdateAttrs } from '../../ops/optimizer-update'
import { OWN_SHADER_PREFIX, type GpuProgram, type KernelArgs, type OwnKernel, type TensorInfo, type Uniform, type WebgpuBackendLike } from './types'

/** Threads of a workgroup; one per element. */
const WG = 64

/** An elementwise program over `size` elements reading `inputs`, with f32 uniforms `names`. */
function elementwise(kind: string, shape: number[], inputs: string[], names: string[], expr: string): GpuProgram {
  const size = shape.reduce((a, b) => a * b, 1)
  return {
    outputShape: shape,
    shaderKey: `${OWN_SHADER_PREFIX}${kind}`,
    dispatchLayout: { x: [0] },
    dispatch: [Math.max(1, Math.ceil(size / WG)), 1, 1],
    workgroupSize: [WG, 1, 1],
    variableNames: inputs,
    uniforms: names.map((n) => `${n} : f32,`).join(' '),
    size: true,
    getUserCode: () => `
  fn main(index : i32) {
    if (index >= uniforms.size) { return; }
    result[index] = ${expr};
  }
`
  }
}

const f32 = (...data: number[]): Uniform[] => data.map((d) => ({ type: 'float32', data: [d] }))

function checkFloat(name: string, ts: TensorInfo[]): void {
  const shape = ts[0]!.shape.join()
  if (ts.some((t) => t.dtype !== 'float32' || t.shape.join() !== shape)) throw new Error(`${name} (webgpu): inputs must be float32 tensors of one shape`)
}

/** Inputs p, m, v, g → [p', m', v']. */
function adamUpdate(args: KernelArgs): TensorInfo[] {
  const { p, m, v, g } = args.inputs as Record<'p' | 'm' | 'v' | 'g', TensorInfo>
  checkFloat(ADAM_UPDATE_KERNEL, [p, m, v, g])
  const a = args.attrs as unknown as AdamUpdateAttrs
  const backend = args.backend as WebgpuBackendLike
  const shape = p.shape
  // The JS numbers go through float32 as the composite's scalar tensors do (1 − β computed in double first).
  const m1 = backend.runWebGPUProgram(
    elementwise('AdamM', shape, ['m', 'g'], ['b', 'ob'], 'm[index] * uniforms.b + g[index] * uniforms.ob'), [m, g], 'float32', f32(a.beta1, 1 - a.beta1))
  const v1 = backend.runWebGPUProgram(
    elementwise('AdamV', shape, ['v', 'g'], ['b', 'ob'], 'v[index] * uniforms.b + (g[index] * g[index]) * uniforms.ob'), [v, g], 'float32', f32(a.beta2, 1 - a.beta2))
  const p1 = backend.runWebGPUProgram(
    elementwise('AdamP', shape, ['p', 'm1', 'v1'], ['bc2', 'eps', 'step'], 'p[index] - (m1[index] / (sqrt(v1[index]) / uniforms.bc2 + uniforms.eps)) * uniforms.step'),
    [p, m1, v1], 'float32', f32(a.bc2Sqrt, a.eps, a.stepSize))
  return [p1, m1, v1]
}

/** Inputs s, p → s − (1 − d)(s − p). */
function emaUpdate(args: KernelArgs): TensorInfo {
  const { s, p } = args.inputs as Record<'s' | 'p', TensorInfo>
  checkFloat(EMA_UPDATE_KERNEL, [s, p])
  const a = args.attrs as unknown as EmaUpdateAttrs
  const backend = args.backend as WebgpuBackendLike
  return backend.runWebGPUProgram(elementwise('Ema', s.shape, ['s', 'p'], ['omd'], 's[index] - (s[index] - p[index]) * uniforms.omd'), [s, p], 'float32', f32(a.oneMinusDecay))
}

/** ops/optimizer-update.ts's fused Adam and EMA updates. */
export const OPTIMIZER_KERNELS: Record<string, OwnKernel> = {
  [ADAM_UPDATE_KERNEL]: adamUpdate,
  [EMA_UPDATE_KERNEL]: emaUpdate
}
