// Concat and SplitV (its gradient) for float32 along any axis, as strided block copies: both views
// every tensor as [outer, inner] with outer = the product of the dims before the axis. Concat is
// one dispatch that reads every input (tfjs-webgpu's runs a program per input-pair group and
// reshapes around it); SplitV one dispatch per output. Both copy vec4s where every width and
// offset allows (the ScoreNet's channel concats do). Other dtypes, and more inputs than a shader
// can bind, go to the stock kernels.
import { tf } from '../../tf'
import { OWN_SHADER_PREFIX, type GpuProgram, type WebgpuBackendLike } from './types'
import type { KernelArgs, OwnKernel, StockKernel, TensorInfo } from './types'

const WG = 64
const prod = (dims: number[]) => dims.reduce((a, b) => a * b, 1)

/** A view of t with another shape (tfjs-webgpu's reshape does the same: same dataId, new shape). */
const view = (t: TensorInfo, shape: number[]): TensorInfo => ({ dataId: t.dataId, shape, dtype: t.dtype })

function copyDispatch(count: number, vec: number): Pick<GpuProgram, 'dispatchLayout' | 'dispatch' | 'workgroupSize' | 'outputComponent' | 'size'> {
  return { dispatchLayout: { x: [0] }, dispatch: [Math.max(1, Math.ceil(count / vec / WG)), 1, 1], workgroupSize: [WG, 1, 1], outputComponent: vec, size: true }
}

/** out [outer, Σ inner_i] from inputs T_i [outer, inner_i], each thread finding its input by column. */
function concatProgram(outer: number, widths: number[], vec: number): GpuProgram {
  const total = widths.reduce((a, b) => a + b, 0)
  const names = widths.map((_, i) => `T${i}`)
  // Widths in units of `vec`, from the shape uniforms so the shader is shared across shapes.
  const width = (i: number) => `(uniforms.t${i}Shape.y / ${vec})`
  const pick = names
    .map((n, i) =>
      i === names.length - 1
        ? `result[index] = ${n}[row * ${width(i)} + col];`
        : `if (col < ${width(i)}) { result[index] = ${n}[row * ${width(i)} + col]; return; }\n    col = col - ${width(i)};`
    )
    .join('\n    ')
  return {
    outputShape: [outer, total],
    shaderKey: `${OWN_SHADER_PREFIX}Concat_${names.length}_${vec}`,
    ...copyDispatch(outer * total, vec),
    variableNames: names,
    variableComponents: names.map(() => vec),
    getUserCode: () => `
  fn main(index : i32) {
    if (index >= uniforms.size) { return; }
    let total = uniforms.outShape.y / ${vec};
    let row = index / total;
    var col = index - row * total;
    ${pick}
  }
`
  }
}

/** out [outer, inner] = columns [offset, offset + inner) of x [outer, total]. */
function sliceProgram(outer: number, inner: number, vec: number): GpuProgram {
  return {
    outputShape: [outer, inner],
    shaderKey: `${OWN_SHADER_PREFIX}Split_${vec}`,
    ...copyDispatch(outer * inner, vec),
    variableNames: ['x'],
    variableComponents: [vec],
    uniforms: 'offset : i32,',
    getUserCode: () => `
  fn main(index : i32) {
    if (index >= uniforms.size) { return; }
    let inner = uniforms.outShape.y / ${vec};
    let row = index / inner;
    let col = index - row * inner;
    result[index] = x[row * (uniforms.xShape.y / ${vec}) + uniforms.offset / ${vec} + col];
  }
`
  }
}

function concat(args: KernelArgs, stock: StockKernel): TensorInfo | TensorInfo[] {
  const all = Object.values(args.inputs)
  if (all.length === 0 || all.some((t) => t.dtype !== 'float32')) return stock(args)
  const backend = args.backend as WebgpuBackendLike
  const axis = tf.util.parseAxisParam(args.attrs!.axis as number, all[0]!.shape)[0]!
  const outShape = tf.backend_util.computeOutShape(all.map((t) => t.shape), axis)
  const inputs = all.filter((t) => prod(t.shape) > 0)
  // One binding is the output.
  if (inputs.length === 0 || inputs.length > backend.device.limits.maxStorageBuffersPerShaderStage - 1) return stock(args)
  const outer = prod(outShape.slice(0, axis))
  const widths = inputs.map((t) => prod(t.shape.slice(axis)))
  const vec = widths.every((w) => w % 4 === 0) ? 4 : 1
  const program = concatProgram(outer, widths, vec)
  const out = backend.runWebGPUProgram(program, inputs.map((t, i) => view(t, [outer, widths[i]!])), 'float32')
  return view(out, outShape)
}

function splitV(args: KernelArgs, stock: StockKernel): TensorInfo | TensorInfo[] {
  const { x } = args.inputs as { x: TensorInfo }
  if (x.dtype !== 'float32') return stock(args)
  const backend = args.backend as WebgpuBackendLike
  const axis = tf.util.parseAxisParam(args.attrs!.axis as number, x.shape)[0]!
  const sizes = tf.backend_util.prepareSplitSize(x as tf.Tensor, args.attrs!.numOrSizeSplits as number[] | number, axis)
  const outer = prod(x.shape.slice(0, axis))
  const rest = prod(x.shape.slice(axis + 1))
  const total = x.shape[axis]! * rest
  const src = view(x, [outer, total])
  let offset = 0
  return sizes.map((s) => {
    const inner = s * rest
    const vec = total % 4 === 0 && inner % 4 === 0 && offset % 4 === 0 ? 4 : 1
    const out = backend.runWebGPUProgram(sliceProgram(outer, inner, vec), [src], 'float32', [{ type: 'int32', data: [offset] }])
    offset += inner
    return view(out, x.shape.map((d, i) => (i === axis ? s : d)))
  })
}

/** Concat and SplitV (its gradient). */
export const COPY_KERNELS: Record<string, OwnKernel> = { Concat: concat, SplitV: splitV }
