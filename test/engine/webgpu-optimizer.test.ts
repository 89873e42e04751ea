// The fused Adam and EMA updates (src/engine/ops/optimizer-update.ts; WebGPU kernels in
// src/engine/backend/webgpu/optimizer.ts): (a) on cpu the composite path is the optimisers' old
// arithmetic bit for bit (resumes and cross-backend checks rely on it); (b) on webgpu, a few
// Adam + EMA steps through train/adam.ts and ema.ts with our kernels match the same steps on cpu,
// with the learning rate warming up so the step size changes between steps, and our programs are
// the ones that ran; (c) per parameter tensor, 3 dispatches for Adam and 1 for the EMA, with no
// upload beyond the per-dispatch uniforms (the composite's scalars are uploads).
//
// (b) and (c) in one child process on the machine's adapter, else SwiftShader (helpers/webgpu-child.ts).
import { describe, expect, test } from 'vitest'
import { tf } from '../../src/engine/tf'
import { adamUpdate, emaUpdate } from '../../src/engine/ops/optimizer-update'
import { runOnWebgpu, WEBGPU_CHILD_PRELUDE } from '../helpers/webgpu-child'

// A conv kernel, biases, a GroupNorm scale, odd sizes, one scalar-like tensor, and one past
// tfjs' small-tensor CPU forwarding.
const SHAPES = [[3, 3, 1, 32], [32], [64], [5, 7], [1], [3, 3, 32, 64], [4099]]
const STEPS = 4

function randn(n: number, seed: number, scale = 1): Float32Array {
  let s = seed >>> 0
  const u = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) + 0.5) / 4294967296
  return Float32Array.from({ length: n }, () => scale * Math.sqrt(-2 * Math.log(u())) * Math.cos(2 * Math.PI * u()))
}

describe('composite optimiser updates (no fused kernel: cpu, wasm, native)', () => {
  test('are the inline ops adam.ts and ema.ts ran before the kernels, bit for bit', async () => {
    await tf.setBackend('cpu')
    const [beta1, beta2, eps, lr] = [0.9, 0.999, 1e-8, 3e-4]
    const shape = [7, 5]
    const [p, m, v, g, s] = [1, 2, 3, 4, 5].map((k) => tf.tensor(randn(35, k, k === 3 ? 0.01 : 1), shape))
    const vPos = tf.abs(v!)
    for (const k of [1, 2, 50]) {
      const stepSize = lr / (1 - Math.pow(beta1, k))
      const bc2Sqrt = Math.sqrt(1 - Math.pow(beta2, k))
      const got = adamUpdate(p!, m!, vPos, g!, { beta1, beta2, eps, stepSize, bc2Sqrt })
      // The previous adam.ts apply(), verbatim.
      const m1 = tf.add(tf.mul(m!, beta1), tf.mul(g!, 1 - beta1))
      const v1 = tf.add(tf.mul(vPos, beta2), tf.mul(tf.square(g!), 1 - beta2))
      const denom = tf.add(tf.div(tf.sqrt(v1), bc2Sqrt), eps)
      const p1 = tf.sub(p!, tf.mul(tf.div(m1, denom), stepSize))
      for (const [a, b] of [[got[0], p1], [got[1], m1], [got[2], v1]] as const) expect(Array.from(await a.data())).toEqual(Array.from(await b.data()))
      const d = Math.min(0.999, (1 + k) / (10 + k))
      const e = emaUpdate(s!, p!, { oneMinusDecay: 1 - d })
      expect(Array.from(await e.data())).toEqual(Array.from(await tf.sub(s!, tf.mul(tf.sub(s!, p!), 1 - d)).data()))
    }
  })
})

const CHILD = WEBGPU_CHILD_PRELUDE + `
import { Adam } from './src/engine/train/adam.ts'
import { Ema } from './src/engine/train/ema.ts'
import { warmupLr } from './src/engine/train/clip.ts'
import { GpuCounters } from './src/engine/backend/webgpu/counters.ts'
import { useWebgpuKernels, webgpuKernelsActive } from './src/engine/backend/webgpu/kernels.ts'
import { OWN_SHADER_PREFIX } from './src/engine/backend/webgpu/types.ts'

const SHAPES = ${JSON.stringify(SHAPES)}
const STEPS = ${STEPS}
const randn = (n, seed, scale = 1) => {
  let s = seed >>> 0
  const u = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) + 0.5) / 4294967296
  return Float32Array.from({ length: n }, () => scale * Math.sqrt(-2 * Math.log(u())) * Math.cos(2 * Math.PI * u()))
}
const size = (s) => s.reduce((a, b) => a * b, 1)
const init = SHAPES.map((s, i) => randn(size(s), 100 + i))
const grads = Array.from({ length: STEPS + 2 }, (_, k) => SHAPES.map((s, i) => randn(size(s), 1000 * (k + 1) + i, 0.1 * (i + 1))))
const relL2 = (a, b) => {
  if (a.length !== b.length) return Infinity
  let num = 0, den = 0
  for (let i = 0; i < a.length; i++) { num += (a[i] - b[i]) ** 2; den += b[i] ** 2 }
  return den === 0 ? Math.sqrt(num) : Math.sqrt(num / den)
}

const out = { device: backendInfo.device, active: useWebgpuKernels(true) && webgpuKernelsActive(), errs: {}, ran: [], counts: {} }
const gpu = tf.engine().findBackend('webgpu')
const keys = new Set()
const run = gpu.runWebGPUProgram.bind(gpu)
gpu.runWebGPUProgram = (program, ...rest) => { keys.add(program.shaderKey.split('_')[0]); return run(program, ...rest) }

// Params, Adam and EMA as the trainer builds them; warm-up over 3 steps, so the step size changes every step.
function setup() {
  const params = new Map(SHAPES.map((s, i) => ['w' + i, tf.variable(tf.tensor(init[i], s))]))
  return { params, adam: new Adam(params), ema: new Ema(params, 0.99) }
}
const gradsAt = (k) => Object.fromEntries(SHAPES.map((s, i) => ['w' + i, tf.tensor(grads[k][i], s)]))
async function steps(backend) {
  await tf.setBackend(backend)
  const o = setup()
  for (let k = 0; k < STEPS; k++) {
    const g = gradsAt(k)
    o.adam.apply(g, warmupLr(1e-2, 3, k + 1))
    o.ema.update()
    tf.dispose(Object.values(g))
  }
  const [adam, ema] = await Promise.all([o.adam.getState(), o.ema.getState()])
  const p = {}
  for (const [n, t] of o.params) p[n] = await t.data()
  return { o, p, adam, ema }
}
const ref = await steps('cpu')
keys.clear()
const got = await steps('webgpu')
out.ran = [...keys].filter((k) => k.startsWith(OWN_SHADER_PREFIX))
const worst = (f) => Math.max(...SHAPES.map((_, i) => f('w' + i)))
out.errs = {
  p: worst((n) => relL2(got.p[n], ref.p[n])),
  m: worst((n) => relL2(got.adam.m[n].data, ref.adam.m[n].data)),
  v: worst((n) => relL2(got.adam.v[n].data, ref.adam.v[n].data)),
  shadow: worst((n) => relL2(got.ema.shadow[n].data, ref.ema.shadow[n].data))
}
out.steps = [got.adam.step, got.ema.numUpdates]

// Counted: one more Adam step and one EMA update, with the gradients already on the GPU
// (as the trainer's are), ours and the composite.
for (const own of [true, false]) {
  useWebgpuKernels(own)
  const g = gradsAt(STEPS + (own ? 0 : 1))
  // Uploaded here: an op on small host tensors would run on the CPU (tfjs-webgpu forwards those).
  for (const t of Object.values(g)) gpu.uploadToGPU(t.dataId)
  await tf.ready()
  const c = GpuCounters.start()
  try {
    got.o.adam.apply(g, 1e-3)
    const adam = c.read()
    c.reset()
    got.o.ema.update()
    out.counts[own ? 'ours' : 'composite'] = { adam, ema: c.read() }
  } finally {
    c.stop()
  }
  tf.dispose(Object.values(g))
}
out.tensors = SHAPES.length
useWebgpuKernels(true)
console.log('RESULT ' + JSON.stringify(out))
process.exit(0)
`

interface Counts {
  dispatches: number
  uploads: number
  uniformWrites: number
  downloads: number
}
interface ChildResult {
  device: string
  active: boolean
  errs: Record<'p' | 'm' | 'v' | 'shadow', number>
  ran: string[]
  steps: [number, number]
  tensors: number
  counts: Record<'ours' | 'composite', { adam: Counts; ema: Counts }>
}

describe('webgpu fused Adam and EMA updates', () => {
  test('match the composite on cpu over warm-up steps, in 3 + 1 dispatches per tensor and no uploads', (ctx) => {
    const r = runOnWebgpu<ChildResult>(CHILD)
    if (!r.ok) {
      console.log(`SKIPPED webgpu optimizer test: ${r.why}`)
      ctx.skip(r.why)
      return
    }
    const res = r.value
    console.log(`webgpu adapter: ${res.device}; errors ${JSON.stringify(res.errs)}; counts over ${res.tensors} tensors ${JSON.stringify(res.counts)}`)
    expect(res.active).toBe(true)
    expect(res.steps).toEqual([STEPS, STEPS])
    expect(res.ran.sort()).toEqual(['ScoreLabAdamM', 'ScoreLabAdamP', 'ScoreLabAdamV', 'ScoreLabEma'])
    for (const [name, e] of Object.entries(res.errs)) expect(e, name).toBeLessThanOrEqual(1e-6)

    const n = res.tensors
    const { ours, composite } = res.counts
    expect(ours.adam.dispatches).toBe(3 * n)
    expect(ours.ema.dispatches).toBe(n)
    for (const c of [ours.adam, ours.ema]) {
      expect(c.uploads).toBe(0) // the step size and decay travel as uniforms
      expect(c.uniformWrites).toBe(c.dispatches)
      expect(c.downloads).toBe(0)
    }
    // The composite: ~13 and 3 ops a tensor, and scalars uploaded.
    expect(composite.adam.dispatches).toBeGreaterThan(3 * ours.adam.dispatches)
    expect(composite.ema.dispatches).toBeGreaterThan(ours.ema.dispatches)
    expect(composite.adam.uploads + composite.ema.uploads).toBeGreaterThan(0)
  }, 120_000)
})
