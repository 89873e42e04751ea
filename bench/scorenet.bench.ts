// The tutorial ScoreNet (28×28×1, 1.1 M parameters): training step @64, Euler–Maruyama step @64
// and @1, on every tfjs backend that loads here, side by side with PyTorch in the same run.
//
// Rounds interleave the engines (PyTorch, wasm, webgpu, … then again) so that load from other
// processes on a shared machine hits all of them alike; each figure is the median over steps,
// then the median (mean of two) over rounds; ratios are tfjs / PyTorch.
//
// Options (after `npm run bench --`):
//   --rounds N           interleaved rounds (default 2, quick 1)
//   --backends a,b       tfjs backends to try (default native,native:1,wasm,wasm:2,webgpu,cpu); NAME:N = N threads (native, wasm)
//   --cpu-train          also time cpu's training step (≈3 min per step at batch 64)
//   --webgpu-software    also time a software WebGPU adapter (SwiftShader: correct, very slow)
//   --no-pytorch         skip PyTorch
//   --net tutorial|engine  which ScoreNet (default: the engine's, else the private copy)
// PyTorch: /usr/bin/python3 /work/shared/reference/ref_scorenet.py (Debian python3-torch), with
// LD_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu/openblas-openmp when libopenblas0-openmp is
// installed (the fair baseline; nothing is switched system-wide). This bench installs nothing.
import { spawn } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import type { BenchContext } from './context'
import { flopEstimate } from './tutorial-scorenet'
import { cpuInfo } from './gpu/device'

const PYTHON = '/usr/bin/python3'
const REF_PY = '/work/shared/reference/ref_scorenet.py'
const OPENBLAS_DIR = '/usr/lib/x86_64-linux-gnu/openblas-openmp'
const PEAK = cpuInfo().peak

type Metric = 'train' | 'em64' | 'em1'
const METRICS: Metric[] = ['train', 'em64', 'em1']

interface Stat {
  median_ms: number
  mean_ms: number
  min_ms: number
  max_ms: number
  n: number
}
interface EngineRound {
  ok: boolean
  reason?: string
  device?: string
  note?: string
  stats: Partial<Record<Metric, Stat>>
}

function runProc(cmd: string, args: string[], opts: { cwd: string; env?: NodeJS.ProcessEnv; timeoutMs: number }): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd: opts.cwd, env: { ...process.env, ...opts.env }, stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d) => (stdout += d))
    child.stderr.on('data', (d) => {
      stderr += d
      for (const line of String(d).split('\n')) if (/^\[|^ {2}/.test(line) && line.trim()) process.stdout.write(`    ${line}\n`)
    })
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs)
    child.on('close', (code) => {
      clearTimeout(timer)
      resolve({ code, stdout, stderr })
    })
  })
}

async function tfjsRound(ctx: BenchContext, spec: string, what: Metric[], extraIn: string[]): Promise<EngineRound> {
  const q = ctx.quick
  const [backend, threads] = spec.split(':') as [string, string | undefined]
  const extra = threads ? [...extraIn, '--threads', threads] : extraIn
  const steps =
    backend === 'cpu'
      ? ['--train-steps', '1', '--em-steps', q ? '1' : '2', '--em1-steps', q ? '3' : '5', '--warmup', '1']
      : ['--train-steps', q ? '3' : '10', '--em-steps', q ? '5' : '20', '--em1-steps', q ? '20' : '100', '--warmup', q ? '1' : '3']
  const args = ['--import', 'tsx', path.join(ctx.root, 'bench/scorenet-worker.ts'), '--backend', backend, '--what', what.join(',') || 'none', ...steps, ...extra]
  const r = await runProc(process.execPath, args, { cwd: ctx.root, timeoutMs: (backend === 'cpu' ? 900 : 600) * 1000 })
  const line = r.stdout.split('\n').find((l) => l.startsWith('RESULT '))
  if (!line) return { ok: false, reason: `worker exited ${r.code} without a result: ${r.stderr.trim().split('\n').slice(-1)[0] ?? ''}`, stats: {} }
  const res = JSON.parse(line.slice(7)) as Record<string, unknown>
  if (res.error) return { ok: false, reason: String(res.error), stats: {} }
  const stats: Partial<Record<Metric, Stat>> = {}
  for (const m of METRICS) if (res[m]) stats[m] = res[m] as Stat
  return { ok: true, device: String(res.device), note: String(res.netNote), stats }
}

async function pytorchRound(ctx: BenchContext): Promise<EngineRound> {
  if (!existsSync(PYTHON) || !existsSync(REF_PY)) return { ok: false, reason: `${PYTHON} or ${REF_PY} is missing`, stats: {} }
  const dir = mkdtempSync(path.join(os.tmpdir(), 'scorelab-bench-'))
  const out = path.join(dir, 'pt.json')
  const openblas = existsSync(path.join(OPENBLAS_DIR, 'libblas.so.3'))
  const q = ctx.quick
  const args = [REF_PY, '--json', out, '--repeats', '1', '--train-steps', q ? '5' : '20', '--em-steps', q ? '10' : '50', '--warmup', q ? '2' : '5']
  const r = await runProc(PYTHON, args, { cwd: ctx.root, env: openblas ? { LD_LIBRARY_PATH: OPENBLAS_DIR } : {}, timeoutMs: 600_000 })
  try {
    if (r.code !== 0 || !existsSync(out)) return { ok: false, reason: `ref_scorenet.py exited ${r.code}: ${r.stderr.trim().split('\n').slice(-1)[0] ?? ''}`, stats: {} }
    const res = JSON.parse(readFileSync(out, 'utf8')) as { torch: string; blas: string[]; threads: number; rounds: Array<Record<string, Stat>> }
    const rd = res.rounds[0]!
    const blas = res.blas.map((b) => path.basename(path.dirname(b)) + '/' + path.basename(b)).join(', ')
    return {
      ok: true,
      device: `PyTorch ${res.torch}, ${res.threads} threads, BLAS ${blas}`,
      note: openblas ? 'OpenBLAS (openmp) via LD_LIBRARY_PATH' : 'libopenblas0-openmp not installed: reference BLAS, NOT the fair baseline (apt-get install -y libopenblas0-openmp)',
      stats: { train: rd.train64, em64: rd.em64, em1: rd.em1 }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

const median = (a: number[]) => {
  const s = [...a].sort((x, y) => x - y)
  const m = Math.floor(s.length / 2)
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2
}

export async function run(ctx: BenchContext): Promise<void> {
  const rounds = Number(ctx.args.rounds ?? (ctx.quick ? 1 : 2))
  const backends = String(ctx.args.backends ?? 'native,native:1,wasm,wasm:2,webgpu,cpu').split(',')
  const extra: string[] = []
  if (typeof ctx.args.net === 'string') extra.push('--net', ctx.args.net)
  const skipped: Record<string, string> = {}
  const engines: string[] = []
  if (!ctx.args['no-pytorch']) engines.push('pytorch')
  else skipped.pytorch = '--no-pytorch'

  // Which tfjs backends load here (a cheap probe in a child process each).
  for (const b of backends) {
    const probe = await tfjsRound(ctx, b, [], extra)
    if (!probe.ok) {
      skipped[b] = probe.reason ?? 'failed to load'
      ctx.log(`${b}: skipped (${skipped[b]})`)
      continue
    }
    if (b === 'webgpu' && /swiftshader|llvmpipe|lavapipe|fallback/i.test(probe.device ?? '') && !ctx.args['webgpu-software']) {
      skipped[b] = `only a software adapter (${probe.device}); correct but far slower than wasm (--webgpu-software to time it anyway)`
      ctx.log(`${b}: skipped (${skipped[b]})`)
      continue
    }
    if (b.includes(':') && !new RegExp(`\\b${b.split(':')[1]} threads?\\b`).test(probe.device ?? '')) {
      skipped[b] = `asked for ${b.split(':')[1]} threads, got: ${probe.device}`
      ctx.log(`${b}: skipped (${skipped[b]})`)
      continue
    }
    engines.push(b)
  }

  const results: Record<string, EngineRound[]> = {}
  for (let r = 0; r < rounds; r++) {
    for (const e of engines) {
      if (e === 'cpu' && r > 0) continue // one round: it is 10–100× slower than everything else
      ctx.log(`round ${r + 1}/${rounds}: ${e}`)
      let res: EngineRound
      if (e === 'pytorch') res = await pytorchRound(ctx)
      else {
        const what: Metric[] = e === 'cpu' && !ctx.args['cpu-train'] ? ['em64', 'em1'] : METRICS
        res = await tfjsRound(ctx, e, what, extra)
      }
      if (!res.ok) ctx.log(`${e} failed: ${res.reason}`)
      ;(results[e] ??= []).push(res)
    }
  }
  if (engines.includes('cpu') && !ctx.args['cpu-train']) skipped['cpu train'] = 'not timed: ≈180 s per step at batch 64 (perf-baseline.md: 181 s); --cpu-train times one step'

  // Summaries: median over rounds of the per-round medians, and the best step over all rounds
  // (on a machine shared with other work the minimum is the steadier estimate of the engine).
  type Summary = Partial<Record<Metric, number>> & { device?: string; note?: string }
  const summary: Record<string, Summary> = {}
  const best: Record<string, Summary> = {}
  for (const [e, rs] of Object.entries(results)) {
    const ok = rs.filter((x) => x.ok)
    if (!ok.length) {
      skipped[e] = rs[0]?.reason ?? 'failed'
      continue
    }
    const s: Summary = { device: ok[0]!.device, note: ok[0]!.note }
    const b: Summary = { device: ok[0]!.device, note: ok[0]!.note }
    for (const m of METRICS) {
      const v = ok.map((x) => x.stats[m]?.median_ms).filter((x): x is number => typeof x === 'number')
      if (v.length) s[m] = median(v)
      const mins = ok.map((x) => x.stats[m]?.min_ms).filter((x): x is number => typeof x === 'number')
      if (mins.length) b[m] = Math.min(...mins)
    }
    summary[e] = s
    best[e] = b
  }
  const fl64 = flopEstimate(64)
  const fl1 = flopEstimate(1)
  const gflops = (m: Metric, ms: number) => (m === 'train' ? fl64.trainFlops : m === 'em64' ? fl64.fwdFlops : fl1.fwdFlops) / ms / 1e6
  const ratioIn = (tab: Record<string, Summary>) => (e: string, m: Metric) => (tab.pytorch?.[m] && tab[e]?.[m] ? tab[e]![m]! / tab.pytorch[m]! : undefined)
  const ratio = ratioIn(summary)
  ctx.record('rounds', rounds)
  ctx.record('raw', results)
  ctx.record('summary', summary)
  ctx.record('best', best)
  ctx.record('skipped', skipped)
  ctx.record('ratios', Object.fromEntries(Object.keys(summary).filter((e) => e !== 'pytorch').map((e) => [e, Object.fromEntries(METRICS.map((m) => [m, ratio(e, m)]))])))
  ctx.record('bestRatios', Object.fromEntries(Object.keys(best).filter((e) => e !== 'pytorch').map((e) => [e, Object.fromEntries(METRICS.map((m) => [m, ratioIn(best)(e, m)]))])))
  ctx.record('flops', { train64: fl64.trainFlops, fwd64: fl64.fwdFlops, fwd1: fl1.fwdFlops })

  const f = (x: number | undefined, d = 1) => (x === undefined ? '–' : x.toFixed(d))
  const table = (tab: Record<string, Summary>) =>
    Object.entries(tab).map(([e, s]) => {
      const r = ratioIn(tab)
      const cells = [e === 'pytorch' ? 'PyTorch' : `tfjs \`${e}\``, s.device ?? '']
      for (const m of METRICS) {
        const ms = s[m]
        cells.push(ms === undefined ? '–' : `${f(ms, m === 'em1' ? 2 : 1)}`)
        cells.push(e === 'pytorch' ? '1.00×' : r(e, m) === undefined ? '–' : `${f(r(e, m), 2)}×`)
        cells.push(ms === undefined ? '–' : f(gflops(m, ms), 1))
      }
      return `| ${cells.join(' | ')} |`
    })
  const header = ['| engine | device | train @64 ms | ratio | GFLOP/s | EM @64 ms | ratio | GFLOP/s | EM @1 ms | ratio | GFLOP/s |', '|---|---|---|---|---|---|---|---|---|---|---|']
  const load = os.loadavg()
  ctx.markdown(
    [
      `Tutorial ScoreNet (1,115,425 parameters). ${rounds} interleaved round(s); each figure is the median over steps, then over rounds (ms per step). ` +
        `Ratio = tfjs time / PyTorch time (goal, issue 5: train ≤ 2×, EM @64 ≤ 2×, EM @1 ≤ 3×). ` +
        `GFLOP/s counts conv+dense only (train @64 = ${(fl64.trainFlops / 1e9).toFixed(3)} GFLOP, forward @64 = ${(fl64.fwdFlops / 1e9).toFixed(3)} GFLOP); this machine's peak is about ${PEAK}.`,
      '',
      '**Median** step (median over steps, then over rounds):',
      '',
      ...header,
      ...table(summary),
      '',
      '**Best** step (minimum over all steps and rounds; steadier when other processes share the cores):',
      '',
      ...header,
      ...table(best),
      '',
      `Load average at the end: ${load.map((l) => l.toFixed(2)).join(' / ')} on ${os.cpus().length} cores.`,
      '',
      ...Object.entries(summary).map(([e, s]) => `- ${e}: ${s.note}`),
      ...Object.entries(skipped).map(([e, why]) => `- ${e}: skipped — ${why}`)
    ].join('\n')
  )
}
