// ops/group-norm.ts's fused swish(GroupNorm(x + bias)) as WGSL programs on tfjs-webgpu, with the
// semantics of native/src/norm.cc (PyTorch GroupNorm: biased variance; bias added before the
// statistics; swish(z) = z·sigmoid(z)). A tfjs WebGPU program writes exactly one output buffer,
// so each output costs a dispatch; the design keeps the passes over the activations to the
// minimum around that:
//
// forward (3 dispatches, 3 passes over x): mean per (b, g), one workgroup each, a shared-memory
// tree sum; rstd per (b, g) from the sum of squares about that mean (two passes: no cancellation
// when |mean| ≫ std); y elementwise.
//
// backward (6 dispatches, 5 without bias; 2 passes over dy and x): per-(b, chunk of pixels, c)
// sums of dz, dz·x̂ and x̂ (a tile of channels × rows of pixels per workgroup, reduced in shared
// memory); from them, tiny dispatches for the per-(b, g) coefficients of dx, for dgamma, dbeta and
// dbias; dx elementwise. The pixel chunks give a GPU enough workgroups at the tutorial's small
// batches (one workgroup per (b, g) would be 8 at B = 2).
//
// Every program binds only the inputs its WGSL reads: tfjs builds the pipeline with layout 'auto',
// where an unused binding fails validation and takes the whole queued command buffer with it.
import { GROUP_NORM_GRAD_KERNEL, GROUP_NORM_KERNEL, type GroupNormAttrs } from '../../ops/group-norm'
import { OWN_SHADER_PREFIX, type GpuProgram, type KernelArgs, type OwnKernel, type TensorInfo, type Uniform, type WebgpuBackendLike } from './types'

/** Threads of the reduction workgroups (WebGPU's guaranteed maximum, and a power of two for the tree). */
const RED_WG = 256
/** Threads of the elementwise workgroups. */
const EW_WG = 64

/** One thread per element: tfjs's flat layout calls `main(globalIndex)`. */
function elementwise(count: number): Pick<GpuProgram, 'dispatchLayout' | 'dispatch' | 'workgroupSize'> {
  return { dispatchLayout: { x: [0] }, dispatch: [Math.max(1, Math.ceil(count / EW_WG)), 1, 1], workgroupSize: [EW_WG, 1, 1] }
}

/** One RED_WG-thread workgroup per item; main(index) gets item = index / RED_WG (tfjs folds a long dispatch into 2-D/3-D, which getGlobalIndex undoes). */
function perWorkgroup(count: number): Pick<GpuProgram, 'dispatchLayout' | 'dispatch' | 'workgroupSize'> {
  return { dispatchLayout: { x: [0] }, dispatch: [Math.max(1, count), 1, 1], workgroupSize: [RED_WG, 1, 1] }
}

/** x + bias[b, c] in WGSL, or x where there is no bias. */
const biased = (hasBias: boolean, xExpr: string, b: string, c: string, C: string) => (hasBias ? `(${xExpr} + bias[${b} * ${C} + ${c}])` : xExpr)

// swish'(z) = σ(z)·(1 + z·(1 − σ(z))); written as z / (1 + e^−z) for the value, which is −0 rather
// than NaN when e^−z overflows.
const SWISH = `
  fn swishOf(z : f32) -> f32 { return z / (1.0 + exp(-z)); }
  fn swishGrad(z : f32) -> f32 {
    let s = 1.0 / (1.0 + exp(-z));
    return s * (1.0 + z * (1.0 - s));
  }
`

/** Geometry every program reads from x's shape uniform (x is [B, H, W, C]). */
const X_GEOMETRY = `
    let C = uniforms.xShape.w;
    let HW = uniforms.xShape.y * uniforms.xShape.z;
`

/** Forward statistic per (b, g): 'mean' of x + bias, or 'rstd' = 1/sqrt(E[(x + bias − mean)²] + eps). */
function statsProgram(kind: 'mean' | 'rstd', B: number, G: number, hasBias: boolean): GpuProgram {
  const value = biased(hasBias, 'x[(b * HW + p) * C + c]', 'b', 'c', 'C')
  const term = kind === 'mean' ? value : `sq(${value} - m)`
  return {
    outputShape: [B, G],
    shaderKey: `${OWN_SHADER_PREFIX}GnStats_${kind}_${hasBias}`,
    ...perWorkgroup(B * G),
    variableNames: ['x', ...(hasBias ? ['bias'] : []), ...(kind === 'rstd' ? ['mean'] : [])],
    uniforms: 'eps : f32,',
    size: true,
    getUserCode: () => `
  var<workgroup> red : array<f32, ${RED_WG}>;
  fn sq(v : f32) -> f32 { return v * v; }
  fn main(index : i32) {
    let bg = index / ${RED_WG};
    let G = uniforms.outShape.y;
    ${X_GEOMETRY}
    let cg = C / G;
    let b = bg / G;
    let c0 = (bg - b * G) * cg;
    let live = bg < uniforms.size;
    let n = select(0, HW * cg, live);
    ${kind === 'rstd' ? 'let m = select(0.0, mean[min(bg, uniforms.size - 1)], live);' : ''}
    var s = 0.0;
    for (var e = i32(localIndex); e < n; e = e + ${RED_WG}) {
      let p = e / cg;
      let c = c0 + e - p * cg;
      s = s + ${term};
    }
    red[localIndex] = s;
    workgroupBarrier();
    for (var h = ${RED_WG / 2}u; h > 0u; h = h >> 1u) {
      if (localIndex < h) { red[localIndex] = red[localIndex] + red[localIndex + h]; }
      workgroupBarrier();
    }
    if (localIndex == 0u && live) {
      let avg = red[0] / f32(n);
      result[bg] = ${kind === 'mean' ? 'avg' : '1.0 / sqrt(avg + uniforms.eps)'};
    }
  }
`
  }
}

/** y = act((x + bias − mean)·rstd·gamma + beta), elementwise. */
function forwardProgram(shape: number[], hasBias: boolean, swish: boolean): GpuProgram {
  const size = shape.reduce((a, b) => a * b, 1)
  return {
    outputShape: shape,
    shaderKey: `${OWN_SHADER_PREFIX}GnForward_${hasBias}_${swish}`,
    ...elementwise(size),
    variableNames: ['x', ...(hasBias ? ['bias'] : []), 'gamma', 'beta', 'mean', 'rstd'],
    size: true,
    getUserCode: () => `
  ${SWISH}
  fn main(index : i32) {
    if (index >= uniforms.size) { return; }
    ${X_GEOMETRY}
    let G = uniforms.meanShape.y;
    let pix = index / C;
    let c = index - pix * C;
    let b = pix / HW;
    let bg = b * G + c / (C / G);
    let z = (${biased(hasBias, 'x[index]', 'b', 'c', 'C')} - mean[bg]) * (rstd[bg] * gamma[c]) + beta[c];
    result[index] = ${swish ? 'swishOf(z)' : 'z'};
  }
`
  }
}

/** Channels a backward-sums workgroup covers (lanes); the rest of its threads are rows of pixels. */
function sumsTile(C: number): number {
  let t = 1
  while (t < C && t < 64) t *= 2
  return t
}

/**
 * sums [B, K, 3, C]: over the pixels of chunk k of sample b, per channel, Σdz, Σdz·x̂ and Σx̂,
 * where x̂ = (x + bias − mean)·rstd and dz = dy·act'(x̂·gamma + beta).
 */
function sumsProgram(B: number, HW: number, C: number, hasBias: boolean, swish: boolean): GpuProgram {
  const TC = sumsTile(C)
  const R = RED_WG / TC
  const T = Math.ceil(C / TC)
  // ~16 pixels a thread: enough work to hide the reduction, enough workgroups to fill a GPU.
  const K = Math.max(1, Math.min(64, Math.ceil(HW / (R * 16))))
  return {
    outputShape: [B, K, 3, C],
    shaderKey: `${OWN_SHADER_PREFIX}GnGradSums_${TC}_${hasBias}_${swish}`,
    ...perWorkgroup(B * K * T),
    // Unused bindings are an error (the pipeline layout is 'auto'): gamma and beta only feed swish'.
    variableNames: ['dy', 'x', ...(hasBias ? ['bias'] : []), ...(swish ? ['gamma', 'beta'] : []), 'mean', 'rstd'],
    getUserCode: () => `
  ${SWISH}
  var<workgroup> red : array<vec3<f32>, ${RED_WG}>;
  fn main(index : i32) {
    let wg = index / ${RED_WG};
    ${X_GEOMETRY}
    let G = uniforms.meanShape.y;
    let B = uniforms.outShape.x;
    let K = uniforms.outShape.y;
    let T = (C + ${TC - 1}) / ${TC};
    let t = wg % T;
    let k = (wg / T) % K;
    let b = wg / (T * K);
    let lane = i32(localIndex) % ${TC};
    let r = i32(localIndex) / ${TC};
    let c = t * ${TC} + lane;
    let live = b < B && c < C;
    let chunk = (HW + K - 1) / K;
    var m = 0.0;
    var rs = 0.0;
    var p1 = 0;
    ${swish ? 'var gm = 0.0; var bt = 0.0;' : ''}
    if (live) {
      let bg = b * G + c / (C / G);
      m = mean[bg]${hasBias ? ' - bias[b * C + c]' : ''};
      rs = rstd[bg];
      ${swish ? 'gm = gamma[c]; bt = beta[c];' : ''}
      p1 = min(HW, (k + 1) * chunk);
    }
    var acc = vec3<f32>(0.0);
    for (var p = k * chunk + r; p < p1; p = p + ${R}) {
      let i = (b * HW + p) * C + c;
      let xh = (x[i] - m) * rs;
      let dz = dy[i]${swish ? ' * swishGrad(xh * gm + bt)' : ''};
      acc = acc + vec3<f32>(dz, dz * xh, xh);
    }
    red[localIndex] = acc;
    workgroupBarrier();
    for (var h = ${R / 2}; h > 0; h = h / 2) {
      if (r < h) { red[localIndex] = red[localIndex] + red[localIndex + u32(h * ${TC})]; }
      workgroupBarrier();
    }
    if (r == 0 && live) {
      let o = (b * K + k) * 3 * C + c;
      let v = red[localIndex];
      result[o] = v.x;
      result[o + C] = v.y;
      result[o + 2 * C] = v.z;
    }
  }
`
  }
}

/** coef [B, G, 4] = (mean, rstd, Σdz·γ / n, Σdz·γ·x̂ / n) per (b, g): what dx and dbias need. */
function coefProgram(B: number, G: number): GpuProgram {
  return {
    outputShape: [B, G, 4],
    shaderKey: `${OWN_SHADER_PREFIX}GnGradCoef`,
    ...elementwise(B * G),
    variableNames: ['sums', 'gamma', 'mean', 'rstd'],
    uniforms: 'hw : i32,',
    getUserCode: () => `
  fn main(index : i32) {
    let G = uniforms.outShape.y;
    if (index >= uniforms.outShape.x * G) { return; }
    let K = uniforms.sumsShape.y;
    let C = uniforms.sumsShape.w;
    let cg = C / G;
    let b = index / G;
    let c0 = (index - b * G) * cg;
    var s0 = 0.0;
    var s1 = 0.0;
    for (var k = 0; k < K; k = k + 1) {
      let o = (b * K + k) * 3 * C;
      for (var c = c0; c < c0 + cg; c = c + 1) {
        s0 = s0 + gamma[c] * sums[o + c];
        s1 = s1 + gamma[c] * sums[o + C + c];
      }
    }
    let n = f32(uniforms.hw * cg);
    result[index * 4] = mean[index];
    result[index * 4 + 1] = rstd[index];
    result[index * 4 + 2] = s0 / n;
    result[index * 4 + 3] = s1 / n;
  }
`
  }
}

/** dx = rstd·(dz·gamma − Σdz·γ/n − x̂·Σdz·γ·x̂/n), elementwise. */
function dxProgram(shape: number[], hasBias: boolean, swish: boolean): GpuProgram {
  const size = shape.reduce((a, b) => a * b, 1)
  return {
    outputShape: shape,
    shaderKey: `${OWN_SHADER_PREFIX}GnGradDx_${hasBias}_${swish}`,
    ...elementwise(size),
    variableNames: ['dy', 'x', ...(hasBias ? ['bias'] : []), 'gamma', ...(swish ? ['beta'] : []), 'coef'],
    size: true,
    getUserCode: () => `
  ${SWISH}
  fn main(index : i32) {
    if (index >= uniforms.size) { return; }
    ${X_GEOMETRY}
    let G = uniforms.coefShape.y;
    let pix = index / C;
    let c = index - pix * C;
    let b = pix / HW;
    let o = (b * G + c / (C / G)) * 4;
    let rs = coef[o + 1];
    let xh = (${biased(hasBias, 'x[index]', 'b', 'c', 'C')} - coef[o]) * rs;
    let dz = dy[index]${swish ? ' * swishGrad(xh * gamma[c] + beta[c])' : ''};
    result[index] = rs * (dz * gamma[c] - coef[o + 2] - xh * coef[o + 3]);
  }
`
  }
}

/** dbeta (row 0: Σdz) or dgamma (row 1: Σdz·x̂) [C]: the sums summed over samples and chunks. */
function channelProgram(C: number, row: 0 | 1): GpuProgram {
  return {
    outputShape: [C],
    shaderKey: `${OWN_SHADER_PREFIX}GnGradChannel_${row}`,
    ...elementwise(C),
    variableNames: ['sums'],
    size: true,
    getUserCode: () => `
  fn main(index : i32) {
    if (index >= uniforms.size) { return; }
    let BK = uniforms.sumsShape.x * uniforms.sumsShape.y;
    let C = uniforms.sumsShape.w;
    var s = 0.0;
    for (var i = 0; i < BK; i = i + 1) { s = s + sums[(i * 3 + ${row}) * C + index]; }
    result[index] = s;
  }
`
  }
}

/** dbias [B, C] = Σ over pixels of dx = rstd·(γ·Σdz − HW·Σdz·γ/n − Σx̂·Σdz·γ·x̂/n). */
function dbiasProgram(B: number, C: number): GpuProgram {
  return {
    outputShape: [B, C],
    shaderKey: `${OWN_SHADER_PREFIX}GnGradDbias`,
    ...elementwise(B * C),
    variableNames: ['sums', 'gamma', 'coef'],
    uniforms: 'hw : i32,',
    size: true,
    getUserCode: () => `
  fn main(index : i32) {
    if (index >= uniforms.size) { return; }
    let K = uniforms.sumsShape.y;
    let C = uniforms.sumsShape.w;
    let G = uniforms.coefShape.y;
    let b = index / C;
    let c = index - b * C;
    var s0 = 0.0;
    var s2 = 0.0;
    for (var k = 0; k < K; k = k + 1) {
      let o = (b * K + k) * 3 * C + c;
      s0 = s0 + sums[o];
      s2 = s2 + sums[o + 2 * C];
    }
    let o = (b * G + c / (C / G)) * 4;
    result[index] = coef[o + 1] * (gamma[c] * s0 - f32(uniforms.hw) * coef[o + 2] - s2 * coef[o + 3]);
  }
`
  }
}

function checkInputs(name: string, x: TensorInfo, groups: number): void {
  if (x.dtype !== 'float32' || x.shape.length !== 4) throw new Error(`${name} (webgpu): x must be a float32 [B, H, W, C] tensor`)
  if (x.shape[3]! % groups !== 0) throw new Error(`${name} (webgpu): ${x.shape[3]} channels are not divisible into ${groups} groups`)
}

/** Runs `program` on the tensors its variableNames name. */
function runNamed(backend: WebgpuBackendLike, program: GpuProgram, tensors: Record<string, TensorInfo | undefined>, uniforms?: Uniform[]): TensorInfo {
  return backend.runWebGPUProgram(program, program.variableNames.map((n) => tensors[n]!), 'float32', uniforms)
}

/** Inputs x [B,H,W,C], bias [B,C] (optional), gamma [C], beta [C] → [y, mean [B,G], rstd [B,G]]. */
function groupNorm(args: KernelArgs): TensorInfo[] {
  const t = { ...(args.inputs as Record<string, TensorInfo | undefined>) }
  const attrs = args.attrs as unknown as GroupNormAttrs
  checkInputs(GROUP_NORM_KERNEL, t.x!, attrs.groups)
  const backend = args.backend as WebgpuBackendLike
  const B = t.x!.shape[0]!
  const hasBias = Boolean(t.bias)
  const eps: Uniform[] = [{ type: 'float32', data: [attrs.eps] }]
  t.mean = runNamed(backend, statsProgram('mean', B, attrs.groups, hasBias), t, eps)
  t.rstd = runNamed(backend, statsProgram('rstd', B, attrs.groups, hasBias), t, eps)
  const y = runNamed(backend, forwardProgram(t.x!.shape, hasBias, attrs.swish), t)
  return [y, t.mean, t.rstd]
}

/** Inputs dy, x, bias?, gamma, beta, mean, rstd → [dx, dgamma, dbeta, dbias?]. */
function groupNormGrad(args: KernelArgs): TensorInfo[] {
  const t = { ...(args.inputs as Record<string, TensorInfo | undefined>) }
  const attrs = args.attrs as unknown as GroupNormAttrs
  checkInputs(GROUP_NORM_GRAD_KERNEL, t.x!, attrs.groups)
  const backend = args.backend as WebgpuBackendLike
  const [B, H, W, C] = t.x!.shape as [number, number, number, number]
  const hasBias = Boolean(t.bias)
  const hw: Uniform[] = [{ type: 'int32', data: [H * W] }]
  const sums = (t.sums = runNamed(backend, sumsProgram(B, H * W, C, hasBias, attrs.swish), t))
  const coef = (t.coef = runNamed(backend, coefProgram(B, attrs.groups), t, hw))
  const dx = runNamed(backend, dxProgram(t.x!.shape, hasBias, attrs.swish), t)
  const dgamma = runNamed(backend, channelProgram(C, 1), t)
  const dbeta = runNamed(backend, channelProgram(C, 0), t)
  const dbias = hasBias ? runNamed(backend, dbiasProgram(B, C), t, hw) : undefined
  // Released to the buffer pool once the queued dispatches that read them have run.
  backend.disposeData(sums.dataId)
  backend.disposeData(coef.dataId)
  return dbias ? [dx, dgamma, dbeta, dbias] : [dx, dgamma, dbeta]
}

/** ops/group-norm.ts's fused GroupNorm(+bias, +swish) kernel and its gradient. */
export const NORM_KERNELS: Record<string, OwnKernel> = {
  [GROUP_NORM_KERNEL]: groupNorm,
  [GROUP_NORM_GRAD_KERNEL]: groupNormGrad
}
