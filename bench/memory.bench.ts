// Memory of a training step (issue 21, item 5): peak RSS, the wasm heap and the peak of live
// tensors for the tutorial ScoreNet at batch 32, 64, 128 and 256 on the native backend, through
// the engine's Trainer (Adam + EMA, as the lab trains). Then the run form's check against reality:
// the probe (engine/train/probe.ts, what probe-job.ts runs before a run) predicts the largest
// batch that fits the 4 GiB wasm heap; this bench runs that batch and larger ones until one fails.
//
// Options (after `npm run bench --`): --backend native|wasm (default native), --batches 32,64,…
import { spawn } from 'node:child_process'
import path from 'node:path'
import type { BenchContext } from './context'
import { PROBE_BATCHES } from '../src/engine/train/probe'

interface WorkerResult {
  ok?: boolean
  error?: string
  device?: string
  batch?: number
  peakTensorBytes?: number
  heapBytes?: number | null
  peakRssBytes?: number
  probe?: { memory: { base: number; perExample: number }; limitBytes: number | null; largestBatch: number | null }
}

function worker(root: string, args: string[]): Promise<WorkerResult> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(root, 'bench/memory-worker.ts'), ...args], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    let err = ''
    child.stdout.on('data', (d) => (out += d))
    child.stderr.on('data', (d) => (err += d))
    child.on('close', (code, signal) => {
      const line = out.split('\n').find((l) => l.startsWith('RESULT '))
      if (line) resolve(JSON.parse(line.slice(7)) as WorkerResult)
      else resolve({ ok: false, error: `worker exited ${code ?? signal}: ${err.trim().split('\n').slice(-2).join(' | ')}` })
    })
  })
}

const MiB = (b: number | null | undefined) => (b == null ? '–' : (b / 2 ** 20).toFixed(0))

export async function run(ctx: BenchContext): Promise<void> {
  const backend = typeof ctx.args.backend === 'string' ? ctx.args.backend : 'native'
  const batches = typeof ctx.args.batches === 'string' ? ctx.args.batches.split(',').map(Number) : ctx.quick ? [32, 64] : [32, 64, 128, 256]
  const rows: WorkerResult[] = []
  for (const b of batches) {
    const r = await worker(ctx.root, ['--backend', backend, '--batch', String(b), '--steps', '2'])
    ctx.log(`batch ${b}: ${r.ok ? `heap ${MiB(r.heapBytes)} MiB, peak RSS ${MiB(r.peakRssBytes)} MiB, tensors ${MiB(r.peakTensorBytes)} MiB` : `failed: ${r.error}`}`)
    rows.push({ ...r, batch: b })
  }
  const probe = (await worker(ctx.root, ['--backend', backend, '--probe'])).probe
  const predicted = probe?.largestBatch ?? null
  ctx.log(`probe: ${probe ? `${MiB(probe.memory.base)} MiB + ${(probe.memory.perExample / 2 ** 20).toFixed(2)} MiB/example → largest batch ${predicted}` : 'failed'}`)
  // Reality: the predicted batch, then 10 % steps away from it (up while steps run, down while
  // they fail) until the outcome changes, at most 5 tries.
  const limitRows: WorkerResult[] = []
  if (predicted !== null && Number.isFinite(predicted) && !ctx.quick) {
    let dir = 0
    for (let i = 0; i < 5; i++) {
      const f = 1 + dir * 0.1 * i
      const b = Math.round(predicted * f)
      const r = await worker(ctx.root, ['--backend', backend, '--batch', String(b), '--steps', '1'])
      ctx.log(`batch ${b} (${f.toFixed(1)}× predicted): ${r.ok ? `ran, heap ${MiB(r.heapBytes)} MiB` : `failed: ${r.error}`}`)
      limitRows.push({ ...r, batch: b })
      if (i === 0) dir = r.ok ? 1 : -1
      else if (r.ok !== limitRows[0]!.ok) break
    }
  }
  const largestRan = Math.max(0, ...limitRows.filter((r) => r.ok).map((r) => r.batch!))
  const firstFailed = limitRows.find((r) => !r.ok)?.batch ?? null
  ctx.record('rows', rows)
  ctx.record('probe', probe ?? null)
  ctx.record('limit', { predicted, largestRan, firstFailed, tries: limitRows })
  const md = [
    `Tutorial ScoreNet, one training step through the engine's Trainer (Adam + EMA) on \`${backend}\` (${rows[0]?.device ?? '?'}); a fresh process per batch.`,
    '',
    '| batch | wasm heap, MiB | peak RSS, MiB | peak live tensors, MiB | probe predicts, MiB |',
    '|---|---|---|---|---|',
    ...rows.map((r) => `| ${r.batch} | ${r.ok ? MiB(r.heapBytes) : `failed: ${r.error}`} | ${MiB(r.peakRssBytes)} | ${MiB(r.peakTensorBytes)} | ${probe ? MiB(probe.memory.base + probe.memory.perExample * r.batch!) : '–'} |`),
    '',
    probe
      ? `The run form's check (the probe: steps at batch ${PROBE_BATCHES.join(' and ')}, peak tensor bytes fitted as a + b·batch) predicts ${MiB(probe.memory.base)} MiB + ${(probe.memory.perExample / 2 ** 20).toFixed(2)} MiB per example, so at most **batch ${predicted}** within ${MiB(probe.limitBytes)} MiB (85 % of the 4 GiB wasm heap).`
      : 'The probe failed.',
    limitRows.length
      ? `Measured: ${limitRows.map((r) => `batch ${r.batch} ${r.ok ? `ran (heap ${MiB(r.heapBytes)} MiB)` : `failed (${r.error})`}`).join('; ')}. Largest that ran: **${largestRan}**${firstFailed ? `; first that failed: ${firstFailed}` : ' (none failed up to 1.4× the prediction)'}.`
      : ''
  ]
  ctx.markdown(md.join('\n'))
}
