// What the GPU is asked to do per training step and per Euler–Maruyama step of the tutorial
// ScoreNet (28×28×1, 1.1 M parameters) on the WebGPU backend (issue 22): compute dispatches,
// queue submits, uploads and downloads with their bytes, uniform writes, buffer copies and
// tfjs-webgpu runWebGPUProgram calls, counted at the WebGPU API (src/engine/backend/webgpu/
// counters.ts), with tfjs-webgpu's stock kernels and with Score Lab's (useWebgpuKernels), side
// by side with the reduction.
//
// Steady state: one step (and one sampler run) first, then the counts over a few steps divided
// by their number. A training step only enqueues work (Trainer.step); its metrics are read once
// for all counted steps, shown as its own row. EM steps are counted between the sampler's first
// and last onStep callbacks (no x requested, as the lab samples).
//
// Runs in a child process (Dawn reads the Vulkan loader's path at process start) on the
// machine's adapter, else on SwiftShader (src/engine/backend/webgpu/software-adapter.ts), which is
// slow: small batches by default. Options (after `npm run bench --`):
//   --batch N        training batch and the larger EM batch (default 8)
//   --steps N        counted training steps (default 3, quick 1)
//   --em-steps N     EM steps per counted sampler run (default 4, quick 3)
import { spawn } from 'node:child_process'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import type { BenchContext } from './context'
import type { GpuCounters as Counters, GpuCounts } from '../src/engine/backend/webgpu/counters'
import type { tf as TF } from '../src/engine/tf'

const CHILD_FLAG = '--webgpu-counts-child'
const CHILD_TIMEOUT_MS = 60 * 60_000

type Row = 'train' | 'read' | 'em' | 'em1'
type KernelSet = 'stock' | 'ours'
interface ChildResult {
  error?: string
  device?: string
  batch?: number
  steps?: number
  emSteps?: number
  /** Per kernel set: counts per training step, per read (of all counted steps), per EM step at batch and at 1. */
  counts?: Partial<Record<KernelSet, Record<Row, GpuCounts & { ms: number }>>>
  oursNote?: string
}

// ---------------------------------------------------------------- parent (bench/run.ts)

function child(root: string, args: string[], env: NodeJS.ProcessEnv, log: (m: string) => void): Promise<ChildResult> {
  return new Promise((resolve) => {
    const script = fileURLToPath(import.meta.url)
    const proc = spawn(process.execPath, ['--import', 'tsx', script, CHILD_FLAG, ...args], {
      cwd: root,
      env: { ...process.env, ...env, SCORE_LAB_BACKEND: '' },
      stdio: ['ignore', 'pipe', 'pipe']
    })
    let out = ''
    let err = ''
    proc.stdout.on('data', (d) => (out += d))
    proc.stderr.on('data', (d) => {
      err += d
      for (const line of String(d).split('\n')) if (line.startsWith('[webgpu]')) log(line.slice(9))
    })
    const timer = setTimeout(() => proc.kill('SIGKILL'), CHILD_TIMEOUT_MS)
    proc.on('close', (code, signal) => {
      clearTimeout(timer)
      const line = out.split('\n').find((l) => l.startsWith('RESULT '))
      if (line) resolve(JSON.parse(line.slice(7)) as ChildResult)
      else resolve({ error: `child exited ${code ?? signal}: ${err.trim().split('\n').slice(-3).join(' | ')}` })
    })
  })
}

const COLUMNS: [keyof GpuCounts | 'ms', string][] = [
  ['dispatches', 'dispatches'],
  ['programs', 'tfjs programs'],
  ['submits', 'submits'],
  ['uploads', 'uploads'],
  ['uploadBytes', 'upload KiB'],
  ['uniformWrites', 'uniform writes'],
  ['downloads', 'downloads'],
  ['downloadBytes', 'download KiB'],
  ['copies', 'copies'],
  ['ms', 'ms (this adapter)']
]

function fmt(key: string, v: number): string {
  if (key.endsWith('Bytes')) return (v / 1024).toFixed(v < 10 * 1024 ? 2 : 0)
  return Number.isInteger(v) ? String(v) : v.toFixed(1)
}

export async function run(ctx: BenchContext): Promise<void> {
  const batch = Number(ctx.args.batch ?? 8)
  const steps = Number(ctx.args.steps ?? (ctx.quick ? 1 : 3))
  const emSteps = Number(ctx.args['em-steps'] ?? (ctx.quick ? 3 : 4))
  const args = ['--batch', String(batch), '--steps', String(steps), '--em-steps', String(emSteps)]
  const { swiftshaderEnv } = await import('../src/engine/backend/webgpu/software-adapter')
  ctx.log('on the machine’s own WebGPU adapter…')
  let r = await child(ctx.root, args, {}, ctx.log)
  if (r.error && /adapter|vulkan/i.test(r.error)) {
    const env = swiftshaderEnv()
    if (!env) throw new Error(`no WebGPU adapter here (${r.error}) and no SwiftShader (apt-get install chromium provides it)`)
    ctx.log(`no hardware adapter (${r.error}); on SwiftShader (slow)…`)
    r = await child(ctx.root, args, env, ctx.log)
  }
  if (r.error || !r.counts) throw new Error(r.error ?? 'the child returned no counts')
  ctx.record('device', r.device)
  ctx.record('batch', batch)
  ctx.record('countedSteps', { train: steps, em: emSteps })
  ctx.record('counts', r.counts)
  if (r.oursNote) ctx.record('oursNote', r.oursNote)

  const label: Record<Row, string> = {
    train: `training step @${batch} (enqueue)`,
    read: `metrics read (${steps} steps, once)`,
    em: `EM step @${batch}`,
    em1: 'EM step @1'
  }
  const sets = (['stock', 'ours'] as const).filter((k) => r.counts![k])
  const md: string[] = [
    `Tutorial ScoreNet on **${r.device}**; per step, steady state (after one warm-up step; ${steps} training steps, ${emSteps} EM steps counted). ` +
      'Counted at the WebGPU API (src/engine/backend/webgpu/counters.ts): uploads are tensor data sent to the GPU (mapped-at-creation buffers and writeBuffer into storage), ' +
      'uniform writes are the per-dispatch shape uniforms, downloads are buffers mapped for reading. ' +
      (sets.length === 2 ? 'Stock = tfjs-webgpu 4.22 kernels, ours = Score Lab\'s (useWebgpuKernels(true)); "Δ" is ours relative to stock.' : `Only ${sets.join(', ')} kernels could be counted.`),
    ''
  ]
  if (r.oursNote) md.push(`Note: ${r.oursNote}`, '')
  // One table per row kind keeps the columns readable: counts down, kernel sets across.
  for (const row of ['train', 'read', 'em', 'em1'] as Row[]) {
    md.push(`**${label[row]}**`, '', `| | ${sets.join(' | ')}${sets.length === 2 ? ' | Δ' : ''} |`, `|---|${sets.map(() => '---:|').join('')}${sets.length === 2 ? '---:|' : ''}`)
    for (const [key, name] of COLUMNS) {
      const vals = sets.map((s) => r.counts![s]![row][key])
      const delta = sets.length === 2 && vals[0]! > 0 ? `${(((vals[1]! - vals[0]!) / vals[0]!) * 100).toFixed(0)}%` : sets.length === 2 ? '–' : null
      md.push(`| ${name} | ${vals.map((v) => fmt(key, v)).join(' | ')}${delta === null ? '' : ` | ${delta}`} |`)
    }
    md.push('')
  }
  ctx.markdown(md.join('\n'))
}

// ---------------------------------------------------------------- child

async function childMain(): Promise<void> {
  const argv = process.argv
  const num = (name: string, dflt: number) => {
    const i = argv.indexOf(`--${name}`)
    return i > 0 ? Number(argv[i + 1]) : dflt
  }
  const batch = num('batch', 8)
  const steps = num('steps', 3)
  const emSteps = num('em-steps', 4)
  const say = (m: string) => process.stderr.write(`[webgpu] ${m}\n`)
  const { tf } = await import('../src/engine/tf')
  const { selectBackend } = await import('../src/engine/backend/select')
  if (!tf.getGradient('Conv2D')) await import('@tensorflow/tfjs-core/dist/register_all_gradients.js' as string)
  let device: string
  try {
    device = (await selectBackend({ force: 'webgpu', allowSoftwareWebgpu: true })).device
  } catch (e) {
    console.log('RESULT ' + JSON.stringify({ error: (e as Error).message }))
    return
  }
  const { GpuCounters, divideCounts } = await import('../src/engine/backend/webgpu/counters')
  const { useWebgpuKernels, WEBGPU_KERNELS } = await import('../src/engine/backend/webgpu/kernels')
  const { createModel } = await import('../src/engine/nets')
  const { createSde } = await import('../src/engine/sde')
  const { Trainer } = await import('../src/engine/train')
  const { runSampler } = await import('../src/engine/samplers')
  const { Rng } = await import('../src/engine/rng')
  const sde = createSde({ name: 'vesde_tutorial' })
  const shape = [28, 28, 1]
  const rng = new Rng(1)
  const batches = Array.from({ length: steps + 1 }, () => tf.tensor4d(Float32Array.from({ length: batch * 784 }, () => rng.float()), [batch, 28, 28, 1]))
  type Counted = GpuCounts & { ms: number }
  const withMs = (c: GpuCounts, ms: number): Counted => ({ ...c, ms })

  const countSet = async (): Promise<Record<Row, Counted>> => {
    const model = createModel('scorenet', { shape, sde, seed: 0 })
    const trainer = new Trainer({ model, sde, config: { lr: 1e-4, batchSize: batch, seed: 0, gradClip: 1, emaDecay: 0.999 } })
    try {
      trainer.step(batches[0]!) // warm-up: shaders compiled, weights and optimiser state uploaded
      await trainer.readPending()
      const c = GpuCounters.start()
      let train: GpuCounts
      let read: GpuCounts
      const t0 = performance.now()
      try {
        for (let i = 1; i <= steps; i++) trainer.step(batches[i]!)
        train = c.read()
        c.reset()
        await trainer.readPending()
      } finally {
        read = c.stop()
      }
      const ms = (performance.now() - t0) / steps
      say(`training: ${train.dispatches / steps} dispatches, ${train.downloads} downloads per ${steps} steps; ${ms.toFixed(0)} ms/step with the read`)

      const scoreFn = (x: TF.Tensor, t: TF.Tensor) => model.score(x, t as TF.Tensor1D)
      const em = async (b: number): Promise<Counted> => {
        const warm = await runSampler('euler_maruyama', scoreFn, sde, { batchSize: b, seed: 3, n: 2 }, { shape })
        await warm.samples.data()
        warm.samples.dispose()
        // Counted from the first step's callback to the last's: emSteps − 1 whole steps, no setup or result.
        const span: { counter?: Counters; counts?: GpuCounts; t1: number } = { t1: 0 }
        try {
          const r = await runSampler('euler_maruyama', scoreFn, sde, { batchSize: b, seed: 3, n: emSteps }, {
            shape,
            onStep: (info) => {
              if (info.i === 1) {
                span.counter = GpuCounters.start()
                span.t1 = performance.now()
              } else if (info.i === emSteps && span.counter) span.counts = span.counter.stop()
            }
          })
          const tEnd = performance.now()
          await r.samples.data()
          r.samples.dispose()
          if (!span.counts) throw new Error('EM: the sampler did not report its last step')
          const per = divideCounts(span.counts, emSteps - 1)
          say(`EM@${b}: ${per.dispatches} dispatches, ${per.downloads} downloads per step`)
          return withMs(per, (tEnd - span.t1) / (emSteps - 1))
        } finally {
          span.counter?.stop() // restores the API if the sampler threw midway
        }
      }
      return { train: withMs(divideCounts(train, steps), ms), read: withMs(read, 0), em: await em(batch), em1: await em(1) }
    } finally {
      trainer.dispose()
      model.dispose()
    }
  }

  const counts: Partial<Record<KernelSet, Record<Row, Counted>>> = {}
  let oursNote: string | undefined
  useWebgpuKernels(false)
  say('stock tfjs-webgpu kernels…')
  counts.stock = await countSet()
  if (Object.keys(WEBGPU_KERNELS).length === 0) oursNote = 'Score Lab registers no WebGPU kernels yet: only the stock ones are counted'
  else {
    if (!/Score Lab kernels/.test(device)) oursNote = `the backend chose the stock kernels on this adapter (${device}); ours are counted anyway`
    useWebgpuKernels(true)
    say(`Score Lab's kernels (${Object.keys(WEBGPU_KERNELS).join(', ')})…`)
    counts.ours = await countSet()
  }
  tf.dispose(batches)
  console.log('RESULT ' + JSON.stringify({ device: device.replace(/ \(WebGPU, .*\)$/, ' (WebGPU)'), batch, steps, emSteps, counts, oursNote } satisfies ChildResult))
}

if (process.argv.includes(CHILD_FLAG) && path.resolve(process.argv[1] ?? '') === fileURLToPath(import.meta.url)) {
  childMain().then(
    () => process.exit(0),
    (e) => {
      console.log('RESULT ' + JSON.stringify({ error: String((e as Error).stack ?? e) }))
      process.exit(0)
    }
  )
}
