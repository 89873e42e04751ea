// GPU work counters (src/engine/backend/webgpu/counters.ts) on the WebGPU adapter, and the
// trainer's promise that a step reads nothing back: (a) a known op sequence gives known counts
// and stop() restores the WebGPU API; (b) Trainer.step on a small scorenet issues no download,
// and readPending afterwards issues exactly one; (c) the metrics read on webgpu match the same
// steps on cpu.
//
// One child process on the machine's adapter, else SwiftShader (helpers/webgpu-child.ts).
import { describe, expect, test } from 'vitest'
import { runOnWebgpu, WEBGPU_CHILD_PRELUDE } from '../helpers/webgpu-child'

const N = 4096 // elements: past tfjs-webgpu's CPU forwarding of small tensors, so each op is a dispatch
const STEPS = 3
const B = 4

const CHILD =
  WEBGPU_CHILD_PRELUDE +
  `
import { GpuCounters } from './src/engine/backend/webgpu/counters.ts'
import { createModel } from './src/engine/nets/index.ts'
import { createSde } from './src/engine/sde/index.ts'
import { Trainer } from './src/engine/train/index.ts'
const out = { device: backendInfo.device }

// (a) Two uploads, three element-wise programs, one read.
const submitBefore = GPUQueue.prototype.submit
const dispatchBefore = GPUComputePassEncoder.prototype.dispatchWorkgroups
const vals = Float32Array.from({ length: ${N} }, (_, i) => (i % 7) / 7)
const c = GpuCounters.start()
const a = tf.tensor1d(vals), b = tf.tensor1d(vals)
const z = tf.exp(tf.mul(tf.add(a, b), b))
out.enqueued = c.read()
await z.data()
out.ops = c.stop()
out.restored = GPUQueue.prototype.submit === submitBefore && GPUComputePassEncoder.prototype.dispatchWorkgroups === dispatchBefore &&
  !Object.hasOwn(tf.backend(), 'runWebGPUProgram')
await tf.add(a, b).data()
out.afterStop = c.read() // unchanged: nothing counts once stopped
let nested = ''
const c2 = GpuCounters.start()
try { GpuCounters.start() } catch (e) { nested = e.message }
c2.stop()
out.nested = nested

// (b) + (c): the same steps of a small scorenet on webgpu, counted, then on cpu.
let s = 3
const rnd = (n) => Float32Array.from({ length: n }, () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 4294967296))
const data = Array.from({ length: ${STEPS} }, () => rnd(${B} * 784))
async function train(backend, count) {
  await tf.setBackend(backend)
  const sde = createSde({ name: 'vesde_tutorial' })
  const model = createModel('scorenet', { shape: [28, 28, 1], sde, seed: 7, options: { channels: [8, 16, 16, 16], embedDim: 32, groups: [2, 4, 4, 4, 4, 4, 2] } })
  const trainer = new Trainer({ model, sde, config: { lr: 1e-3, seed: 3, gradClip: 1, emaDecay: 0.99, warmup: 2 } })
  const xs = data.map((d) => tf.tensor4d(d, [${B}, 28, 28, 1]))
  const counter = count ? GpuCounters.start() : null
  for (const x of xs) trainer.step(x)
  const steps = counter?.read()
  counter?.reset()
  const metrics = await trainer.readPending()
  const read = counter?.stop()
  tf.dispose(xs)
  trainer.dispose()
  model.dispose()
  return { steps, read, metrics }
}
const gpu = await train('webgpu', true)
const cpu = await train('cpu', false)
out.stepCounts = gpu.steps
out.readCounts = gpu.read
out.webgpu = gpu.metrics
out.cpu = cpu.metrics
console.log('RESULT ' + JSON.stringify(out))
process.exit(0)
`

interface Counts {
  programs: number
  dispatches: number
  submits: number
  uploads: number
  uploadBytes: number
  uniformWrites: number
  downloads: number
  downloadBytes: number
}
interface Metrics {
  step: number
  loss: number
  gradNorm: number
  lr: number
  bucketLoss: (number | null)[]
}
interface ChildResult {
  device: string
  enqueued: Counts
  ops: Counts
  restored: boolean
  afterStop: Counts
  nested: string
  stepCounts: Counts
  readCounts: Counts
  webgpu: Metrics[]
  cpu: Metrics[]
}

const close = (a: number, b: number, rel: number) => Math.abs(a - b) <= rel * Math.max(Math.abs(a), Math.abs(b), 1e-6)

describe('webgpu counters', () => {
  test('count a known op sequence and restore on stop; a training step reads nothing back; its deferred metrics match cpu', (ctx) => {
    const run = runOnWebgpu<ChildResult>(CHILD)
    if (!run.ok) {
      console.log(`SKIPPED webgpu counters test: ${run.why}`)
      ctx.skip(run.why)
      return
    }
    const r = run.value
    console.log(`[webgpu-counters] ${r.device}: ${STEPS} scorenet steps (batch ${B}) enqueued`, r.stepCounts, '; their one read', r.readCounts)

    // (a) add, mul, exp: three programs, three dispatches, each with its uniform write; the two
    // inputs uploaded when first used (4 bytes each); nothing read or submitted until data().
    expect(r.enqueued).toMatchObject({ programs: 3, dispatches: 3, uniformWrites: 3, uploads: 2, uploadBytes: 2 * N * 4, downloads: 0, submits: 0 })
    expect(r.ops).toMatchObject({ programs: 3, dispatches: 3, uploads: 2, downloads: 1, downloadBytes: N * 4 })
    expect(r.ops.submits).toBeGreaterThanOrEqual(1)
    expect(r.restored).toBe(true)
    expect(r.afterStop).toEqual(r.ops)
    expect(r.nested).toMatch(/already running/)

    // (b) The steps enqueue work only; the batched read is the one download.
    expect(r.stepCounts.dispatches).toBeGreaterThan(100 * STEPS)
    expect(r.stepCounts.downloads).toBe(0)
    expect(r.readCounts.downloads).toBe(1)
    expect(r.readCounts.downloadBytes).toBe(STEPS * (2 + 2 * B) * 4) // loss, norm, perSample[B], t[B] per step

    // (c) The same steps on cpu: same metrics within float32 tolerance (different kernels, same maths).
    expect(r.webgpu.map((m) => m.step)).toEqual([1, 2, 3])
    expect(r.webgpu.map((m) => m.lr)).toEqual(r.cpu.map((m) => m.lr))
    r.webgpu.forEach((m, i) => {
      const c = r.cpu[i]!
      expect(close(m.loss, c.loss, 1e-3), `loss at step ${m.step}: ${m.loss} vs ${c.loss}`).toBe(true)
      expect(close(m.gradNorm, c.gradNorm, 1e-3), `gradNorm at step ${m.step}: ${m.gradNorm} vs ${c.gradNorm}`).toBe(true)
      m.bucketLoss.forEach((v, k) => {
        const w = c.bucketLoss[k]
        if (v === null || w === null || w === undefined) expect(v).toBe(w ?? null)
        else expect(close(v, w, 1e-3), `bucket ${k} at step ${m.step}: ${v} vs ${w}`).toBe(true)
      })
    })
  })
})
