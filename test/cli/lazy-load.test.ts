// The CLI loads TensorFlow.js, the engine's registries and the server only for the commands
// that need them: `--help`, `runs list` and `datasets list` must start fast (bench/cli.bench.ts
// times them). Each command runs in a child process with test/helpers/module-log.mjs, which
// records every module it loads; the lists are checked here, not the times (too noisy).
import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { RunStore } from '../../src/lab/runs/store'
import type { TrainConfig } from '../../src/shared/contract'
import { tempDir } from '../helpers/service'

const ROOT = path.resolve(__dirname, '../..')
const CLI = path.join(ROOT, 'bin/score-lab.mjs')
const MODULE_LOG = path.join(ROOT, 'test/helpers/module-log.mjs')

/** What a fast command must not load, each with the reason it is heavy. */
const FORBIDDEN: { what: string; test: (m: string) => boolean }[] = [
  { what: 'TensorFlow.js', test: (m) => m.includes('/node_modules/@tensorflow/') },
  { what: 'src/engine/tf.ts', test: (m) => m.endsWith('/src/engine/tf.ts') },
  { what: 'the backends', test: (m) => /\/src\/engine\/backend\/(select|wasm-kernels|native-kernels|kernel-self-check|webgpu\/[a-z-]+)\.ts$/.test(m) },
  { what: 'the nets/SDE/sampler registries', test: (m) => /\/src\/engine\/(nets|sde|samplers)\/index\.ts$/.test(m) },
  { what: 'the engine catalogue', test: (m) => m.endsWith('/src/lab/catalog.ts') },
  { what: 'the server', test: (m) => m.endsWith('/src/server/server.ts') },
  { what: 'ws', test: (m) => m.includes('/node_modules/ws/') }
]

const config: TrainConfig = {
  dataset: 'toy-gmm',
  model: 'mlp',
  sde: { name: 'vesde', params: { sigmaMin: 0.05, sigmaMax: 3 } },
  steps: 200,
  batchSize: 64,
  lr: 2e-3,
  warmup: 0,
  gradClip: 0,
  ema: 0,
  weighting: 'std2',
  reduction: 'sum',
  seed: 0,
  checkpointEvery: 100,
  keepLast: 3,
  keepBest: true,
  previewEvery: 0,
  centered: false,
  randomFlip: false
}

/** A data folder with three finished runs, so `runs list` reads real run files. */
function dataDirWithRuns(): string {
  const dir = tempDir('score-lab-lazy-')
  const runs = new RunStore(dir)
  for (let i = 0; i < 3; i++) {
    const run = runs.create(config, `lazy ${i}`, null)
    runs.update(run.id, { status: 'finished', step: 200, lastLoss: 1.5 - i / 10 })
  }
  return dir
}

/** Runs the CLI with the module log; returns its exit code, output and the modules it loaded (paths). */
function loadedBy(dataDir: string, ...args: string[]) {
  const log = path.join(tempDir('score-lab-modules-'), 'modules.txt')
  // The data folder comes from the environment, so the command line is exactly the one tested.
  const r = spawnSync(process.execPath, ['--import', MODULE_LOG, CLI, ...args], {
    encoding: 'utf8',
    timeout: 120_000,
    env: { ...process.env, SCORE_LAB_HOME: dataDir, SCORE_LAB_MODULE_LOG: log, SCORE_LAB_BACKEND: '' }
  })
  const modules = fs.existsSync(log)
    ? [...new Set(fs.readFileSync(log, 'utf8').split('\n').filter(Boolean).map((m) => (m.startsWith('file:') ? new URL(m).pathname : m)))]
    : []
  return { code: r.status, stdout: r.stdout, stderr: r.stderr, modules }
}

function forbiddenIn(modules: string[]): string[] {
  return FORBIDDEN.flatMap(({ what, test }) => modules.filter(test).slice(0, 3).map((m) => `${what}: ${path.relative(ROOT, m)}`))
}

describe('the CLI loads TensorFlow.js lazily', () => {
  const dataDir = dataDirWithRuns()

  it('--help loads neither the engine nor the lab service', () => {
    for (const args of [['--help'], ['runs', '--help', '--json']]) {
      const r = loadedBy(dataDir, ...args)
      expect(r.code, r.stderr).toBe(0)
      expect(r.stdout).toContain('Usage: score-lab')
      expect(r.modules.some((m) => m.endsWith('/src/cli/index.ts')), 'the module log recorded the CLI').toBe(true)
      expect(forbiddenIn(r.modules)).toEqual([])
      expect(r.modules.filter((m) => m.endsWith('/src/lab/service.ts'))).toEqual([])
    }
  })

  it('runs list --json lists the runs without loading the engine', () => {
    const r = loadedBy(dataDir, 'runs', 'list', '--json')
    expect(r.code, r.stderr).toBe(0)
    const listed = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as { name: string; status: string }[]
    expect(listed.map((x) => x.name).sort()).toEqual(['lazy 0', 'lazy 1', 'lazy 2'])
    expect(listed.every((x) => x.status === 'finished')).toBe(true)
    expect(r.modules.some((m) => m.endsWith('/src/lab/service.ts'))).toBe(true)
    expect(forbiddenIn(r.modules)).toEqual([])
  })

  it('datasets list --json lists the data sets without loading the engine', () => {
    const r = loadedBy(dataDir, 'datasets', 'list', '--json')
    expect(r.code, r.stderr).toBe(0)
    const listed = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as { name: string }[]
    expect(listed.map((d) => d.name)).toContain('toy-gmm')
    expect(forbiddenIn(r.modules)).toEqual([])
  })

  it('a command that needs the engine still loads it (the log sees TensorFlow.js)', () => {
    const r = loadedBy(dataDir, 'info', '--json', '--backend', 'cpu')
    expect(r.code, r.stderr).toBe(0)
    expect(JSON.parse(r.stdout.trim().split('\n').at(-1)!).backend.name).toBe('cpu')
    expect(r.modules.some((m) => m.includes('/node_modules/@tensorflow/tfjs-core/'))).toBe(true)
    expect(r.modules.some((m) => m.endsWith('/src/engine/tf.ts'))).toBe(true)
  })
})
