// CLI start-up: how long `score-lab --help`, `score-lab runs list --json` (three runs in a temp
// data folder, given as SCORE_LAB_HOME) and `score-lab datasets list --json` take, start to exit,
// as a user runs them (`node bin/score-lab.mjs …`, with bin/ts-require.mjs's compile cache warm).
// None of them needs TensorFlow.js, so none should load it (test/cli/lazy-load.test.ts checks
// that); the target is under 0.5 s each. `npm run bench -- --only cli [--rounds N]`.
//
// The commands take turns round by round, so load from other processes hits them alike. Each
// run also reports its process CPU time (user + system, all threads) through a one-line --import
// hook; on a busy machine that is the steadier figure.
import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import type { BenchContext } from './context'
import { RunStore } from '../src/lab/runs/store'
import type { TrainConfig } from '../src/shared/contract'

/** The start-up budget of each command, seconds. */
const TARGET_S = 0.5

const COMMANDS: { key: string; label: string; args: string[] }[] = [
  { key: 'help', label: 'score-lab --help', args: ['--help'] },
  { key: 'runs_list', label: 'score-lab runs list --json (3 runs)', args: ['runs', 'list', '--json'] },
  { key: 'datasets_list', label: 'score-lab datasets list --json', args: ['datasets', 'list', '--json'] }
]

/** Writes the child's CPU time (user + system, ms, every thread) to stderr as it exits. */
const CPU_HOOK =
  'data:text/javascript,' +
  encodeURIComponent("import{writeSync}from'node:fs';process.on('exit',()=>{const u=process.cpuUsage();writeSync(2,`\\nscore-lab-bench-cpu-ms ${(u.user+u.system)/1000}\\n`)})")

const TOY: TrainConfig = {
  dataset: 'toy-gmm',
  model: 'mlp',
  sde: { name: 'vesde', params: { sigmaMin: 0.05, sigmaMax: 3 } },
  steps: 2000,
  batchSize: 256,
  lr: 2e-3,
  warmup: 0,
  gradClip: 0,
  ema: 0.999,
  weighting: 'std2',
  reduction: 'sum',
  seed: 0,
  checkpointEvery: 500,
  keepLast: 3,
  keepBest: true,
  previewEvery: 0,
  centered: false,
  randomFlip: false
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b)
  const m = Math.floor(s.length / 2)
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2
}

export async function run(ctx: BenchContext): Promise<void> {
  const rounds = typeof ctx.args.rounds === 'string' ? Math.max(1, Number(ctx.args.rounds)) : ctx.quick ? 3 : 7
  const cli = path.join(ctx.root, 'bin/score-lab.mjs')
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'score-lab-bench-cli-'))
  try {
    const runs = new RunStore(dataDir)
    for (let i = 0; i < 3; i++) {
      const r = runs.create(TOY, `bench run ${i + 1}`, 'native')
      runs.update(r.id, { status: 'finished', step: 2000, trainMs: 34_000, lastLoss: 1.9 + i / 10, bestLoss: 1.8 + i / 10 })
    }
    const once = (args: string[]) => {
      const t0 = performance.now()
      // The data folder comes from the environment, so each command line is exactly the one shown.
      const r = spawnSync(process.execPath, ['--import', CPU_HOOK, cli, ...args], {
        encoding: 'utf8',
        timeout: 60_000,
        env: { ...process.env, SCORE_LAB_HOME: dataDir, SCORE_LAB_BACKEND: '' }
      })
      const ms = performance.now() - t0
      if (r.status !== 0) throw new Error(`score-lab ${args.join(' ')} exited ${r.status}: ${r.stderr.trim().split('\n').at(-1) ?? ''}`)
      const cpu = Number(/score-lab-bench-cpu-ms ([\d.]+)/.exec(r.stderr)?.[1] ?? NaN)
      return { ms, cpu }
    }
    // One untimed run each: the compile cache (and the OS file cache) warm, as after any first use.
    for (const c of COMMANDS) once(c.args)
    const loadBefore = os.loadavg()[0]!
    const wall: Record<string, number[]> = {}
    const cpu: Record<string, number[]> = {}
    for (let round = 0; round < rounds; round++) {
      for (const c of COMMANDS) {
        const r = once(c.args)
        ;(wall[c.key] ??= []).push(r.ms)
        ;(cpu[c.key] ??= []).push(r.cpu)
      }
    }
    const loadAfter = os.loadavg()[0]!
    const rows: string[] = []
    let allPass = true
    for (const c of COMMANDS) {
      const med = median(wall[c.key]!) / 1000
      const pass = med < TARGET_S
      allPass &&= pass
      const result = {
        median_s: Math.round(med * 1000) / 1000,
        min_s: Math.round(Math.min(...wall[c.key]!)) / 1000,
        max_s: Math.round(Math.max(...wall[c.key]!)) / 1000,
        cpu_median_s: Math.round(median(cpu[c.key]!)) / 1000,
        target_s: TARGET_S,
        pass,
        runs_s: wall[c.key]!.map((ms) => Math.round(ms) / 1000)
      }
      ctx.record(c.key, result)
      ctx.log(`${c.label}: median ${result.median_s.toFixed(3)} s (min ${result.min_s.toFixed(3)}, CPU ${result.cpu_median_s.toFixed(3)}) — ${pass ? 'pass' : 'FAIL'}`)
      rows.push(`| \`${c.label}\` | ${result.median_s.toFixed(3)} | ${result.min_s.toFixed(3)} – ${result.max_s.toFixed(3)} | ${result.cpu_median_s.toFixed(3)} | < ${TARGET_S} s | ${pass ? 'pass' : '**fail**'} |`)
    }
    ctx.record('rounds', rounds)
    ctx.record('loadavg_1min', [loadBefore, loadAfter].map((l) => Math.round(l * 100) / 100))
    ctx.record('all_pass', allPass)
    ctx.markdown(
      [
        `Start to exit of \`node bin/score-lab.mjs …\`, median of ${rounds} runs each (commands interleaved; compile cache warm). ` +
          `CPU = user + system time of the whole process, every thread. Load average (1 min) ${loadBefore.toFixed(2)} before, ${loadAfter.toFixed(2)} after.`,
        '',
        '| command | median s | min – max s | CPU median s | target | result |',
        '|---|---|---|---|---|---|',
        ...rows
      ].join('\n')
    )
  } finally {
    fs.rmSync(dataDir, { recursive: true, force: true })
  }
}
