// Score Lab's WebGPU kernels for the fused GroupNorm(+bias, +swish) and Concat/SplitV
// (src/engine/backend/webgpu/group-norm.ts, concat.ts) against the composite tfjs ops on the cpu
// backend: the forward outputs (y, mean, rstd) and every gradient, with and without swish and
// bias, over 1/2/4/32 groups, the tutorial ScoreNet's shapes, odd spatial sizes and group widths
// that are not multiples of 4; concat and split along every axis. Also counts the dispatches
// (runWebGPUProgram calls) of one GroupNorm forward and backward, ours against the stock composite.
//
// One child process on the machine's adapter, else SwiftShader (helpers/webgpu-child.ts).
import { describe, expect, test } from 'vitest'
import { runOnWebgpu, WEBGPU_CHILD_PRELUDE } from '../helpers/webgpu-child'

interface NormCase {
  shape: [number, number, number, number]
  groups: number
  swish: boolean
  bias: boolean
  /** Added to x: a large mean over a small spread, where one-pass float32 variance cancels. */
  offset?: number
}

const NORM_CASES: NormCase[] = [
  // the tutorial ScoreNet at 28×28 (nets/scorenet.ts: groups 4, 32, 32, 32), as the nets call it
  { shape: [2, 26, 26, 32], groups: 4, swish: true, bias: true },
  { shape: [2, 12, 12, 64], groups: 32, swish: true, bias: true },
  { shape: [2, 5, 5, 128], groups: 32, swish: true, bias: true },
  { shape: [2, 2, 2, 256], groups: 32, swish: true, bias: true },
  // odd spatial sizes; 3, 6 and 5 channels a group; one group; one channel a group
  { shape: [3, 7, 5, 12], groups: 4, swish: true, bias: true },
  { shape: [2, 9, 11, 12], groups: 2, swish: false, bias: true },
  { shape: [2, 3, 5, 5], groups: 1, swish: true, bias: false },
  { shape: [1, 4, 4, 32], groups: 32, swish: false, bias: false },
  { shape: [2, 3, 3, 8], groups: 8, swish: true, bias: true }, // one channel a group: the bias is normalised away
  { shape: [2, 13, 13, 8], groups: 2, swish: true, bias: true, offset: 30 }
]

const CONCAT_CASES = [
  { shapes: [[2, 3, 4, 5], [3, 3, 4, 5]], axis: 0 },
  { shapes: [[2, 3, 4, 5], [2, 1, 4, 5], [2, 2, 4, 5]], axis: 1 },
  { shapes: [[2, 3, 4, 5], [2, 3, 3, 5]], axis: 2 },
  { shapes: [[2, 3, 4, 8], [2, 3, 4, 4], [2, 3, 4, 12]], axis: 3 }, // every width a multiple of 4: vec4 copies
  { shapes: [[2, 5, 5, 3], [2, 5, 5, 6], [2, 5, 5, 1]], axis: -1 }
]

const SPLIT_CASES = [
  { shape: [7, 3, 2, 5], sizes: [1, 2, 4], axis: 0 },
  { shape: [2, 6, 3, 5], sizes: [5, 1], axis: 1 },
  { shape: [2, 3, 7, 5], sizes: [3, -1], axis: 2 },
  { shape: [2, 3, 3, 16], sizes: [4, 12], axis: 3 }, // vec4 copies
  { shape: [2, 3, 3, 9], sizes: [2, 3, 4], axis: 3 }
]

const CHILD = WEBGPU_CHILD_PRELUDE + `
import { groupNorm, groupNormSwish, GROUP_NORM_KERNEL, GROUP_NORM_GRAD_KERNEL } from './src/engine/ops/group-norm.ts'
import { useWebgpuKernels, webgpuKernelsActive } from './src/engine/backend/webgpu/kernels.ts'
import { OWN_SHADER_PREFIX } from './src/engine/backend/webgpu/types.ts'

const NORM_CASES = ${JSON.stringify(NORM_CASES)}
const CONCAT_CASES = ${JSON.stringify(CONCAT_CASES)}
const SPLIT_CASES = ${JSON.stringify(SPLIT_CASES)}
const EPS = 1e-5
// The select-time self-check also covers the conv kernels; this test is about ours, so switch them on either way.
const out = { device: backendInfo.device, active: useWebgpuKernels(true) && webgpuKernelsActive(), norm: [], concat: [], split: [], fallback: 0, dispatches: {} }

const randn = (n, seed, scale = 1, offset = 0) => {
  let s = seed >>> 0
  const u = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) + 0.5) / 4294967296
  return Float32Array.from({ length: n }, () => offset + scale * Math.sqrt(-2 * Math.log(u())) * Math.cos(2 * Math.PI * u()))
}
const relL2 = (a, b) => {
  if (a.length !== b.length) return Infinity
  let num = 0, den = 0
  for (let i = 0; i < a.length; i++) { num += (a[i] - b[i]) ** 2; den += b[i] ** 2 }
  return den === 0 ? Math.sqrt(num) : Math.sqrt(num / den)
}
const maxAbs = (a) => a.reduce((m, v) => Math.max(m, Math.abs(v)), 0)
const read = (ts) => Promise.all(ts.map((t) => t.data()))

// Every program the webgpu backend dispatches, by shaderKey (ours start with OWN_SHADER_PREFIX).
const gpu = tf.engine().findBackend('webgpu')
const dispatched = []
const run = gpu.runWebGPUProgram.bind(gpu)
gpu.runWebGPUProgram = (program, ...rest) => { dispatched.push(program.shaderKey); return run(program, ...rest) }
const ours = (prefix) => dispatched.some((k) => k.startsWith(OWN_SHADER_PREFIX + prefix))

// The reference: composite tfjs ops (what the nets run where no fused kernel exists).
function composite(x, bias, gamma, beta, c) {
  const [B, , , C] = x.shape
  const xb = bias ? tf.add(x, tf.reshape(bias, [B, 1, 1, C])) : x
  const y = groupNorm(xb, c.groups, gamma, beta, EPS)
  return c.swish ? tf.mul(y, tf.sigmoid(y)) : y
}
function stats(x, bias, c) {
  const [B, H, W, C] = x.shape
  const xb = bias ? tf.add(x, tf.reshape(bias, [B, 1, 1, C])) : x
  const { mean, variance } = tf.moments(tf.reshape(xb, [B, H, W, c.groups, C / c.groups]), [1, 2, 4])
  return [tf.reshape(mean, [B, c.groups]), tf.reshape(tf.rsqrt(tf.add(variance, EPS)), [B, c.groups])]
}

for (const [i, c] of NORM_CASES.entries()) {
  const [B, H, W, C] = c.shape
  const n = B * H * W * C
  const data = { x: randn(n, 11 + i, 2, c.offset ?? 0.5), bias: randn(B * C, 12 + i), gamma: randn(C, 13 + i, 0.3, 1), beta: randn(C, 14 + i, 0.3), r: randn(n, 15 + i) }
  const inputs = () => {
    const t = { x: tf.tensor(data.x, c.shape), gamma: tf.tensor(data.gamma), beta: tf.tensor(data.beta) }
    if (c.bias) t.bias = tf.tensor(data.bias, [B, C])
    return t
  }
  const attrs = { groups: c.groups, eps: EPS, swish: c.swish }
  // [y, mean, rstd, dx, dgamma, dbeta, dbias?]
  await tf.setBackend('cpu')
  const ref = await read(tf.tidy(() => {
    const t = inputs()
    const r = tf.tensor(data.r, c.shape)
    const loss = c.bias ? (x, bias, g, b) => tf.sum(tf.mul(composite(x, bias, g, b, c), r)) : (x, g, b) => tf.sum(tf.mul(composite(x, null, g, b, c), r))
    const grads = tf.grads(loss)(c.bias ? [t.x, t.bias, t.gamma, t.beta] : [t.x, t.gamma, t.beta])
    const [dx, ...rest] = grads
    const [dgamma, dbeta, dbias] = c.bias ? [rest[1], rest[2], rest[0]] : [rest[0], rest[1]]
    return [composite(t.x, t.bias, t.gamma, t.beta, c), ...stats(t.x, t.bias, c), dx, dgamma, dbeta, ...(dbias ? [dbias] : [])]
  }))
  await tf.setBackend('webgpu')
  dispatched.length = 0
  const got = await read(tf.tidy(() => {
    const t = inputs()
    const r = tf.tensor(data.r, c.shape)
    const fused = (ins) => tf.engine().runKernel(GROUP_NORM_KERNEL, ins, attrs)
    const [y, mean, rstd] = fused(t)
    if (!c.bias) {
      // Without bias the tape cannot save the missing input, so the gradient kernel runs directly.
      const [dx, dgamma, dbeta] = tf.engine().runKernel(GROUP_NORM_GRAD_KERNEL, { dy: r, x: t.x, gamma: t.gamma, beta: t.beta, mean, rstd }, attrs)
      return [y, mean, rstd, dx, dgamma, dbeta]
    }
    // With bias, through the registered gradient as in training (swish: the nets' own groupNormSwish).
    const f = c.swish ? (x, bias, g, b) => groupNormSwish(x, bias, c.groups, g, b, EPS) : (x, bias, g, b) => fused({ x, bias, gamma: g, beta: b })[0]
    const [dx, dbias, dgamma, dbeta] = tf.grads((x, bias, g, b) => tf.sum(tf.mul(f(x, bias, g, b), r)))([t.x, t.bias, t.gamma, t.beta])
    return [y, mean, rstd, dx, dgamma, dbeta, dbias]
  }))
  const names = ['y', 'mean', 'rstd', 'dx', 'dgamma', 'dbeta', 'dbias']
  const errs = {}
  got.forEach((g, k) => { errs[names[k]] = relL2(g, ref[k]) })
  // One channel a group normalises the bias away: its true gradient is 0, both are rounding noise.
  if (c.bias && C === c.groups) errs.dbias = maxAbs(got[6])
  out.norm.push({ ...c, errs, forwardRan: ours('GnForward') && ours('GnStats'), gradRan: ours('GnGradDx') && ours('GnGradSums') })
}

for (const [i, c] of CONCAT_CASES.entries()) {
  const arrays = c.shapes.map((s, k) => randn(s.reduce((a, b) => a * b, 1), 40 + 3 * i + k))
  const f = () => tf.concat(c.shapes.map((s, k) => tf.tensor(arrays[k], s)), c.axis)
  await tf.setBackend('cpu')
  const ref = await f().data()
  await tf.setBackend('webgpu')
  dispatched.length = 0
  const y = f()
  out.concat.push({ ...c, shape: y.shape, err: relL2(await y.data(), ref), ran: ours('Concat'), dispatches: dispatched.length })
}
for (const [i, c] of SPLIT_CASES.entries()) {
  const xs = randn(c.shape.reduce((a, b) => a * b, 1), 60 + i)
  const f = () => tf.split(tf.tensor(xs, c.shape), c.sizes, c.axis)
  await tf.setBackend('cpu')
  const ref = await read(f())
  await tf.setBackend('webgpu')
  dispatched.length = 0
  const ys = f()
  const got = await read(ys)
  out.split.push({ ...c, shapes: ys.map((y) => y.shape), err: Math.max(...got.map((g, k) => relL2(g, ref[k]))), ran: ours('Split'), dispatches: dispatched.length })
}
// int32 goes to the stock kernel, and still concatenates.
{
  const y = tf.concat([tf.tensor([1, 2], [2, 1], 'int32'), tf.tensor([3, 4], [2, 1], 'int32')], 1)
  out.fallback = Array.from(await y.data()).join(',') === '1,3,2,4' && y.dtype === 'int32' ? 1 : 0
}

// Dispatches of one GroupNorm+bias+swish forward and its backward at the tutorial's first block.
for (const own of [true, false]) {
  useWebgpuKernels(own)
  const [B, H, W, C, G] = [2, 26, 26, 32, 4]
  const t = [tf.tensor(randn(B * H * W * C, 1), [B, H, W, C]), tf.tensor(randn(B * C, 2), [B, C]), tf.tensor(randn(C, 3, 0.3, 1)), tf.tensor(randn(C, 4, 0.3))]
  const dy = tf.tensor(randn(B * H * W * C, 5), [B, H, W, C])
  const f = (x, bias, g, b) => groupNormSwish(x, bias, G, g, b)
  await read([f(...t)]) // compiles the pipelines outside the count
  dispatched.length = 0
  const y = f(...t)
  const forward = dispatched.length
  dispatched.length = 0
  const grads = tf.grads(f)(t, dy)
  const both = dispatched.length
  await read([y, ...grads])
  out.dispatches[own ? 'ours' : 'stock'] = { forward, backward: both - forward }
}
useWebgpuKernels(true)
console.log('RESULT ' + JSON.stringify(out))
process.exit(0)
`

interface NormResult extends NormCase {
  errs: Record<string, number>
  forwardRan: boolean
  gradRan: boolean
}
interface CopyResult {
  axis: number
  err: number
  ran: boolean
  dispatches: number
  shape?: number[]
  shapes?: number[][]
  sizes?: number[]
}
interface ChildResult {
  device: string
  active: boolean
  norm: NormResult[]
  concat: CopyResult[]
  split: CopyResult[]
  fallback: number
  dispatches: Record<'ours' | 'stock', { forward: number; backward: number }>
}

describe('webgpu GroupNorm and Concat/SplitV kernels', () => {
  test('match the composite ops on cpu, and are the kernels that ran', (ctx) => {
    const run = runOnWebgpu<ChildResult>(CHILD)
    if (!run.ok) {
      console.log(`SKIPPED webgpu kernel test: ${run.why}`)
      ctx.skip(run.why)
      return
    }
    const res = run.value
    const worst: Record<string, number> = {}
    for (const c of res.norm) for (const [k, v] of Object.entries(c.errs)) worst[k] = Math.max(worst[k] ?? 0, v)
    console.log(`webgpu adapter: ${res.device}; worst GroupNorm errors ${JSON.stringify(worst)}; dispatches ${JSON.stringify(res.dispatches)}`)
    expect(res.active).toBe(true)

    for (const c of res.norm) {
      const label = `x [${c.shape}] in ${c.groups} groups, swish ${c.swish}, bias ${c.bias}`
      expect(c.forwardRan, label).toBe(true)
      expect(c.gradRan, label).toBe(true)
      expect(Object.keys(c.errs).sort(), label).toEqual(c.bias ? ['dbeta', 'dbias', 'dgamma', 'dx', 'mean', 'rstd', 'y'] : ['dbeta', 'dgamma', 'dx', 'mean', 'rstd', 'y'])
      for (const [name, e] of Object.entries(c.errs)) {
        // With one channel a group errs.dbias is the largest |dbias|: rounding noise around 0.
        expect(e, `${label}: ${name}`).toBeLessThanOrEqual(name === 'dbias' && c.groups === c.shape[3] ? 1e-3 : 1e-5)
      }
    }
    for (const c of [...res.concat, ...res.split]) {
      const label = JSON.stringify({ axis: c.axis, shape: c.shape ?? c.shapes, sizes: c.sizes })
      expect(c.ran, label).toBe(true)
      expect(c.err, label).toBe(0) // a copy is exact
    }
    // Concat: one dispatch whatever the number of inputs; SplitV: one per output.
    for (const c of res.concat) expect(c.dispatches).toBe(1)
    for (const c of res.split) expect(c.dispatches).toBe(c.sizes!.length)
    expect(res.fallback).toBe(1)

    // Ours: 3 forward (mean, rstd, y) and 6 backward (sums, coefficients, dx, dgamma, dbeta, dbias).
    expect(res.dispatches.ours).toEqual({ forward: 3, backward: 6 })
    expect(res.dispatches.stock.forward).toBeGreaterThan(3)
  }, 300_000)
})
