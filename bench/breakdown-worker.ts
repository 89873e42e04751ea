// One process: profiles the tutorial ScoreNet's training step (the engine's Trainer: loss, backward,
// grad norm, Adam, EMA) and one Euler–Maruyama step (one model.score forward + the update ops), both
// at batch 64, with tf.profile, and prints one line `RESULT {json}` with per-kernel-name times, the
// kernels' shapes → conv/matmul FLOPs, and the unprofiled wall and CPU time of each step.
// Spawned by bench/breakdown.bench.ts; also usable by hand:
//   node --import tsx bench/breakdown-worker.ts --backend native --warmup 2 --steps 3
import { performance } from 'node:perf_hooks'
import { tf } from '../src/engine/tf'
import { selectBackend } from '../src/engine/backend/select'
import type { BackendName } from '../src/engine/backend/types'
import { createModel } from '../src/engine/nets'
import { createSde } from '../src/engine/sde'
import { Trainer } from '../src/engine/train'
import { opt } from './worker-args'

const BACKEND = opt('backend', 'native') as BackendName
const BATCH = Number(opt('batch', '64'))
const WARMUP = Number(opt('warmup', '2'))
const STEPS = Number(opt('steps', '3'))
const SHAPE = [28, 28, 1]

interface KernelRec {
  name: string
  ms: number
  flops: number
  /** 'optimizer' when the kernel ran inside Adam.apply or Ema.update */
  tag?: string
}
interface StepProfile {
  kernels: Record<string, { ms: number; flops: number; calls: number }>
  kernelSumMs: number
}
const numel = (s: number[] | undefined) => (s ?? []).reduce((a, b) => a * b, 1)

/** FLOPs of one GEMM-shaped kernel call from its shapes (NHWC, filter [kh, kw, in, out]). */
function kernelFlops(name: string, inS: number[][], outS: number[][]): number {
  if (name === 'Conv2D' || name === 'FusedConv2D') {
    const f = inS[1]!
    return 2 * numel(outS[0]) * f[0]! * f[1]! * f[2]!
  }
  if (name === 'Conv2DBackpropInput') {
    // inputs {dy, filter}; filter [kh, kw, dxC, dyC]: each dy element meets kh·kw·dxC weights
    const f = inS[1]!
    return 2 * numel(inS[0]) * f[0]! * f[1]! * f[2]!
  }
  if (name === 'Conv2DBackpropFilter') {
    // inputs {x, dy}; output = filter [kh, kw, xC, dyC]
    const f = outS[0]!
    return 2 * numel(inS[1]) * f[0]! * f[1]! * f[2]!
  }
  if (name === 'BatchMatMul' || name === '_FusedMatMul' || name === 'MatMul') {
    // 2-D (or same-batch) product: K = sqrt(|a|·|b| / |out|) when unbatched
    const a = numel(inS[0])
    const b = numel(inS[1])
    const o = numel(outS[0])
    const batch = Math.max(1, (inS[0]!.length > 2 ? numel(inS[0]!.slice(0, -2)) : 1))
    const k = Math.sqrt((a / batch) * (b / batch) / (o / batch))
    return 2 * o * k
  }
  return 0
}

type ActiveProfile = { kernels: unknown[] }
const activeKernels = () => (tf.engine().state as unknown as { activeProfile: ActiveProfile }).activeProfile.kernels.length

/** Runs fn under tf.profile; kernels whose index falls in a tagged range get the tag. */
async function profileStep(fn: () => Promise<void>, ranges: Array<[number, number]>): Promise<KernelRec[]> {
  ranges.length = 0
  const p = await tf.profile(fn)
  const recs: KernelRec[] = []
  p.kernels.forEach((k, i) => {
    const ms = typeof k.kernelTimeMs === 'number' ? k.kernelTimeMs : 0
    const tag = ranges.some(([a, b]) => i >= a && i < b) ? 'optimizer' : undefined
    recs.push({ name: k.name, ms, flops: kernelFlops(k.name, k.inputShapes as number[][], k.outputShapes as number[][]), tag })
  })
  return recs
}

function summarise(recs: KernelRec[]): StepProfile {
  const kernels: StepProfile['kernels'] = {}
  let sum = 0
  for (const r of recs) {
    const key = r.tag ? `${r.tag}:${r.name}` : r.name
    const e = (kernels[key] ??= { ms: 0, flops: 0, calls: 0 })
    e.ms += r.ms
    e.flops += r.flops
    e.calls += 1
    sum += r.ms
  }
  return { kernels, kernelSumMs: sum }
}

async function timed(fn: () => Promise<void>): Promise<{ wall: number; cpu: number }> {
  const c0 = process.cpuUsage()
  const t0 = performance.now()
  await fn()
  const wall = performance.now() - t0
  const c = process.cpuUsage(c0)
  return { wall, cpu: (c.user + c.system) / 1000 }
}
const median = (a: number[]) => {
  const s = [...a].sort((x, y) => x - y)
  const m = Math.floor(s.length / 2)
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2
}

async function main(): Promise<void> {
  if (!tf.getGradient('Conv2D')) await import('@tensorflow/tfjs-core/dist/register_all_gradients')
  const info = await selectBackend({ force: BACKEND })
  // The profiler otherwise reads every kernel's output back to check for NaN: overhead outside the kernel timers.
  tf.env().set('CHECK_COMPUTATION_FOR_ERRORS', false)
  const sde = createSde({ name: 'vesde_tutorial' })
  const model = createModel('scorenet', { shape: SHAPE, sde, seed: 0 })
  const trainer = new Trainer({ model, sde, config: { lr: 1e-4, batchSize: BATCH, seed: 0, emaDecay: 0.999 }, dataShape: SHAPE })
  const result: Record<string, unknown> = { backend: BACKEND, device: info.device, batch: BATCH, steps: STEPS, warmup: WARMUP, threads: (await import('node:os')).cpus().length }

  // Tag Adam.apply and Ema.update's kernels (private fields: wrapped on this instance only).
  const ranges: Array<[number, number]> = []
  const t = trainer as unknown as { adam: { apply: (...a: unknown[]) => unknown }; ema: { update: () => void } | null }
  for (const obj of [t.adam, t.ema] as Array<Record<string, (...a: unknown[]) => unknown> | null>) {
    if (!obj) continue
    const key = 'apply' in obj ? 'apply' : 'update'
    const orig = obj[key]!.bind(obj)
    obj[key] = (...a: unknown[]) => {
      const profiling = (tf.engine().state as unknown as { profiling: boolean }).profiling
      const k0 = profiling ? activeKernels() : 0
      const r = orig(...a)
      if (profiling) ranges.push([k0, activeKernels()])
      return r
    }
  }

  // ---- training step
  const x = tf.randomNormal([BATCH, ...SHAPE])
  const trainStep = async () => {
    trainer.step(x)
    await trainer.readPending()
  }
  for (let i = 0; i < WARMUP; i++) await trainStep()
  const trainTimes: Array<{ wall: number; cpu: number }> = []
  for (let i = 0; i < STEPS; i++) trainTimes.push(await timed(trainStep))
  const trainProfiles: StepProfile[] = []
  for (let i = 0; i < STEPS; i++) trainProfiles.push(summarise(await profileStep(trainStep, ranges)))
  result.train = { wallMs: median(trainTimes.map((s) => s.wall)), cpuMs: median(trainTimes.map((s) => s.cpu)), profiles: trainProfiles }
  console.error(`[${BACKEND}] train@${BATCH}: wall ${median(trainTimes.map((s) => s.wall)).toFixed(1)} ms, kernels ${median(trainProfiles.map((p) => p.kernelSumMs)).toFixed(1)} ms`)

  // ---- Euler–Maruyama step (as bench/scorenet-worker.ts: one score evaluation + update)
  const dt = (1 - 1e-3) / 499
  let xs = tf.tidy(() => tf.mul(tf.randomNormal([BATCH, ...SHAPE]), 25))
  const emStep = async () => {
    const tv = 0.5
    const xn = tf.tidy(() => {
      const bt = tf.fill([BATCH], tv) as tf.Tensor1D
      const g = tf.pow(tf.scalar(25), tf.scalar(tv))
      const meanX = tf.add(xs, tf.mul(tf.mul(tf.square(g), model.score(xs, bt)), dt))
      return tf.add(meanX, tf.mul(tf.mul(g, Math.sqrt(dt)), tf.randomNormal(xs.shape)))
    })
    await xn.data()
    xs.dispose()
    xs = xn
  }
  for (let i = 0; i < WARMUP; i++) await emStep()
  const emTimes: Array<{ wall: number; cpu: number }> = []
  for (let i = 0; i < STEPS; i++) emTimes.push(await timed(emStep))
  const emProfiles: StepProfile[] = []
  for (let i = 0; i < STEPS; i++) emProfiles.push(summarise(await profileStep(emStep, ranges)))
  result.em = { wallMs: median(emTimes.map((s) => s.wall)), cpuMs: median(emTimes.map((s) => s.cpu)), profiles: emProfiles }
  console.error(`[${BACKEND}] EM@${BATCH}: wall ${median(emTimes.map((s) => s.wall)).toFixed(1)} ms, kernels ${median(emProfiles.map((p) => p.kernelSumMs)).toFixed(1)} ms`)
  console.log('RESULT ' + JSON.stringify(result))
  process.exit(0)
}

main().catch((e) => {
  console.log('RESULT ' + JSON.stringify({ backend: BACKEND, error: String((e as Error).stack ?? e).split('\n').slice(0, 3).join(' | ') }))
  process.exit(0)
})
