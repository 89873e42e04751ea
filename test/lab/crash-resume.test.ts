// Crash safety: a CLI training process is SIGKILLed at random moments (some during checkpoint
// writes, which happen every few steps here). After every kill each listed checkpoint still
// loads, metrics.jsonl still parses, the run shows as interrupted, and a resume continues from
// the last checkpoint.
import { spawn } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { loadCheckpoint } from '../../src/engine/checkpoint/checkpoint'
import { readMetrics } from '../../src/lab/runs/metrics-log'
import { RunStore } from '../../src/lab/runs/store'
import { viewCheckpoints } from '../../src/lab/runs/checkpoint-folder'
import { createLabService } from '../../src/lab/service'
import { tempDir } from '../helpers/service'

const ROOT = path.resolve(__dirname, '../..')
const CLI = path.join(ROOT, 'bin/score-lab.mjs')
const KILLS = 10

/** Starts a CLI training process and resolves once it has trained (a metrics line exists). */
function startTraining(args: string[], metricsFile: string | null) {
  const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  child.stdout.on('data', (d) => (out += d))
  child.stderr.on('data', (d) => (out += d))
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)))
  return { child, exited, output: () => out, metricsFile }
}

async function waitUntil(pred: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const t0 = Date.now()
  while (!pred()) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 25))
  }
}

describe('crash safety', () => {
  it(`survives ${KILLS} SIGKILLs at random moments and resumes from the last checkpoint`, async () => {
    const dataDir = tempDir('score-lab-crash-')
    const base = ['--data-dir', dataDir, '--json']
    const first = startTraining(['train', '--dataset', 'toy-gmm', '--steps', '1000000', '--batch', '32', '--checkpoint-every', '7', ...base], null)
    const store = new RunStore(dataDir)
    await waitUntil(() => store.list().length === 1, 60_000, 'the run folder')
    const runId = store.list()[0]!.id
    const runDir = path.join(dataDir, 'runs', runId)
    const metricsFile = path.join(runDir, 'metrics.jsonl')
    let proc = first
    let lastCheckpointStep = 0

    for (let k = 0; k < KILLS; k++) {
      // Train past the last checkpoint, and have at least one on disk (a kill before the very
      // first checkpoint simply restarts from step 0, which says nothing about resuming).
      await waitUntil(
        () => fs.existsSync(metricsFile) && readMetrics(metricsFile).some((m) => m.step > lastCheckpointStep) && viewCheckpoints(path.join(runDir, 'checkpoints')).checkpoints.length > 0,
        120_000,
        `training after resume ${k}`
      )
      // Random moment: checkpoints land every 7 steps, so many kills fall inside or near one.
      await new Promise((r) => setTimeout(r, 50 + Math.random() * 600))
      proc.child.kill('SIGKILL')
      await proc.exited

      const manifest = viewCheckpoints(path.join(runDir, 'checkpoints')).checkpoints
      expect(manifest.length).toBeGreaterThan(0)
      for (const c of manifest) {
        const state = await loadCheckpoint(path.join(runDir, 'checkpoints', c.file))
        expect(state.step).toBe(c.step)
      }
      const points = readMetrics(metricsFile) // parses despite a possibly torn last line
      expect(points.length).toBeGreaterThan(0)
      lastCheckpointStep = Math.max(...manifest.map((c) => c.step))
      // A fresh lab marks the dead run as interrupted, not running.
      expect(createLabService({ dataDir, shell: 'cli' }).runs.get(runId).status).toBe('interrupted')

      proc = startTraining(['train', '--resume', runId, ...base], metricsFile)
      // The resumed job first cuts metrics back to the checkpoint, then says so, then trains.
      const resumed = proc
      await waitUntil(() => /Resumed from/.test(resumed.output()), 120_000, `resume ${k + 1} to start`)
      expect(resumed.output()).toContain(`at step ${lastCheckpointStep}`)
      await waitUntil(() => readMetrics(metricsFile).some((m) => m.step > lastCheckpointStep), 120_000, `resume ${k + 1}`)
      const steps = readMetrics(metricsFile).map((m) => m.step)
      // Resume continued right after the last checkpoint: steps are consecutive, no gap, no duplicate.
      expect(steps).toEqual(Array.from({ length: steps.length }, (_, i) => i + 1))
    }
    proc.child.kill('SIGKILL')
    await proc.exited
  }, 600_000)
})
