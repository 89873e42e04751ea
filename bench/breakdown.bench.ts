// Where the time goes: a training step (batch 64: loss, backward, grad norm, Adam, EMA) and an
// Euler–Maruyama step (batch 64: one score evaluation + update) of the tutorial ScoreNet, broken
// down by op family, Score Lab (`native`: tfjs-wasm + our C++ kernels, tf.profile) beside PyTorch
// (torch.profiler, CPU, self time per op), with GFLOP/s of the GEMM-shaped rows against the peak.
//
//   npm run bench -- --only breakdown [--quick] [--backend native]
//
// Score Lab side: bench/breakdown-worker.ts in a child process. Kernel times are tf.profile's
// kernelTimeMs, for wasm the wall time of each kernel call; "unaccounted" = the unprofiled step's
// wall time − the sum of kernel times (JS dispatch, the wasm↔native boundary outside the kernels,
// tape bookkeeping, waits). Adam/EMA kernels are told apart by tagging the kernels that run inside
// Adam.apply / Ema.update. PyTorch side: bench/breakdown_torch.py under /usr/bin/python3 (Debian
// python3-torch), 2 threads, OpenBLAS via LD_LIBRARY_PATH when libopenblas0-openmp is installed.
// Median over 3 profiled steps after 2 warm-ups (quick: 1 after 1), per family.
import { spawn } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import type { BenchContext } from './context'
import { cpuInfo } from './gpu/device'

const PYTHON = '/usr/bin/python3'
const OPENBLAS_DIR = '/usr/lib/x86_64-linux-gnu/openblas-openmp'


function runProc(cmd: string, args: string[], opts: { cwd: string; env?: NodeJS.ProcessEnv; timeoutMs: number }): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd: opts.cwd, env: { ...process.env, ...opts.env }, stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d) => (stdout += d))
    child.stderr.on('data', (d) => (stderr += d))
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs)
    child.on('close', (code) => {
      clearTimeout(timer)
      resolve({ code, stdout, stderr })
    })
  })
}
const resultLine = (out: string) => {
  const line = out.split('\n').find((l) => l.startsWith('RESULT '))
  return line ? (JSON.parse(line.slice(7)) as Record<string, unknown>) : null
}
const median = (a: number[]) => {
  if (a.length === 0) return 0
  const s = [...a].sort((x, y) => x - y)
  const m = Math.floor(s.length / 2)
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2
}

// ---- families (rows), shared by both sides
const ROWS = [
  'conv fwd',
  'tconv fwd / conv input grad',
  'conv filter grad',
  'conv backward (input+filter, one op)',
  'GroupNorm (fwd + grad)',
  'MatMul (dense layers + embedding)',
  'time embedding (sin/cos)',
  'elementwise',
  'reductions',
  'copies / reshapes',
  'optimizer (Adam + EMA)',
  'random / alloc / fill',
  'other'
] as const
type Row = (typeof ROWS)[number]
const CONV_ROWS: Row[] = ['conv fwd', 'tconv fwd / conv input grad', 'conv filter grad', 'conv backward (input+filter, one op)']

const ELEMENTWISE = new Set(['Add', 'AddN', 'Multiply', 'Sub', 'RealDiv', 'Div', 'Square', 'SquaredDifference', 'Sigmoid', 'Exp', 'Expm1', 'Sqrt', 'Rsqrt', 'Pow', 'Neg', 'Maximum', 'Minimum', 'Log', 'Log1p', 'Abs', 'Relu', 'Step', 'Less', 'Greater', 'Equal', 'Select', 'Where', 'Reciprocal', 'Sign', 'IsNan', 'IsFinite', 'FloorDiv', 'ClipByValue', 'Elu', 'LogicalAnd', 'GreaterEqual', 'LessEqual'])
const COPIES = new Set(['Concat', 'SplitV', 'Reshape', 'Transpose', 'Slice', 'StridedSlice', 'Identity', 'Cast', 'Pad', 'PadV2', 'Tile', 'Pack', 'Unpack', 'ExpandDims', 'Squeeze', 'GatherV2', 'MirrorPad'])
const REDUCTIONS = new Set(['Sum', 'Mean', 'Max', 'Min', 'Prod', 'ArgMax', 'ArgMin', 'All', 'Any'])

function tfjsFamily(key: string): Row {
  if (key.startsWith('optimizer:')) return 'optimizer (Adam + EMA)'
  if (key === 'Conv2D' || key === 'FusedConv2D') return 'conv fwd'
  if (key === 'Conv2DBackpropInput') return 'tconv fwd / conv input grad'
  if (key === 'Conv2DBackpropFilter') return 'conv filter grad'
  if (key.startsWith('ScoreLabGroupNorm')) return 'GroupNorm (fwd + grad)'
  if (key === 'BatchMatMul' || key === '_FusedMatMul' || key === 'MatMul') return 'MatMul (dense layers + embedding)'
  if (key === 'Sin' || key === 'Cos') return 'time embedding (sin/cos)'
  if (REDUCTIONS.has(key)) return 'reductions'
  if (COPIES.has(key)) return 'copies / reshapes'
  if (ELEMENTWISE.has(key)) return 'elementwise'
  if (key === 'Fill' || key === 'OnesLike' || key === 'ZerosLike' || key.startsWith('Random')) return 'random / alloc / fill'
  return 'other'
}

interface KernelAgg {
  ms: number
  flops: number
  calls: number
}
interface WorkerStep {
  wallMs: number
  cpuMs: number
  profiles: Array<{ kernels: Record<string, KernelAgg>; kernelSumMs: number }>
}
interface TorchStep {
  wall_ms: number
  cpu_ms: number
  profiled_wall_ms: number
  families: Record<string, number>
  top_ops: Array<[string, number]>
}
interface Side {
  rows: Partial<Record<Row, number>>
  flops: Partial<Record<Row, number>>
  kernelSum: number
  wall: number
  cpu: number
  other: string[]
}

function tfjsSide(step: WorkerStep): Side {
  const per: Array<Partial<Record<Row, number>>> = []
  const flops: Partial<Record<Row, number>> = {}
  const otherNames = new Set<string>()
  for (const p of step.profiles) {
    const r: Partial<Record<Row, number>> = {}
    for (const [k, v] of Object.entries(p.kernels)) {
      const fam = tfjsFamily(k)
      if (fam === 'other') otherNames.add(k)
      r[fam] = (r[fam] ?? 0) + v.ms
      if (per.length === 0 && v.flops) flops[fam] = (flops[fam] ?? 0) + v.flops // FLOPs are identical every step
    }
    per.push(r)
  }
  const rows: Partial<Record<Row, number>> = {}
  for (const row of ROWS) if (per.some((r) => r[row] !== undefined)) rows[row] = median(per.map((r) => r[row] ?? 0))
  return { rows, flops, kernelSum: median(step.profiles.map((p) => p.kernelSumMs)), wall: step.wallMs, cpu: step.cpuMs, other: [...otherNames] }
}

function torchSide(step: TorchStep): Side {
  const map: Record<string, Row> = {
    'conv fwd': 'conv fwd',
    'tconv fwd': 'tconv fwd / conv input grad',
    'conv backward (input+filter, one op)': 'conv backward (input+filter, one op)',
    GroupNorm: 'GroupNorm (fwd + grad)',
    'MatMul (dense + embedding)': 'MatMul (dense layers + embedding)',
    'time embedding (sin/cos)': 'time embedding (sin/cos)',
    elementwise: 'elementwise',
    reductions: 'reductions',
    'copies / reshapes': 'copies / reshapes',
    optimizer: 'optimizer (Adam + EMA)',
    'random / alloc / fill': 'random / alloc / fill',
    other: 'other'
  }
  const rows: Partial<Record<Row, number>> = {}
  let sum = 0
  for (const [f, ms] of Object.entries(step.families)) {
    const row = map[f] ?? 'other'
    rows[row] = (rows[row] ?? 0) + ms
    sum += ms
  }
  return { rows, flops: {}, kernelSum: sum, wall: step.wall_ms, cpu: step.cpu_ms, other: [] }
}

const f1 = (v: number | undefined) => (v === undefined ? '—' : v.toFixed(1))
const pct = (v: number | undefined, of: number) => (v === undefined ? '—' : `${((100 * v) / of).toFixed(0)}%`)
const gf = (flops: number | undefined, ms: number | undefined) => (flops && ms ? (flops / ms / 1e6).toFixed(1) : '')

function table(title: string, sl: Side | null, pt: Side | null, ptFlops: Partial<Record<Row, number>>, peakG: number | null, notes: string[]): string {
  const hdr = `| ${title} | Score Lab ms | % | GFLOP/s | PyTorch ms | % | GFLOP/s |\n|---|---:|---:|---:|---:|---:|---:|`
  const slWall = sl?.wall ?? 1
  const ptWall = pt?.wall ?? 1
  const lines: string[] = [hdr]
  const cell = (s: Side | null, wall: number, v: number | undefined, fl: number | undefined) => (s ? `${f1(v)} | ${pct(v, wall)} | ${gf(fl, v)}` : '— | — | ')
  for (const row of ROWS) {
    const a = sl?.rows[row]
    const b = pt?.rows[row]
    if (a === undefined && b === undefined) continue
    lines.push(`| ${row} | ${cell(sl, slWall, a, sl?.flops[row])} | ${cell(pt, ptWall, b, ptFlops[row])} |`)
  }
  const convSum = (s: Side | null) => (s ? CONV_ROWS.reduce((acc, r) => acc + (s.rows[r] ?? 0), 0) : undefined)
  const convFlops = sl ? CONV_ROWS.reduce((acc, r) => acc + (sl.flops[r] ?? 0), 0) : 0
  const a = convSum(sl)
  const b = convSum(pt)
  lines.push(`| **all conv (GEMM-shaped)** | **${f1(a)}** | ${pct(a, slWall)} | **${gf(convFlops, a)}** | **${f1(b)}** | ${pct(b, ptWall)} | **${gf(convFlops, b)}** |`)
  lines.push(`| sum of kernel/op times | ${f1(sl?.kernelSum)} | ${pct(sl?.kernelSum, slWall)} | | ${f1(pt?.kernelSum)} | ${pct(pt?.kernelSum, ptWall)} | |`)
  const ua = sl ? sl.wall - sl.kernelSum : undefined
  const ub = pt ? pt.wall - pt.kernelSum : undefined
  lines.push(`| unaccounted (wall − sum: JS/Python, boundary, waits) | ${f1(ua)} | ${pct(ua, slWall)} | | ${f1(ub)} | ${pct(ub, ptWall)} | |`)
  lines.push(`| **step wall time (unprofiled)** | **${f1(sl?.wall)}** | 100% | | **${f1(pt?.wall)}** | 100% | |`)
  const cores = os.cpus().length
  const busy = (s: Side | null) => (s ? `${((100 * s.cpu) / (s.wall * cores)).toFixed(0)}% (CPU ${s.cpu.toFixed(0)} ms)` : '—')
  lines.push(`| CPU busy (process CPU ÷ wall × ${cores} cores; the rest is idle threads) | ${busy(sl)} | | | ${busy(pt)} | | |`)
  if (peakG) notes.push(`Peak ≈ ${peakG.toFixed(0)} GFLOP/s; all-conv: Score Lab ${a && convFlops ? ((100 * convFlops) / a / 1e6 / peakG).toFixed(1) : '—'}% of peak, PyTorch ${b && convFlops ? ((100 * convFlops) / b / 1e6 / peakG).toFixed(1) : '—'}% of peak.`)
  return lines.join('\n') + '\n\n' + notes.map((n) => `- ${n}`).join('\n') + '\n'
}

export async function run(ctx: BenchContext): Promise<void> {
  const q = ctx.quick
  const warmup = q ? 1 : 2
  const steps = q ? 1 : 3
  const backend = typeof ctx.args.backend === 'string' ? ctx.args.backend : 'native'
  const cpu = cpuInfo()
  const pk = { gflops: cpu.peakGflops ?? null, text: cpu.peak }
  ctx.record('peak', pk.text)
  ctx.record('settings', { backend, warmup, steps, batch: 64 })

  // ---- Score Lab
  ctx.log(`breakdown: Score Lab (${backend}) …`)
  const w = await runProc(process.execPath, ['--import', 'tsx', path.join(ctx.root, 'bench/breakdown-worker.ts'), '--backend', backend, '--warmup', String(warmup), '--steps', String(steps)], { cwd: ctx.root, timeoutMs: 300_000 })
  const wr = resultLine(w.stdout)
  let slTrain: Side | null = null
  let slEm: Side | null = null
  let slNote = ''
  if (!wr || wr.error) {
    slNote = `Score Lab worker failed: ${wr ? String(wr.error) : `exit ${w.code}: ${w.stderr.trim().split('\n').slice(-1)[0] ?? ''}`}`
    ctx.log(slNote)
  } else {
    slTrain = tfjsSide(wr.train as WorkerStep)
    slEm = tfjsSide(wr.em as WorkerStep)
    slNote = `Score Lab: \`${backend}\` (${String(wr.device)})`
    ctx.record('scorelab', wr)
  }

  // ---- PyTorch
  ctx.log('breakdown: PyTorch …')
  let ptTrain: Side | null = null
  let ptEm: Side | null = null
  let ptNote = ''
  if (!existsSync(PYTHON)) ptNote = `${PYTHON} is missing: no PyTorch column`
  else {
    const openblas = existsSync(path.join(OPENBLAS_DIR, 'libblas.so.3'))
    const r = await runProc(PYTHON, [path.join(ctx.root, 'bench/breakdown_torch.py'), '--threads', '2', '--warmup', String(warmup), '--steps', String(steps)], { cwd: ctx.root, env: openblas ? { LD_LIBRARY_PATH: OPENBLAS_DIR } : {}, timeoutMs: 300_000 })
    const pr = resultLine(r.stdout)
    if (!pr) ptNote = `breakdown_torch.py exited ${r.code}: ${r.stderr.trim().split('\n').slice(-1)[0] ?? ''}`
    else {
      ptTrain = torchSide(pr.train as TorchStep)
      ptEm = torchSide(pr.em as TorchStep)
      const blas = ((pr.blas as string[]) ?? []).map((b) => path.basename(path.dirname(b)) + '/' + path.basename(b)).join(', ')
      ptNote = `PyTorch ${String(pr.torch)}, ${String(pr.threads)} threads, BLAS ${blas || '?'}${openblas ? ' (OpenBLAS via LD_LIBRARY_PATH)' : ' — libopenblas0-openmp is not installed, so its transposed convs and Linear layers run on the slow netlib reference BLAS: NOT the fair baseline'}`
      ctx.record('pytorch', pr)
    }
  }
  ctx.log(slNote)
  ctx.log(ptNote)

  // PyTorch FLOPs per row, from the same layers as Score Lab's kernels (identical work):
  // conv fwd = the forward's Conv2D, tconv fwd = the forward's Conv2DBackpropInput (both measured
  // in the EM step, batch 64), conv backward = all training conv FLOPs − those.
  const emConv = slEm?.flops['conv fwd'] ?? 0
  const emTconv = slEm?.flops['tconv fwd / conv input grad'] ?? 0
  const trainConvAll = slTrain ? CONV_ROWS.reduce((a, r) => a + (slTrain!.flops[r] ?? 0), 0) : 0
  const ptEmFlops: Partial<Record<Row, number>> = { 'conv fwd': emConv, 'tconv fwd / conv input grad': emTconv, 'MatMul (dense layers + embedding)': slEm?.flops['MatMul (dense layers + embedding)'] }
  const ptTrainFlops: Partial<Record<Row, number>> = { 'conv fwd': emConv, 'tconv fwd / conv input grad': emTconv, 'conv backward (input+filter, one op)': trainConvAll - emConv - emTconv, 'MatMul (dense layers + embedding)': slTrain?.flops['MatMul (dense layers + embedding)'] }

  const common = [
    slNote + '; ' + ptNote + '.',
    'Score Lab kernel names → rows: in a *training* step `conv fwd` (Conv2D) also holds the transposed convs\' input gradients, and `tconv fwd / conv input grad` (Conv2DBackpropInput) holds both the four transposed convs\' forward (tfjs runs conv2dTranspose as Conv2DBackpropInput) and the convs\' input gradients; in the EM step they are the plain forward convs and transposed convs. PyTorch\'s profiler gives `aten::convolution_backward` as one op (input + filter gradients together).',
    `${steps} profiled step(s) after ${warmup} warm-up(s), median per row; % = share of the unprofiled step wall time (also a median over ${steps}). Shares are indicative: the 2-core machine is shared and loaded during the run.`,
    'GFLOP/s: FLOPs of each conv/MatMul kernel from its shapes (2·MAC), divided by that row\'s time; PyTorch rows use the same layer FLOPs.'
  ]
  if (slTrain?.other.length) common.push(`Score Lab \`other\`: ${slTrain.other.join(', ')} ("unnamed scope" = kernels run outside a named op, e.g. a custom-gradient wrapper).`)

  const trainMd = table('train step @64', slTrain, ptTrain, ptTrainFlops, pk.gflops, [...common])
  const emMd = table('Euler–Maruyama step @64', slEm, ptEm, ptEmFlops, pk.gflops, [])
  ctx.markdown(`Machine peak: ${pk.text}.\n\n### Training step, batch 64\n\n${trainMd}\n### Euler–Maruyama step, batch 64\n\n${emMd}`)
  ctx.record('tables', { train: { scorelab: slTrain, pytorch: ptTrain }, em: { scorelab: slEm, pytorch: ptEm } })
  ctx.log('\n' + trainMd + '\n' + emMd)
}
