// One backend, one process: times the tutorial ScoreNet's training step and Euler–Maruyama step
// and prints one line `RESULT {json}` at the end. Spawned by bench/scorenet.bench.ts (a fresh
// process per backend keeps wasm/webgpu state and env vars apart); also usable by hand:
//   node --import tsx bench/scorenet-worker.ts --backend wasm --what train,em64,em1 [--profile]
import { performance } from 'node:perf_hooks'
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import path from 'node:path'
import { tf } from '../src/engine/tf'
import { selectBackend } from '../src/engine/backend/select'
import type { BackendName } from '../src/engine/backend/types'
import { tutorialScoreNet, flopEstimate, type BenchNet } from './tutorial-scorenet'
import { opt, flag } from './worker-args'

const here = path.dirname(fileURLToPath(import.meta.url))

const BACKEND = opt('backend', 'wasm') as BackendName
const WHAT = opt('what', 'train,em64,em1').split(',').filter((w) => w && w !== 'none')
const BATCH = Number(opt('batch', '64'))
const TRAIN_STEPS = Number(opt('train-steps', '10'))
const EM_STEPS = Number(opt('em-steps', '20'))
const EM1_STEPS = Number(opt('em1-steps', '100'))
const WARMUP = Number(opt('warmup', '2'))
const THREADS = flag('threads') ? Number(opt('threads', '1')) : undefined
// native:N — the C++ kernels' thread pool reads this when the addon loads
if (BACKEND === 'native' && THREADS !== undefined) process.env.SCORE_LAB_NATIVE_THREADS = String(THREADS)
const NET = opt('net', 'auto') // auto | engine | tutorial

interface Stats {
  /** process CPU time per step (user+system), median: less sensitive to other load than wall time */
  cpu_median_ms?: number
  mean_ms: number
  median_ms: number
  min_ms: number
  max_ms: number
  n: number
}
const stats = (a: number[]): Stats => {
  const s = [...a].sort((x, y) => x - y)
  return { mean_ms: a.reduce((p, q) => p + q, 0) / a.length, median_ms: s[Math.floor(s.length / 2)]!, min_ms: s[0]!, max_ms: s[s.length - 1]!, n: a.length }
}

async function loadNet(): Promise<{ net: BenchNet; note: string }> {
  const enginePath = path.join(here, '../src/engine/nets/scorenet.ts')
  if (NET !== 'tutorial') {
    if (!existsSync(enginePath)) {
      if (NET === 'engine') throw new Error('src/engine/nets/scorenet.ts does not exist yet')
      return { net: tutorialScoreNet(), note: 'engine scorenet not present yet: used the private copy bench/tutorial-scorenet.ts' }
    }
    try {
      const nets = await import('../src/engine/nets/index')
      await import('../src/engine/nets/scorenet')
      const { createSde } = await import('../src/engine/sde/index')
      const sde = createSde({ name: 'vesde_tutorial' })
      const model = nets.createModel('scorenet', { shape: [28, 28, 1], sde, seed: 0 })
      const numParams = [...model.params.values()].reduce((a, v) => a + v.size, 0) + [...model.buffers.values()].reduce((a, v) => a + v.size, 0)
      return {
        net: {
          name: 'src/engine/nets/scorenet.ts (createModel("scorenet"))',
          vars: [...model.params.values()].filter((v) => v.trainable),
          numParams,
          score: (x, t) => model.score(x, t) as tf.Tensor4D,
          std: (t) => sde.marginalProb(tf.zeros([t.size, 1]), tf.reshape(t, [-1]) as tf.Tensor1D).std,
          diffusion: (t) => tf.pow(tf.scalar(25), t),
          dispose: () => model.dispose()
        },
        note: 'engine scorenet'
      }
    } catch (e) {
      if (NET === 'engine') throw e
      return { net: tutorialScoreNet(), note: `engine scorenet failed to load (${String((e as Error).message ?? e).split('\n')[0]}): used the private copy bench/tutorial-scorenet.ts` }
    }
  }
  return { net: tutorialScoreNet(), note: 'private copy bench/tutorial-scorenet.ts (--net tutorial)' }
}

function lossFn(net: BenchNet, x: tf.Tensor4D, eps = 1e-5): tf.Scalar {
  const B = x.shape[0]
  const t = tf.add(tf.mul(tf.randomUniform([B]), 1 - eps), eps) as tf.Tensor1D
  const z = tf.randomNormal(x.shape)
  const std = tf.reshape(net.std(t), [B, 1, 1, 1])
  const score = net.score(tf.add(x, tf.mul(z, std)) as tf.Tensor4D, t)
  return tf.mean(tf.sum(tf.square(tf.add(tf.mul(score, std), z)), [1, 2, 3]))
}

async function main(): Promise<void> {
  if (!tf.getGradient('Conv2D')) await import('@tensorflow/tfjs-core/dist/register_all_gradients')
  const info = await selectBackend({ force: BACKEND, allowSoftwareWebgpu: true, wasmThreads: THREADS })
  const { net, note } = await loadNet()
  const result: Record<string, unknown> = { backend: BACKEND, device: info.device, net: net.name, netNote: note, params: net.numParams }
  console.error(`[${BACKEND}] ${info.device}; ${note}; ${net.numParams} parameters`)

  if (WHAT.includes('train')) {
    const optimizer = tf.train.adam(1e-4, 0.9, 0.999, 1e-8)
    const x = tf.randomUniform([BATCH, 28, 28, 1]) as tf.Tensor4D
    const step = () => {
      const loss = optimizer.minimize(() => lossFn(net, x), true, net.vars)!
      const v = loss.dataSync()[0]!
      loss.dispose()
      return v
    }
    let loss = 0
    for (let i = 0; i < WARMUP; i++) loss = step()
    const times: number[] = []
    const cpu: number[] = []
    for (let i = 0; i < TRAIN_STEPS; i++) {
      const c0 = process.cpuUsage()
      const t0 = performance.now()
      loss = step()
      times.push(performance.now() - t0)
      const c = process.cpuUsage(c0)
      cpu.push((c.user + c.system) / 1000)
    }
    const s = { ...stats(times), cpu_median_ms: stats(cpu).median_ms }
    result.train = { ...s, batch: BATCH, loss, gflops: flopEstimate(BATCH).trainFlops / s.median_ms / 1e6 }
    console.error(`[${BACKEND}] train@${BATCH}: median ${s.median_ms.toFixed(1)} ms (mean ${s.mean_ms.toFixed(1)}, n=${s.n}; cpu ${s.cpu_median_ms.toFixed(1)} ms), loss ${loss.toFixed(1)}`)
    if (flag('profile')) result.trainProfile = await profile(() => optimizer.minimize(() => lossFn(net, x), true, net.vars)!)
    optimizer.dispose()
    x.dispose()
  }

  for (const [key, batch, steps] of [['em64', BATCH, EM_STEPS], ['em1', 1, EM1_STEPS]] as const) {
    if (!WHAT.includes(key)) continue
    const numSteps = 500
    const eps = 1e-3
    const ts = Array.from({ length: numSteps }, (_, i) => 1 + ((eps - 1) * i) / (numSteps - 1))
    const dt = ts[0]! - ts[1]!
    let x = tf.tidy(() => tf.mul(tf.randomNormal([batch, 28, 28, 1]), net.std(tf.scalar(1))))
    const emStep = (tv: number) =>
      tf.tidy(() => {
        const bt = tf.fill([batch], tv) as tf.Tensor1D
        const g = net.diffusion(tf.scalar(tv))
        const meanX = tf.add(x, tf.mul(tf.mul(tf.square(g), net.score(x as tf.Tensor4D, bt)), dt))
        return tf.add(meanX, tf.mul(tf.mul(g, Math.sqrt(dt)), tf.randomNormal(x.shape)))
      })
    const times: number[] = []
    const cpu: number[] = []
    for (let i = 0; i < WARMUP + steps; i++) {
      const c0 = process.cpuUsage()
      const t0 = performance.now()
      const xn = emStep(ts[i % numSteps]!)
      xn.dataSync()
      x.dispose()
      x = xn
      if (i >= WARMUP) {
        times.push(performance.now() - t0)
        const c = process.cpuUsage(c0)
        cpu.push((c.user + c.system) / 1000)
      }
    }
    const s = { ...stats(times), cpu_median_ms: stats(cpu).median_ms }
    result[key] = { ...s, batch, gflops: flopEstimate(batch).fwdFlops / s.median_ms / 1e6 }
    console.error(`[${BACKEND}] EM@${batch}: median ${s.median_ms.toFixed(2)} ms (mean ${s.mean_ms.toFixed(2)}, n=${s.n}; cpu ${s.cpu_median_ms.toFixed(2)} ms)`)
    if (flag('profile') && key === 'em64') result.emProfile = await profile(() => net.score(x as tf.Tensor4D, tf.fill([batch], 0.5) as tf.Tensor1D))
    x.dispose()
  }
  result.numTensors = tf.memory().numTensors
  console.log('RESULT ' + JSON.stringify(result))
}

/** Per-kernel wall time (ms) of one call, summed by kernel name (and the top shapes). */
async function profile(fn: () => tf.Tensor): Promise<Record<string, number>> {
  const p = await tf.profile(() => fn())
  const by: Record<string, number> = {}
  const byShape: Record<string, number> = {}
  for (const k of p.kernels) {
    const ms = typeof k.kernelTimeMs === 'number' ? k.kernelTimeMs : 0
    by[k.name] = (by[k.name] ?? 0) + ms
    const key = `${k.name} ${JSON.stringify(k.inputShapes)}`
    byShape[key] = (byShape[key] ?? 0) + ms
  }
  const top = Object.entries(byShape).sort((a, b) => b[1] - a[1]).slice(0, 15)
  console.error('  by kernel: ' + Object.entries(by).sort((a, b) => b[1] - a[1]).slice(0, 12).map(([n, ms]) => `${n} ${ms.toFixed(1)}`).join(', '))
  for (const [k, ms] of top) console.error(`  ${ms.toFixed(1).padStart(8)} ms  ${k}`)
  return Object.fromEntries(Object.entries(by).map(([k, v]) => [k, Math.round(v * 10) / 10]))
}

main().catch((e) => {
  console.log('RESULT ' + JSON.stringify({ backend: BACKEND, error: String((e as Error).message ?? e).split('\n')[0] }))
  process.exitCode = 2
})
