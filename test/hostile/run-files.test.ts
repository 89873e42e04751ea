// Hostile and clumsy inputs against a run's files: a damaged or missing manifest, a bit-flipped
// checkpoint, failing output writes, exports to symlinks, devices and existing files. Nothing a
// user trained may be lost, and each refusal says why.
import { spawn } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { createLabService } from '../../src/lab/service'
import { createDispatch } from '../../src/lab/dispatch'
import { PRESETS } from '../../src/lab/catalog'
import { loadCheckpoint } from '../../src/engine/checkpoint/checkpoint'
import { readManifestFile, viewCheckpoints, MANIFEST } from '../../src/lab/runs/checkpoint-folder'
import { readMetrics } from '../../src/lab/runs/metrics-log'
import { writeOutputFile, OutputRefused } from '../../src/engine/io/output-file'
import type { CheckpointInfo, JobInfo, TrainConfig } from '../../src/shared/contract'
import { EventRecorder } from '../helpers/events'
import { tempDir } from '../helpers/service'

const service = createLabService({ dataDir: tempDir('score-lab-hostile-'), shell: 'cli' })
const call = createDispatch(service.handlers)
const rec = new EventRecorder(service.events)
afterAll(() => service.close())

const toy = PRESETS.find((p) => p.name === 'toy-quick')!.config
const tiny = (over: Partial<TrainConfig> = {}): TrainConfig => ({ ...toy, steps: 60, batchSize: 32, checkpointEvery: 20, keepLast: 5, keepBest: false, previewEvery: 0, ...over })

async function ok<T>(method: string, input: unknown): Promise<T> {
  const env = await call(method, input)
  if (!env.ok) throw new Error(`${env.error.code}: ${env.error.message}`)
  return env.result as T
}
async function refused(method: string, input: unknown): Promise<{ code: string; message: string }> {
  const env = await call(method, input)
  if (env.ok) throw new Error(`${method} was accepted`)
  return env.error
}

/** Trains a fresh run to the end and returns its id and folder. */
async function trainedRun(over: Partial<TrainConfig> = {}) {
  const { runId, jobId } = await ok<{ runId: string; jobId: string }>('runs.start', { config: tiny(over) })
  await rec.jobState(jobId, 'finished')
  const dir = path.join(service.dataDir, 'runs', runId)
  return { runId, dir, ckDir: path.join(dir, 'checkpoints'), metrics: path.join(dir, 'metrics.jsonl') }
}

/** Resumes a run (after raising its step budget) and waits for the job to end. */
async function resume(runId: string, steps: number): Promise<{ job: JobInfo; logs: string[] }> {
  const run = service.runs.get(runId)
  service.runs.update(runId, { config: { ...run.config, steps }, status: 'stopped' })
  const { jobId } = await ok<{ jobId: string }>('runs.resume', { runId })
  const end = (await rec.waitFor((e) => e.type === 'job' && e.job.id === jobId && ['finished', 'failed', 'cancelled'].includes(e.job.state))) as { job: JobInfo }
  const logs = rec.events.filter((e) => e.type === 'log' && e.jobId === jobId).map((e) => (e as { message: string }).message)
  return { job: end.job, logs }
}

const files = (dir: string) => fs.readdirSync(dir).filter((f) => f.endsWith('.safetensors')).sort()

describe('a damaged or missing checkpoint manifest never deletes checkpoints', () => {
  for (const damage of ['unparseable', 'missing', 'wrong shape'] as const) {
    it(`resume with a ${damage} manifest rebuilds it from the files and continues from the last checkpoint`, async () => {
      const r = await trainedRun()
      const before = files(r.ckDir)
      expect(before).toHaveLength(3)
      const stepsBefore = readMetrics(r.metrics).length
      const manifest = path.join(r.ckDir, MANIFEST)
      if (damage === 'unparseable') fs.writeFileSync(manifest, '{"checkpoints": [ {"file": "ckpt-000')
      else if (damage === 'missing') fs.rmSync(manifest)
      else fs.writeFileSync(manifest, JSON.stringify({ checkpoints: 'none' }))

      // Listing already sees every checkpoint, with the logged loss at its step.
      const listed = (await ok<{ checkpoints: CheckpointInfo[] }>('runs.get', { runId: r.runId })).checkpoints
      expect(listed.map((c) => c.step)).toEqual([20, 40, 60])
      expect(listed.every((c) => c.loss !== null && c.loss > 0)).toBe(true)

      const { job, logs } = await resume(r.runId, 80)
      expect(job.state).toBe('finished')
      expect(logs.join('\n')).toMatch(/rebuilt from the checkpoint files/)
      expect(logs.join('\n')).toMatch(/Resumed from ckpt-00000060\.safetensors at step 60/)
      // Every earlier checkpoint is still there, metrics kept up to step 60 and continued.
      for (const f of before) expect(fs.existsSync(path.join(r.ckDir, f))).toBe(true)
      const steps = readMetrics(r.metrics).map((m) => m.step)
      expect(stepsBefore).toBe(60)
      expect(steps).toEqual(Array.from({ length: 80 }, (_, i) => i + 1))
      expect(readManifestFile(r.ckDir).state).toBe('ok')
      if (damage !== 'missing') expect(fs.readdirSync(r.ckDir).some((f) => f.startsWith(`${MANIFEST}.damaged-`))).toBe(true)
    })
  }

  it('a checkpoint written just before a crash (not yet in the manifest) is adopted, not deleted', async () => {
    const r = await trainedRun()
    const all = readManifestFile(r.ckDir)
    if (all.state !== 'ok') throw new Error('manifest should be fine')
    // The manifest as it was before the last checkpoint was listed.
    fs.writeFileSync(path.join(r.ckDir, MANIFEST), JSON.stringify({ checkpoints: all.checkpoints.filter((c) => c.step < 60) }))
    expect(viewCheckpoints(r.ckDir).checkpoints.map((c) => c.step)).toEqual([20, 40, 60])
    const { job, logs } = await resume(r.runId, 70)
    expect(job.state).toBe('finished')
    expect(logs.join('\n')).toMatch(/ckpt-00000060\.safetensors was not in the manifest/)
    expect(logs.join('\n')).toMatch(/at step 60/)
  })
})

describe('checkpoints carry a content checksum', () => {
  it('a bit-flipped tensor fails to load with the file named', async () => {
    const r = await trainedRun()
    const file = path.join(r.ckDir, 'ckpt-00000060.safetensors')
    await expect(loadCheckpoint(file)).resolves.toBeTruthy()
    const bytes = fs.readFileSync(file)
    bytes[bytes.length - 7]! ^= 0x10 // one bit of one weight: still a valid safetensors file
    fs.writeFileSync(file, bytes)
    await expect(loadCheckpoint(file)).rejects.toThrow(/ckpt-00000060\.safetensors: its tensors do not match the checksum/)
  })

  it('resume skips a damaged latest checkpoint, says which and why, and continues from the newest that verifies', async () => {
    const r = await trainedRun()
    const latest = path.join(r.ckDir, 'ckpt-00000060.safetensors')
    const bytes = fs.readFileSync(latest)
    bytes[bytes.length - 3]! ^= 0x01
    fs.writeFileSync(latest, bytes)
    const { job, logs } = await resume(r.runId, 70)
    expect(job.state).toBe('finished')
    expect(logs.join('\n')).toMatch(/Skipped damaged checkpoint ckpt-00000060\.safetensors \(.*checksum.*\)/)
    expect(logs.join('\n')).toMatch(/Resumed from ckpt-00000040\.safetensors at step 40/)
    // The damaged file is kept aside, not deleted; the run went on from 40 to 70.
    expect(fs.existsSync(path.join(r.ckDir, 'damaged', 'ckpt-00000060.safetensors'))).toBe(true)
    expect(service.runs.get(r.runId).step).toBe(70)
    expect(readMetrics(r.metrics).map((m) => m.step)).toEqual(Array.from({ length: 70 }, (_, i) => i + 1))
  })

  it('when no checkpoint verifies, resume refuses, deletes nothing and keeps the run step', async () => {
    const r = await trainedRun()
    for (const f of files(r.ckDir)) {
      const p = path.join(r.ckDir, f)
      const b = fs.readFileSync(p)
      b[b.length - 1]! ^= 0x80
      fs.writeFileSync(p, b)
    }
    const metricsBefore = fs.readFileSync(r.metrics, 'utf8')
    const { job } = await resume(r.runId, 80)
    expect(job.state).toBe('failed')
    expect(job.error).toMatch(/no checkpoint of this run verifies.*nothing was deleted/)
    expect(files(path.join(r.ckDir, 'damaged'))).toHaveLength(3)
    expect(fs.readFileSync(r.metrics, 'utf8')).toBe(metricsBefore)
    const run = service.runs.get(r.runId)
    expect(run.status).toBe('failed')
    expect(run.step).toBe(60) // not reset to 0
  })
})

describe('exports never overwrite what they should not', () => {
  let runId = ''
  let sampleId = ''
  let file = ''
  const out = tempDir('score-lab-export-')
  beforeAll(async () => {
    const r = await trainedRun()
    runId = r.runId
    file = 'ckpt-00000060.safetensors'
    const { jobId } = await ok<{ jobId: string }>('samples.start', { runId, sampler: 'euler_maruyama', steps: 10, seed: 0, count: 16, useEma: true, settings: {} })
    await rec.jobState(jobId, 'finished')
    sampleId = (await ok<{ id: string }[]>('samples.list', { runId }))[0]!.id
  })

  it('refuses a symlink at the destination and leaves its target untouched', async () => {
    const victim = path.join(out, 'victim.txt')
    fs.writeFileSync(victim, 'precious')
    const link = path.join(out, 'link.safetensors')
    fs.symlinkSync(victim, link)
    for (const overwrite of [false, true]) {
      const e = await refused('checkpoints.export', { runId, file, path: link, format: 'safetensors', overwrite })
      expect(e.message).toMatch(/it is a symbolic link, not a regular file/)
      const s = await refused('samples.export', { runId, id: sampleId, path: link, what: 'png', overwrite })
      expect(s.message).toMatch(/symbolic link/)
    }
    expect(fs.readFileSync(victim, 'utf8')).toBe('precious')
    expect(fs.lstatSync(link).isSymbolicLink()).toBe(true)
  })

  it('refuses device nodes and folders', async () => {
    for (const target of ['/dev/null', '/dev/full', out]) {
      const e = await refused('samples.export', { runId, id: sampleId, path: target, what: 'png', overwrite: true })
      expect(e.code).toBe('bad_request')
      expect(e.message).toMatch(/is (a device|a folder), not a regular file/)
    }
    expect(fs.statSync('/dev/full').isCharacterDevice()).toBe(true)
  })

  it('an existing file is replaced only with overwrite (code "exists" otherwise)', async () => {
    const target = path.join(out, 'grid.png')
    fs.writeFileSync(target, 'old')
    const e = await refused('samples.export', { runId, id: sampleId, path: target, what: 'png' })
    expect(e.code).toBe('exists')
    expect(fs.readFileSync(target, 'utf8')).toBe('old')
    await ok('samples.export', { runId, id: sampleId, path: target, what: 'png', overwrite: true })
    expect(fs.readFileSync(target).subarray(1, 4).toString()).toBe('PNG')

    // The checkpoint's config .json counts too: both are checked before either is written.
    const ck = path.join(out, 'model.safetensors')
    fs.writeFileSync(path.join(out, 'model.json'), '{"mine": true}')
    const c = await refused('checkpoints.export', { runId, file, path: ck, format: 'safetensors' })
    expect(c.code).toBe('exists')
    expect(fs.existsSync(ck)).toBe(false)
    await ok('checkpoints.export', { runId, file, path: ck, format: 'safetensors', overwrite: true })
    expect(JSON.parse(fs.readFileSync(path.join(out, 'model.json'), 'utf8')).checkpoint).toBe(file)
  })

  it('a write that fails (full disk) leaves the previous file as it was and no temp file behind', () => {
    const target = path.join(out, 'keep.png')
    fs.writeFileSync(target, 'previous')
    const spy = vi.spyOn(fs, 'writeSync').mockImplementation(() => {
      throw Object.assign(new Error('ENOSPC: no space left on device'), { code: 'ENOSPC' })
    })
    try {
      expect(() => writeOutputFile(target, new Uint8Array(1000), { overwrite: true })).toThrow(OutputRefused)
      expect(() => writeOutputFile(target, new Uint8Array(1000), { overwrite: true })).toThrow(/ENOSPC; the previous file, if any, is unchanged/)
    } finally {
      spy.mockRestore()
    }
    expect(fs.readFileSync(target, 'utf8')).toBe('previous')
    expect(fs.readdirSync(out).filter((f) => f.endsWith('.tmp'))).toEqual([])
  })
})

describe('sample --out from the CLI', () => {
  const CLI = path.resolve(__dirname, '../../bin/score-lab.mjs')
  const run = (...args: string[]): Promise<{ status: number | null; err: string }> => {
    const child = spawn(process.execPath, [CLI, '--data-dir', service.dataDir, ...args], { stdio: ['ignore', 'ignore', 'pipe'] })
    let err = ''
    child.stderr.on('data', (d) => (err += d))
    return new Promise((resolve) => child.on('close', (status) => resolve({ status, err })))
  }

  it('refuses a device or an existing file before sampling, and replaces a file only with --force', async () => {
    const r = await trainedRun()
    const args = ['sample', '--checkpoint', r.runId, '--sampler', 'em', '--steps', '5', '--n', '8']
    const full = await run(...args, '--out', '/dev/full')
    expect(full.status).not.toBe(0)
    expect(full.err).toMatch(/Refusing to write to \/dev\/full: it is a device, not a regular file/)
    expect(fs.statSync('/dev/full').isCharacterDevice()).toBe(true)

    const out = path.join(tempDir('score-lab-out-'), 'grid.png')
    fs.writeFileSync(out, 'previous')
    const exists = await run(...args, '--out', out)
    expect(exists.status).not.toBe(0)
    expect(exists.err).toMatch(/grid\.png already exists; pass --force to replace it/)
    expect(fs.readFileSync(out, 'utf8')).toBe('previous')
    // Refused before any sampling was spent on it: no new sample in the run.
    expect(await ok<unknown[]>('samples.list', { runId: r.runId })).toHaveLength(0)

    const forced = await run(...args, '--out', out, '--force')
    expect(forced.status).toBe(0)
    expect(fs.readFileSync(out).subarray(1, 4).toString()).toBe('PNG')
    // No temp file left: the grid and, for a toy run, the true data drawn the same way beside it.
    expect(fs.readdirSync(path.dirname(out)).sort()).toEqual(['grid.png', 'grid.reference.png'])
  }, 180_000)
})

describe('the run record stays true', () => {
  it("a sampling job does not overwrite the run's training backend", async () => {
    const r = await trainedRun()
    service.runs.update(r.runId, { backend: 'tensorflow (GPU 0: the training box)' })
    const { jobId } = await ok<{ jobId: string }>('samples.start', { runId: r.runId, sampler: 'euler_maruyama', steps: 5, seed: 0, count: 8, useEma: true, settings: {} })
    await rec.jobState(jobId, 'finished')
    expect(service.runs.get(r.runId).backend).toBe('tensorflow (GPU 0: the training box)')
  })

  it('a damaged run.json is named in the error, never quoted, and the run can still be deleted', async () => {
    const r = await trainedRun()
    const file = path.join(r.dir, 'run.json')
    fs.writeFileSync(file, 'SECRET-TOKEN-abc123 {not json')
    const e = await refused('runs.get', { runId: r.runId })
    expect(e.message).toContain(file)
    expect(e.message).not.toMatch(/SECRET|abc123/)
    fs.writeFileSync(file, JSON.stringify({ id: r.runId, name: 'SECRET-NAME', status: 42 }))
    const shape = await refused('runs.get', { runId: r.runId })
    expect(shape.message).toContain(file)
    expect(shape.message).not.toMatch(/SECRET/)
    await ok('runs.delete', { runId: r.runId })
    expect(fs.existsSync(r.dir)).toBe(false)
  })
})
