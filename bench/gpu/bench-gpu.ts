// GPU bench of the tutorial ScoreNet: Score Lab on WebGPU (its own kernels, then tfjs' stock
// ones), Score Lab native on all cores, and PyTorch (CUDA, else CPU) where python3 has torch —
// train step at batch 64 and 256, Euler–Maruyama step at 64 and 1 — plus the GPU's name, driver
// and fp32 peak. Writes gpu-bench.json and gpu-bench.md into --out.
//
// Built into one script by scripts/build-gpu-bundle.mjs and run on the GPU machine by the
// bundle's run.sh (no network, no install); also runs from the repository:
//   node --import tsx bench/gpu/bench-gpu.ts [--quick] [--out DIR] [--budget-s 420]
//        [--engines pytorch,webgpu,native,webgpu-stock] [--cases train:64,train:256,em:64,em:1] [--python python3]
//
// Each engine runs in a child process (this script with --worker ENGINE, or torch_bench.py): a
// fresh process keeps backends apart, and a hung or crashed driver costs that engine only. The
// whole run keeps to --budget-s: each engine gets an equal share of what is left (what one leaves
// unused goes to the next), each case a share of its engine's, and a child past its share is
// killed; whatever did not run is listed with the reason. The JSON and Markdown are rewritten
// after every engine, so even an interrupted run leaves its results.
import { spawn } from 'node:child_process'
import { mkdirSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { performance } from 'node:perf_hooks'
import { fileURLToPath } from 'node:url'
import type { Scalar, Tensor, Tensor1D, Tensor4D, Variable } from '@tensorflow/tfjs-core'
import { cpuInfo, gpuPeak, nvidiaSmi, type NvidiaInfo } from './device'
import { flag, opt } from '../worker-args'

const SCRIPT = fileURLToPath(import.meta.url)
const QUICK = flag('quick')

type Engine = 'pytorch' | 'webgpu' | 'webgpu-stock' | 'native'
const ENGINES: Engine[] = ['pytorch', 'webgpu', 'native', 'webgpu-stock']
const ENGINE_LABEL: Record<Engine, string> = {
  pytorch: 'PyTorch',
  webgpu: 'Score Lab WebGPU',
  'webgpu-stock': 'Score Lab WebGPU, stock tfjs kernels',
  native: 'Score Lab native'
}

interface Case {
  kind: 'train' | 'em'
  batch: number
  key: string
}
// --quick: small batches and one timed step, for the bundle's test on a software adapter
const CASES: Case[] = opt('cases', QUICK ? 'train:4,train:8,em:4,em:1' : 'train:64,train:256,em:64,em:1')
  .split(',')
  .filter(Boolean)
  .map((c) => {
    const [kind, b] = c.split(':')
    const batch = Number(b)
    if ((kind !== 'train' && kind !== 'em') || !Number.isInteger(batch) || batch < 1) throw new Error(`--cases: "${c}" is not train:N or em:N`)
    return { kind, batch, key: `${kind}@${batch}` }
  })
const WARMUP = Number(opt('warmup', QUICK ? '1' : '2'))
/** Timed steps per case (at most: a case also stops at its share of the time budget). */
const STEPS = (c: Case) => Number(opt('steps', QUICK ? '1' : c.kind === 'train' ? '10' : c.batch === 1 ? '50' : '20'))

interface CaseResult {
  median_ms: number
  mean_ms: number
  min_ms: number
  max_ms: number
  n: number
  batch: number
  kind: string
  /** all warm-up steps together (the first one compiles the shaders on WebGPU) */
  warmup_ms?: number
}
interface EngineResult {
  ok: boolean
  /** Why the engine did not run at all. */
  reason?: string
  device?: string
  note?: string
  info?: Record<string, unknown>
  cases: Record<string, CaseResult>
  /** Cases that did not run, with the reason. */
  skipped: Record<string, string>
  wall_s: number
}

const stats = (a: number[]) => {
  const s = [...a].sort((x, y) => x - y)
  const m = Math.floor(s.length / 2)
  return { median_ms: s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2, mean_ms: a.reduce((p, q) => p + q, 0) / a.length, min_ms: s[0]!, max_ms: s[s.length - 1]!, n: a.length }
}
const firstLine = (e: unknown) => String((e as Error)?.message ?? e).split('\n')[0]!.slice(0, 300)

// ------------------------------------------------------------------------------------ worker
async function worker(engine: Engine): Promise<void> {
  const emit = (tag: string, obj: unknown) => process.stdout.write(`${tag} ${JSON.stringify(obj)}\n`)
  const started = performance.now()
  const deadline = Number(opt('deadline', String(Date.now() + 600_000)))
  const { tf } = await import('../../src/engine/tf')
  // gradients are registered by tf.ts (through the @tensorflow/tfjs union package)
  const { selectBackend } = await import('../../src/engine/backend/select')
  const { useWebgpuKernels, webgpuKernelsActive } = await import('../../src/engine/backend/webgpu/kernels')
  let backend
  try {
    backend = await selectBackend({ force: engine === 'native' ? 'native' : 'webgpu', allowSoftwareWebgpu: true })
  } catch (e) {
    emit('ERROR', { error: firstLine(e) })
    return
  }
  const notes = backend.attempts.map((a) => a.note).filter(Boolean) as string[]
  let device = backend.device
  const info: Record<string, unknown> = { backend: tf.getBackend() }
  if (engine !== 'native') {
    if (engine === 'webgpu-stock') {
      useWebgpuKernels(false)
      device = device.replace(/Score Lab kernels\)$/, 'stock tfjs kernels)')
    }
    info.scoreLabKernels = webgpuKernelsActive()
    // The adapter tfjs-webgpu runs on: the bench reports its name and driver from here when
    // there is no nvidia-smi.
    const gpu = (globalThis as { navigator?: { gpu?: { requestAdapter(): Promise<{ info?: Record<string, unknown>; isFallbackAdapter?: boolean } | null> } } }).navigator?.gpu
    const adapter = await gpu?.requestAdapter()
    if (adapter) {
      const ai = adapter.info ?? {}
      info.adapter = { vendor: ai.vendor, architecture: ai.architecture, device: ai.device, description: ai.description, isFallbackAdapter: adapter.isFallbackAdapter }
    }
  }
  const { net, note } = await loadNet(tf)
  info.params = net.numParams
  // loading tfjs, starting the backend and its self-check (on WebGPU: the first shader compiles)
  info.startup_s = (performance.now() - started) / 1000
  emit('INFO', { device, note: [note, ...notes].join('; '), info })
  console.error(`[${engine}] ${device}; ${note}`)

  // the tutorial's loss, as bench/scorenet-worker.ts has it (minimize() disposes the intermediates)
  const lossFn = (x: Tensor4D): Scalar => {
    const B = x.shape[0]
    const t = tf.add(tf.mul(tf.randomUniform([B]), 1 - 1e-5), 1e-5) as Tensor1D
    const z = tf.randomNormal(x.shape)
    const std = tf.reshape(net.std(t), [B, 1, 1, 1])
    const score = net.score(tf.add(x, tf.mul(z, std)) as Tensor4D, t)
    return tf.mean(tf.sum(tf.square(tf.add(tf.mul(score, std), z)), [1, 2, 3]))
  }

  for (let i = 0; i < CASES.length; i++) {
    const c = CASES[i]!
    const left = deadline - Date.now()
    if (left <= 0) {
      emit('CASE', { key: c.key, skipped: 'over the time budget' })
      continue
    }
    const shareMs = left / (CASES.length - i)
    const disposers: Array<() => void> = []
    try {
      let step: () => Promise<void>
      if (c.kind === 'train') {
        const optimizer = tf.train.adam(1e-4, 0.9, 0.999, 1e-8)
        const x = tf.randomUniform([c.batch, 28, 28, 1]) as Tensor4D
        disposers.push(() => optimizer.dispose(), () => x.dispose())
        step = async () => {
          const loss = optimizer.minimize(() => lossFn(x), true, net.vars)!
          // data(), not dataSync(): a WebGPU read-back in Node can only be awaited
          await loss.data()
          loss.dispose()
        }
      } else {
        const grid = Array.from({ length: 500 }, (_, k) => 1 + ((1e-3 - 1) * k) / 499)
        const dt = grid[0]! - grid[1]!
        let x = tf.tidy(() => tf.mul(tf.randomNormal([c.batch, 28, 28, 1]), net.std(tf.scalar(1))))
        let k = 0
        disposers.push(() => x.dispose())
        step = async () => {
          const tv = grid[k++ % 500]!
          const xn = tf.tidy(() => {
            const g = net.diffusion(tf.scalar(tv))
            const mean = tf.add(x, tf.mul(tf.mul(tf.square(g), net.score(x as Tensor4D, tf.fill([c.batch], tv) as Tensor1D)), dt))
            return tf.add(mean, tf.mul(tf.mul(g, Math.sqrt(dt)), tf.randomNormal(x.shape)))
          })
          await xn.data()
          x.dispose()
          x = xn
        }
      }
      const t0 = performance.now()
      for (let w = 0; w < WARMUP; w++) await step()
      const warmupMs = performance.now() - t0
      const times: number[] = []
      while (times.length < STEPS(c)) {
        const s = performance.now()
        await step()
        times.push(performance.now() - s)
        if (performance.now() - t0 > shareMs) break
      }
      const r: CaseResult = { ...stats(times), batch: c.batch, kind: c.kind, warmup_ms: warmupMs }
      emit('CASE', { key: c.key, ...r })
      console.error(`[${engine}] ${c.key}: median ${r.median_ms.toFixed(2)} ms over ${r.n} step(s)`)
    } catch (e) {
      emit('CASE', { key: c.key, skipped: `failed: ${firstLine(e)}` })
    } finally {
      disposers.forEach((d) => d())
    }
  }
  net.dispose()
  emit('DONE', { numTensors: tf.memory().numTensors })
}

type TF = typeof import('../../src/engine/tf').tf
interface Net {
  vars: Variable[]
  numParams: number
  score(x: Tensor4D, t: Tensor1D): Tensor
  std(t: Tensor): Tensor
  diffusion(t: Tensor): Tensor
  dispose(): void
}

/** The engine's `scorenet` (what the lab trains); the bench's private copy if it fails to build. */
async function loadNet(tf: TF): Promise<{ net: Net; note: string }> {
  try {
    const { createModel } = await import('../../src/engine/nets/index')
    const { createSde } = await import('../../src/engine/sde/index')
    const sde = createSde({ name: 'vesde_tutorial' })
    const model = createModel('scorenet', { shape: [28, 28, 1], sde, seed: 0 })
    return {
      net: {
        vars: [...model.params.values()].filter((v) => v.trainable),
        numParams: model.numParams(),
        score: (x, t) => model.score(x, t),
        std: (t) => sde.marginalProb(tf.zeros([t.size, 1]), tf.reshape(t, [-1]) as Tensor1D).std,
        diffusion: (t) => tf.pow(tf.scalar(25), t),
        dispose: () => model.dispose()
      },
      note: 'engine scorenet (createModel("scorenet"))'
    }
  } catch (e) {
    const { tutorialScoreNet } = await import('../tutorial-scorenet')
    return { net: tutorialScoreNet(), note: `engine scorenet failed to build (${firstLine(e)}): used the private copy bench/tutorial-scorenet.ts` }
  }
}

// ------------------------------------------------------------------------------------ parent
interface Report {
  started: string
  host: string
  settings: { quick: boolean; budget_s: number; cases: string[]; warmup: number; node: string }
  gpu: { name: string; driver: string; source: string; peak_gflops?: number; peak_source: string; nvidia_smi?: NvidiaInfo | null; nvidia_smi_why?: string; adapter?: unknown }
  cpu: ReturnType<typeof cpuInfo>
  engines: Partial<Record<Engine, EngineResult>>
  wall_s?: number
  error?: string
}

/** Runs a child; calls onLine for each stdout line; kills it at killAt (epoch ms). */
function runChild(cmd: string, args: string[], env: NodeJS.ProcessEnv, killAt: number, onLine: (line: string) => void): Promise<{ code: number | null; killed: boolean; stderrTail: string; spawnError?: string }> {
  return new Promise((resolve) => {
    let killed = false
    let stderr = ''
    let buf = ''
    const child = spawn(cmd, args, { env, stdio: ['ignore', 'pipe', 'pipe'] })
    current = child
    const timer = setTimeout(() => {
      killed = true
      child.kill('SIGKILL')
    }, Math.max(0, killAt - Date.now()))
    child.stdout.on('data', (d) => {
      buf += d
      let nl
      while ((nl = buf.indexOf('\n')) >= 0) {
        onLine(buf.slice(0, nl))
        buf = buf.slice(nl + 1)
      }
    })
    child.stderr.on('data', (d) => {
      stderr = (stderr + d).slice(-4000)
      process.stderr.write(d)
    })
    child.on('error', (e) => {
      clearTimeout(timer)
      current = null
      resolve({ code: null, killed, stderrTail: '', spawnError: (e as NodeJS.ErrnoException).code === 'ENOENT' ? `${cmd} not found` : e.message })
    })
    child.on('close', (code) => {
      clearTimeout(timer)
      current = null
      if (buf) onLine(buf)
      resolve({ code, killed, stderrTail: stderr.trim().split('\n').filter(Boolean).slice(-2).join(' | ').slice(0, 300) })
    })
  })
}
let current: import('node:child_process').ChildProcess | null = null

/** The environment for children that are not this bundle's Node: without the bundle's runtime libraries. */
function foreignEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env }
  if (env.SCORE_LAB_ORIG_LD_LIBRARY_PATH !== undefined) {
    if (env.SCORE_LAB_ORIG_LD_LIBRARY_PATH) env.LD_LIBRARY_PATH = env.SCORE_LAB_ORIG_LD_LIBRARY_PATH
    else delete env.LD_LIBRARY_PATH
  }
  return env
}

async function runEngine(engine: Engine, softDeadline: number, hardDeadline: number): Promise<EngineResult> {
  const t0 = Date.now()
  const res: EngineResult = { ok: false, cases: {}, skipped: {}, wall_s: 0 }
  const seen = new Set<string>()
  let error = ''
  const onCase = (o: { key: string; skipped?: string } & Partial<CaseResult>) => {
    seen.add(o.key)
    if (o.skipped) res.skipped[o.key] = o.skipped
    else {
      const { key: _key, ...r } = o
      res.cases[o.key] = r as CaseResult
    }
  }
  let r: Awaited<ReturnType<typeof runChild>>
  if (engine === 'pytorch') {
    const py = path.join(path.dirname(SCRIPT), 'torch_bench.py')
    const args = [py, '--cases', CASES.map((c) => `${c.kind}:${c.batch}`).join(','), '--warmup', QUICK ? '1' : '3', '--steps', QUICK ? '2' : '20', '--budget-s', String(Math.max(1, (softDeadline - Date.now()) / 1000 - 10))]
    let out = ''
    r = await runChild(opt('python', 'python3'), args, foreignEnv(), hardDeadline, (l) => (out += l + '\n'))
    try {
      const j = JSON.parse(out.trim().split('\n').filter((l) => l.startsWith('{')).pop() ?? 'null') as Record<string, unknown> | null
      if (j?.error) error = String(j.error)
      else if (j) {
        const cuda = Boolean(j.cuda)
        res.device = cuda ? `${j.device} (PyTorch ${j.torch}, CUDA ${j.cuda_runtime}, cuDNN ${j.cudnn})` : `CPU (PyTorch ${j.torch}, ${j.threads} thread${j.threads === 1 ? '' : 's'})`
        if (cuda && j.cudnn_allow_tf32) res.note = 'PyTorch defaults: cuDNN convolutions may use TF32 tensor cores (WebGPU has plain fp32)'
        else if (!cuda) res.note = 'torch.cuda.is_available() is False: PyTorch ran on the CPU'
        const { cases, skipped, ...rest } = j as { cases: Record<string, CaseResult>; skipped: Record<string, string> }
        res.info = rest
        for (const [k, v] of Object.entries(cases ?? {})) onCase({ key: k, ...v })
        for (const [k, v] of Object.entries(skipped ?? {})) onCase({ key: k, skipped: v })
      }
    } catch (e) {
      error = `torch_bench.py printed no JSON (${firstLine(e)})`
    }
  } else {
    const args = [...process.execArgv, SCRIPT, '--worker', engine, '--deadline', String(Math.round(softDeadline)), ...passThrough()]
    r = await runChild(process.execPath, args, process.env, hardDeadline, (line) => {
      const sp = line.indexOf(' ')
      const tag = line.slice(0, sp)
      if (!['INFO', 'CASE', 'ERROR', 'DONE'].includes(tag)) return
      const o = JSON.parse(line.slice(sp + 1)) as Record<string, unknown>
      if (tag === 'INFO') {
        res.device = String(o.device)
        res.note = String(o.note ?? '')
        res.info = o.info as Record<string, unknown>
      } else if (tag === 'CASE') onCase(o as { key: string })
      else if (tag === 'ERROR') error = String(o.error)
      else if (tag === 'DONE') res.info = { ...res.info, tensorsLeft: o.numTensors }
    })
  }
  res.wall_s = (Date.now() - t0) / 1000
  if (r.spawnError) error ||= r.spawnError
  res.ok = !error && res.device !== undefined
  if (!res.ok) res.reason = error || (r.killed ? 'killed at its share of the time budget before it started' : `exited ${r.code} before it started: ${r.stderrTail}`)
  const why = r.killed ? 'killed at its share of the time budget' : `the process exited ${r.code}${r.stderrTail ? `: ${r.stderrTail}` : ''}`
  for (const c of CASES) if (!seen.has(c.key) && res.ok) res.skipped[c.key] = why
  return res
}

function passThrough(): string[] {
  const out: string[] = []
  if (QUICK) out.push('--quick')
  for (const k of ['cases', 'warmup', 'steps']) if (flag(k)) out.push(`--${k}`, opt(k, ''))
  return out
}

async function main(): Promise<void> {
  const t0 = Date.now()
  const budgetS = Number(opt('budget-s', '420'))
  const deadline = t0 + budgetS * 1000
  const outDir = path.resolve(process.env.SCORE_LAB_CALLER_CWD ?? process.cwd(), opt('out', 'gpu-bench-results'))
  mkdirSync(outDir, { recursive: true })
  const engines = opt('engines', ENGINES.join(',')).split(',').filter(Boolean) as Engine[]
  for (const e of engines) if (!ENGINES.includes(e)) throw new Error(`--engines: unknown engine "${e}" (${ENGINES.join(', ')})`)
  const smi = nvidiaSmi(foreignEnv())
  const report: Report = {
    started: new Date(t0).toISOString(),
    host: os.hostname(),
    settings: { quick: QUICK, budget_s: budgetS, cases: CASES.map((c) => c.key), warmup: WARMUP, node: process.version },
    gpu: { name: smi.gpu?.name ?? 'unknown', driver: smi.gpu?.driver ?? 'unknown', source: smi.gpu ? 'nvidia-smi' : 'none yet', peak_source: 'unknown', nvidia_smi: smi.gpu, nvidia_smi_why: smi.why },
    cpu: cpuInfo(),
    engines: {}
  }
  let flops: ((c: Case) => number) | null = null
  const save = () => {
    writeFileSync(path.join(outDir, 'gpu-bench.json'), JSON.stringify(report, null, 2) + '\n')
    writeFileSync(path.join(outDir, 'gpu-bench.md'), markdown(report, flops))
  }
  const stop = (sig: string) => {
    current?.kill('SIGKILL')
    report.error = `interrupted by ${sig}`
    save()
    process.exit(130)
  }
  process.on('SIGINT', () => stop('SIGINT'))
  process.on('SIGTERM', () => stop('SIGTERM'))
  console.log(`GPU bench: ${engines.join(', ')}; cases ${CASES.map((c) => c.key).join(', ')}; budget ${budgetS} s; results in ${outDir}`)
  save()
  try {
    for (let i = 0; i < engines.length; i++) {
      const e = engines[i]!
      const left = deadline - Date.now()
      if (left < 5000) {
        report.engines[e] = { ok: false, reason: 'over the time budget', cases: {}, skipped: {}, wall_s: 0 }
        continue
      }
      const soft = Date.now() + left / (engines.length - i)
      // a child gets a little past its share to finish a step, never much past the whole budget
      const hard = Math.min(soft + 20_000, deadline + 10_000)
      console.log(`${ENGINE_LABEL[e]}: up to ${Math.round((soft - Date.now()) / 1000)} s`)
      const res = await runEngine(e, soft, hard)
      report.engines[e] = res
      console.log(res.ok ? `${ENGINE_LABEL[e]}: ${res.device} — ${Object.keys(res.cases).length} case(s) in ${res.wall_s.toFixed(1)} s` : `${ENGINE_LABEL[e]}: skipped (${res.reason})`)
      fillGpu(report)
      save()
    }
    // FLOP counts come from the bench's tutorial net module, which loads tfjs: only now
    const { flopEstimate } = await import('../tutorial-scorenet')
    flops = (c) => (c.kind === 'train' ? flopEstimate(c.batch).trainFlops : flopEstimate(c.batch).fwdFlops)
  } catch (e) {
    report.error = firstLine(e)
  }
  report.wall_s = (Date.now() - t0) / 1000
  save()
  console.log(`done in ${report.wall_s.toFixed(0)} s: ${path.join(outDir, 'gpu-bench.md')}`)
}

/** GPU name, driver and peak: nvidia-smi first, then the WebGPU adapter, then torch's device. */
function fillGpu(report: Report): void {
  const adapter = (report.engines.webgpu?.info?.adapter ?? report.engines['webgpu-stock']?.info?.adapter) as Record<string, string> | undefined
  const torch = report.engines.pytorch?.info as { device?: string; sm_count?: number; compute_capability?: string; cuda?: boolean } | undefined
  if (adapter) report.gpu.adapter = adapter
  if (!report.gpu.nvidia_smi) {
    if (adapter) {
      report.gpu.name = [adapter.vendor, adapter.architecture, adapter.device].filter(Boolean).join(' ') || 'WebGPU adapter'
      report.gpu.driver = adapter.description ? `${adapter.description} (WebGPU adapter description)` : 'unknown (no nvidia-smi; the WebGPU adapter gives none)'
      report.gpu.source = 'WebGPU adapter'
    } else if (torch?.cuda && torch.device) {
      report.gpu.name = torch.device
      report.gpu.source = 'torch.cuda'
    }
  }
  const peak = gpuPeak(report.gpu.nvidia_smi?.name ?? (torch?.cuda ? torch.device ?? '' : ''), {
    smCount: torch?.sm_count,
    computeCap: torch?.compute_capability ?? report.gpu.nvidia_smi?.computeCap,
    maxSmClockMhz: report.gpu.nvidia_smi?.maxSmClockMhz
  })
  if (peak) {
    report.gpu.peak_gflops = peak.gflops
    report.gpu.peak_source = peak.source
  } else {
    report.gpu.peak_source = 'unknown (not an NVIDIA GPU in the table, and no SM count and clock to compute it)'
  }
}

function markdown(r: Report, flops: ((c: Case) => number) | null): string {
  const f = (x: number, d: number) => x.toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d })
  const ms = (x: number) => f(x, x < 10 ? 2 : 1)
  const pt = r.engines.pytorch
  const lines = [
    `# Score Lab GPU bench — ${r.started.slice(0, 16).replace('T', ' ')} UTC, ${r.host}`,
    '',
    `Tutorial ScoreNet (28×28×1, 1.1 M parameters). ${r.settings.quick ? '**Quick settings** (small batches, one timed step: a smoke run, not a measurement). ' : ''}` +
      `Median time per step after ${r.settings.warmup} warm-up step(s); images/s = batch ÷ step time (an Euler–Maruyama sample takes 500 steps); ratio = engine ÷ PyTorch (lower is better).`,
    '',
    `- GPU: **${r.gpu.name}**, driver ${r.gpu.driver} (from ${r.gpu.source}); fp32 peak ${r.gpu.peak_gflops ? `${f(r.gpu.peak_gflops / 1000, 1)} TFLOP/s (${r.gpu.peak_source})` : r.gpu.peak_source}`,
    `- CPU: ${r.cpu.model}, ${r.cpu.cores} cores; peak ${r.cpu.peak}`,
    `- Node ${r.settings.node}; budget ${r.settings.budget_s} s${r.wall_s !== undefined ? `, took ${f(r.wall_s, 0)} s` : ' (still running or interrupted)'}`,
    '',
    '| case | engine | ms / step | images / s | × PyTorch | GFLOP/s | % of peak |',
    '|---|---|---|---|---|---|---|'
  ]
  for (const c of CASES) {
    for (const e of Object.keys(r.engines) as Engine[]) {
      const res = r.engines[e]!
      const cr = res.cases[c.key]
      if (!cr) continue
      const ratio = pt?.cases[c.key] ? `${f(cr.median_ms / pt.cases[c.key]!.median_ms, 2)}×` : '–'
      const gflops = flops ? flops(c) / cr.median_ms / 1e6 : undefined
      const onGpu = e !== 'native' && !(e === 'pytorch' && !(res.info as { cuda?: boolean })?.cuda)
      const peak = onGpu ? r.gpu.peak_gflops : r.cpu.peakGflops
      const pct = gflops !== undefined && peak ? `${f((100 * gflops) / peak, gflops / peak < 0.01 ? 2 : 1)}%` : '–'
      lines.push(`| ${c.key} | ${ENGINE_LABEL[e]} | ${ms(cr.median_ms)} (n=${cr.n}) | ${f((1000 * c.batch) / cr.median_ms, 1)} | ${e === 'pytorch' ? '1.00×' : ratio} | ${gflops === undefined ? '–' : f(gflops, 1)} | ${pct} |`)
    }
  }
  lines.push('', '**Engines**', '')
  for (const [e, res] of Object.entries(r.engines) as Array<[Engine, EngineResult]>) {
    if (!res.ok) {
      lines.push(`- ${ENGINE_LABEL[e]}: skipped — ${res.reason}`)
      continue
    }
    const startup = typeof res.info?.startup_s === 'number' ? `, ${f(res.info.startup_s, 1)} s to start` : ''
    lines.push(`- ${ENGINE_LABEL[e]}: ${res.device}${res.note ? `; ${res.note}` : ''} (${f(res.wall_s, 1)} s${startup})`)
    for (const [k, why] of Object.entries(res.skipped)) lines.push(`  - ${k}: skipped — ${why}`)
  }
  if (r.error) lines.push('', `**Error:** ${r.error}`)
  return lines.join('\n') + '\n'
}

const workerEngine = flag('worker') ? (opt('worker', '') as Engine) : null
if (workerEngine) {
  worker(workerEngine)
    .catch((e) => process.stdout.write(`ERROR ${JSON.stringify({ error: firstLine(e) })}\n`))
    // Dawn's device can keep the event loop alive after the last step
    .finally(() => process.exit(0))
} else {
  main().catch((e) => {
    console.error(e)
    process.exit(1)
  })
}
