// Two processes on one data folder: a CLI trainer and this test's lab (as the GUI would be).
// The run's lock is a kernel object of the trainer's process: a second trainer and deletes are
// refused with the holder named, and the lock dies with its process (SIGKILL), leaving no
// stale lock behind.
import { spawn } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { createLabService } from '../../src/lab/service'
import { createDispatch } from '../../src/lab/dispatch'
import { RunLocks, USE_SLOTS } from '../../src/lab/runs/run-lock'
import { viewCheckpoints } from '../../src/lab/runs/checkpoint-folder'
import { readMetrics } from '../../src/lab/runs/metrics-log'
import { tempDir } from '../helpers/service'

const ROOT = path.resolve(__dirname, '../..')
const CLI = path.join(ROOT, 'bin/score-lab.mjs')
const dataDir = tempDir('score-lab-lock-')
const children: ReturnType<typeof spawn>[] = []
afterAll(() => {
  for (const c of children) c.kill('SIGKILL')
})

/** Runs the CLI without blocking this process, which must keep answering its own locks. */
function cli(...args: string[]): Promise<{ status: number | null; out: string; err: string }> {
  const child = spawn(process.execPath, [CLI, '--data-dir', dataDir, ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  let err = ''
  child.stdout.on('data', (d) => (out += d))
  child.stderr.on('data', (d) => (err += d))
  return new Promise((resolve) => child.on('close', (status) => resolve({ status, out, err })))
}

async function waitUntil(pred: () => boolean, what: string, timeoutMs = 90_000): Promise<void> {
  const t0 = Date.now()
  while (!pred()) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 50))
  }
}

describe('one trainer per run, across processes', () => {
  it('refuses a second trainer and deletes while another process trains, and frees the run when that process is killed', async () => {
    const trainer = spawn(process.execPath, [CLI, '--data-dir', dataDir, 'train', '--dataset', 'toy-gmm', '--steps', '1000000', '--batch', '32', '--checkpoint-every', '10', '--name', 'locked'], { stdio: 'ignore' })
    children.push(trainer)
    const lab = createLabService({ dataDir, shell: 'browser' })
    const call = createDispatch(lab.handlers)
    try {
      await waitUntil(() => lab.runs.list().length === 1, 'the run folder')
      const runId = lab.runs.list()[0]!.id
      const ckDir = path.join(dataDir, 'runs', runId, 'checkpoints')
      await waitUntil(() => viewCheckpoints(ckDir).checkpoints.length > 0, 'a checkpoint')

      // The GUI (this lab) cannot resume it, delete it, or delete its checkpoints.
      const resume = await call('runs.resume', { runId })
      expect(resume.ok).toBe(false)
      if (resume.ok) return
      expect(resume.error.code).toBe('conflict')
      expect(resume.error.message).toMatch(new RegExp(`Cannot train run "locked": it is in use by score-lab train \\(pid ${trainer.pid}, training since`))
      const del = await call('runs.delete', { runId })
      expect(!del.ok && del.error.message).toMatch(new RegExp(`Cannot delete run "locked": it is in use by score-lab train \\(pid ${trainer.pid}`))
      const file = viewCheckpoints(ckDir).checkpoints[0]!.file
      const delCk = await call('checkpoints.delete', { runId, file })
      expect(!delCk.ok && delCk.error.message).toMatch(/Cannot delete a checkpoint of run "locked": it is in use by score-lab train/)

      // A second CLI trainer is refused in one line, naming the holder.
      const second = await cli('train', '--resume', runId)
      expect(second.status).not.toBe(0)
      expect(second.err).toMatch(new RegExp(`score-lab: Cannot train run "locked": it is in use by score-lab train \\(pid ${trainer.pid}`))
      expect(second.err.trim().split('\n')).toHaveLength(1)

      // Sampling while another process trains is allowed (it only reads).
      const sample = await call('samples.start', { runId, sampler: 'euler_maruyama', steps: 5, seed: 0, count: 8, useEma: true, settings: {} })
      expect(sample.ok).toBe(true)

      // The trainer dies hard: its lock goes with it. Nothing on disk was touched by the refusals.
      trainer.kill('SIGKILL')
      await new Promise((r) => trainer.once('exit', r))
      const steps = readMetrics(path.join(dataDir, 'runs', runId, 'metrics.jsonl')).map((m) => m.step)
      expect(steps).toEqual(Array.from({ length: steps.length }, (_, i) => i + 1))
      const lease = await new RunLocks(path.join(dataDir, 'runs'), 'test').exclusive(runId, 'checking')
      await lease.release()
    } finally {
      await lab.close()
    }
  }, 300_000)

  it('refuses to delete a run another process is sampling from, naming it', async () => {
    const runs = path.join(dataDir, 'runs')
    const runId = fs.readdirSync(runs).find((f) => !f.startsWith('.'))!
    // This process plays the sampler: it holds a shared slot as a sampling job does.
    const sampler = await new RunLocks(runs, 'Score Lab in browser mode').shared(runId, 'sampling')
    try {
      const r = await cli('runs', 'delete', runId)
      expect(r.status).not.toBe(0)
      expect(r.err).toMatch(new RegExp(`it is being sampled by Score Lab in browser mode \\(pid ${process.pid}, sampling since`))
      expect(fs.existsSync(path.join(runs, runId, 'run.json'))).toBe(true)
    } finally {
      await sampler.release()
    }
    const r = await cli('runs', 'delete', runId)
    expect(r.status).toBe(0)
    expect(fs.existsSync(path.join(runs, runId))).toBe(false)
  }, 120_000)

  it(`shares a run between up to ${USE_SLOTS} samplers and keeps the trainer lock exclusive`, async () => {
    const root = tempDir('score-lab-lockunit-')
    fs.mkdirSync(path.join(root, 'runs'))
    const a = new RunLocks(path.join(root, 'runs'), 'a')
    const b = new RunLocks(path.join(root, 'runs'), 'b')
    const first = await a.exclusive('r1', 'training')
    await expect(b.exclusive('r1', 'training')).rejects.toThrow(/it is in use by a \(pid \d+, training since/)
    // Another run has its own lock.
    const other = await b.exclusive('r2', 'training')
    await other.release()
    await first.release()
    const again = await b.exclusive('r1', 'training')
    await again.release()
    const leases = await Promise.all(Array.from({ length: USE_SLOTS }, () => a.shared('r1', 'sampling')))
    expect(await b.users('r1')).toHaveLength(USE_SLOTS)
    await expect(b.shared('r1', 'sampling')).rejects.toThrow(new RegExp(`${USE_SLOTS} processes are already sampling`))
    await expect(b.forDelete('r1')).rejects.toThrow(/it is being sampled by a/)
    await Promise.all(leases.map((l) => l.release()))
    expect(await b.users('r1')).toHaveLength(0)
    const del = await b.forDelete('r1')
    await del.release()
  })
})
