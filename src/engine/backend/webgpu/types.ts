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

/**
 * What tfjs-webgpu's runWebGPUProgram reads from a program (webgpu_program.ts). Declared here so
 * that our kernels need neither tfjs-webgpu at load time nor @webgpu/types.
 */
export interface GpuProgram {
  outputShape: number[]
  /** Everything baked into getUserCode(); tfjs appends the ranks, dtypes and variable names. */
  shaderKey: string
  dispatchLayout: { x: number[] }
  dispatch: [number, number, number]
  workgroupSize: [number, number, number]
  /** Inputs, bound in this order as `var<storage, read> name : array<f32 | vec4<f32>>`. */
  variableNames: string[]
  variableComponents?: number[]
  outputComponent?: number
  /** Extra fields of the `uniforms` struct, e.g. 'eps : f32,'. */
  uniforms?: string
  /** Adds `uniforms.size`: the output's element count (÷ outputComponent). */
  size?: boolean
  getUserCode: () => string
}

export interface Uniform {
  type: 'int32' | 'float32'
  data: number[]
}

/** The parts of tfjs-webgpu's WebGPUBackend these kernels use. */
export interface WebgpuBackendLike {
  runWebGPUProgram(program: GpuProgram, inputs: TensorInfo[], dtype: 'float32', uniforms?: Uniform[], output?: TensorInfo): TensorInfo
  makeTensorInfo(shape: number[], dtype: 'float32'): TensorInfo
  disposeData(dataId: object, force?: boolean): boolean
  device: { limits: { maxStorageBuffersPerShaderStage: number; maxComputeWorkgroupsPerDimension: number } }
}

/** Prefix of the shaderKey of every program of ours (tests check that ours ran). */
export const OWN_SHADER_PREFIX = 'ScoreLab'
