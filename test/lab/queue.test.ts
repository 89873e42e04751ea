// The job queue with scripted fake workers: lanes, first-come order, crashes and a failing
// worker factory, without tfjs (fast and deterministic).
import { EventEmitter } from 'node:events'
import type { Worker } from 'node:worker_threads'
import { describe, expect, it } from 'vitest'
import { JobManager, MAX_FINISHED_JOBS, MAX_QUEUED_JOBS } from '../../src/lab/jobs/manager'
import { EventBus } from '../../src/lab/events'
import { RunStore } from '../../src/lab/runs/store'
import { RunLifecycle } from '../../src/lab/runs/run-lifecycle'
import { RunLocks } from '../../src/lab/runs/run-lock'
import { PRESETS } from '../../src/lab/catalog'
import type { FromWorker, ToWorker } from '../../src/lab/jobs/protocol'
import type { LabEvent } from '../../src/shared/contract'
import { tempDir } from '../helpers/service'

class FakeWorker extends EventEmitter {
  received: ToWorker[] = []
  terminated = false
  postMessage(msg: ToWorker) {
    this.received.push(msg)
  }
  send(msg: FromWorker) {
    this.emit('message', msg)
  }
  terminate() {
    this.terminated = true
    return Promise.resolve(0)
  }
}

function setup(factory?: () => Worker) {
  const workers: FakeWorker[] = []
  const dataDir = tempDir()
  const runs = new RunStore(dataDir)
  const events = new EventBus()
  const jobs = new JobManager({
    events,
    workerFactory:
      factory ??
      (() => {
        const w = new FakeWorker()
        workers.push(w)
        return w as unknown as Worker
      })
  })
  // The run lifecycle keeps run.json in step with its training job, as in the lab service.
  new RunLifecycle(runs, jobs, new RunLocks(runs.root, 'test'), events)
  const config = PRESETS[0]!.config
  const train = () => {
    const run = runs.create(config, undefined, null)
    return jobs.submit({ kind: 'train', runId: run.id, dataDir, config, resume: false })
  }
  const sample = () => {
    const run = runs.create(config, undefined, null)
    return jobs.submit({ kind: 'sample', runId: run.id, dataDir, request: { runId: run.id, sampler: 'ode', seed: 0, count: 4, useEma: false } })
  }
  return { jobs, workers, train, sample, runs, events }
}

describe('job queue', () => {
  it('runs one training job at a time, beside one sampling job', () => {
    const { jobs, workers, train, sample } = setup()
    const a = train()
    const b = train()
    const s = sample()
    expect(jobs.get(a.id).state).toBe('running')
    expect(jobs.get(b.id).state).toBe('queued') // the device is busy training
    expect(jobs.get(s.id).state).toBe('running') // sampling has its own lane
    expect(workers).toHaveLength(2)
    workers[0]!.send({ type: 'done', outcome: 'finished', step: 10, trainMs: 5 })
    expect(jobs.get(a.id).state).toBe('finished')
    expect(jobs.get(b.id).state).toBe('running')
    expect(workers[0]!.terminated).toBe(true)
  })

  it('a crashed worker fails its job with the reason and the next job starts', () => {
    const { jobs, workers, train, runs } = setup()
    const a = train()
    const b = train()
    workers[0]!.emit('error', Object.assign(new Error('Worker terminated due to reaching memory limit: JS heap out of memory'), { code: 'ERR_WORKER_OUT_OF_MEMORY' }))
    expect(jobs.get(a.id)).toMatchObject({ state: 'failed', error: expect.stringMatching(/ran out of memory.*smaller batch/) })
    expect(runs.get(a.runId!).status).toBe('failed')
    expect(jobs.get(b.id).state).toBe('running')
    workers[1]!.emit('exit', 1)
    expect(jobs.get(b.id)).toMatchObject({ state: 'failed', error: expect.stringMatching(/exited unexpectedly/) })
  })

  it('a worker that cannot start fails its job and does not block the queue', () => {
    let calls = 0
    const { jobs, train } = setup(() => {
      calls++
      if (calls === 1) throw new Error('EAGAIN: cannot create thread')
      return new FakeWorker() as unknown as Worker
    })
    const a = train()
    const b = train()
    expect(jobs.get(a.id)).toMatchObject({ state: 'failed', error: expect.stringMatching(/Could not start a worker thread: EAGAIN/) })
    expect(jobs.get(b.id).state).toBe('running')
  })

  it('cancelling a queued job removes it without starting a worker', () => {
    const { jobs, workers, train } = setup()
    train()
    const b = train()
    jobs.cancel(b.id)
    expect(jobs.get(b.id).state).toBe('cancelled')
    expect(workers).toHaveLength(1)
    expect(() => jobs.cancel(b.id)).toThrow(/already cancelled/)
  })

  it('pause and resume go to the worker; pausing a job that is not running is refused', () => {
    const { jobs, workers, train, sample } = setup()
    const a = train()
    jobs.pause(a.id)
    expect(workers[0]!.received.at(-1)).toEqual({ type: 'pause' })
    workers[0]!.send({ type: 'state', state: 'paused' })
    expect(jobs.get(a.id).state).toBe('paused')
    jobs.resume(a.id)
    expect(workers[0]!.received.at(-1)).toEqual({ type: 'resume' })
    const s = sample()
    expect(() => jobs.pause(s.id)).toThrow(/Only training jobs can be paused/)
  })

  it(`bounds the queue at ${MAX_QUEUED_JOBS} waiting jobs, releasing the refused job's run lock`, () => {
    const { jobs, runs } = setup()
    const config = PRESETS[0]!.config
    const runId = runs.create(config, undefined, null).id
    const spec = { kind: 'train' as const, runId, dataDir: '/nowhere', config, resume: false }
    jobs.submit(spec) // running
    for (let i = 0; i < MAX_QUEUED_JOBS; i++) jobs.submit(spec)
    let released = 0
    const lease = { holder: { pid: 1, host: 'h', label: 'l', purpose: 'p', since: 0 }, release: async () => void released++ }
    expect(() => jobs.submit(spec, { lease })).toThrow(new RegExp(`${MAX_QUEUED_JOBS} jobs are already waiting`))
    expect(released).toBe(1)
  })

  it(`forgets finished jobs beyond the newest ${MAX_FINISHED_JOBS}`, () => {
    const { jobs, workers, sample } = setup()
    const ids: string[] = []
    for (let i = 0; i < MAX_FINISHED_JOBS + 30; i++) {
      ids.push(sample().id)
      workers.at(-1)!.send({ type: 'done', outcome: 'finished', step: 0, trainMs: 0 })
    }
    expect(jobs.list()).toHaveLength(MAX_FINISHED_JOBS)
    expect(() => jobs.get(ids[0]!)).toThrow(/No job/)
    expect(jobs.get(ids.at(-1)!).state).toBe('finished')
  })

  it('a queued training job is on its run from the start, shows its place in line, moves, and cancels cleanly', () => {
    const { jobs, workers, train, runs } = setup()
    const a = train()
    const b = train()
    const c = train()
    // The run knows its queued job at once (so the Runs table can cancel it).
    expect(runs.get(b.runId!)).toMatchObject({ status: 'queued', jobId: b.id })
    expect([jobs.get(b.id).position, jobs.get(c.id).position]).toEqual([1, 2])
    expect(jobs.get(a.id).position ?? null).toBeNull()
    jobs.move(c.id, 'earlier')
    expect([jobs.get(c.id).position, jobs.get(b.id).position]).toEqual([1, 2])
    jobs.move(c.id, 'earlier') // already first: no change
    expect(jobs.get(c.id).position).toBe(1)
    expect(() => jobs.move(a.id, 'later')).toThrow(/not waiting in the queue/)
    // Cancelling a waiting run never starts it and leaves the run resumable.
    jobs.cancel(b.id)
    expect(runs.get(b.runId!)).toMatchObject({ status: 'stopped', jobId: null })
    expect(jobs.get(c.id).position).toBe(1)
    workers[0]!.send({ type: 'done', outcome: 'finished', step: 10, trainMs: 5 })
    expect(jobs.get(c.id).state).toBe('running') // moved ahead of b, and b was cancelled
    expect(workers).toHaveLength(2)
  })

  it('closing the lab interrupts a training run (resumable), never fails it, and starts nothing queued', async () => {
    const { jobs, workers, train, runs } = setup()
    const a = train()
    const b = train()
    await jobs.shutdown()
    expect(runs.get(a.runId!)).toMatchObject({ status: 'interrupted', jobId: null, error: null })
    expect(jobs.get(a.id).state).toBe('cancelled')
    expect(jobs.get(b.id).state).toBe('cancelled')
    workers[0]!.emit('exit', 1) // the terminated worker's exit changes nothing
    expect(runs.get(a.runId!).status).toBe('interrupted')
    expect(workers).toHaveLength(1)
  })

  it('passes the kept checkpoint list on with the checkpoint event, and the run lifecycle keeps run.json in step', () => {
    const { jobs, workers, train, sample, runs, events } = setup()
    const seen: LabEvent[] = []
    events.subscribe((e) => seen.push(e))
    const a = train()
    const ck = (step: number, loss: number) => ({ file: `ckpt-${step}.safetensors`, step, loss, time: 0, bytes: 1, best: false, hasEma: false })
    workers[0]!.send({ type: 'backend', name: 'cpu', device: 'test' })
    workers[0]!.send({ type: 'checkpoint', checkpoint: ck(20, 0.5), checkpoints: [ck(10, 0.7), ck(20, 0.5)] })
    expect(seen.find((e) => e.type === 'checkpoint')).toMatchObject({ runId: a.runId, checkpoint: { step: 20 }, checkpoints: [{ step: 20 }, { step: 10 }] })
    expect(runs.get(a.runId!)).toMatchObject({ status: 'running', jobId: a.id, step: 20, bestLoss: 0.5, backend: 'cpu (test)', owner: { pid: process.pid } })
    workers[0]!.send({ type: 'done', outcome: 'finished', step: 20, trainMs: 5, result: { kind: 'train', outcome: 'finished', step: 20, trainMs: 5 } })
    expect(jobs.get(a.id)).toMatchObject({ state: 'finished', result: { kind: 'train', step: 20 } })
    expect(runs.get(a.runId!)).toMatchObject({ status: 'finished', jobId: null, owner: null, step: 20, trainMs: 5 })
    // A sampling job's messages never touch its run's status.
    const s = sample()
    workers[1]!.send({ type: 'backend', name: 'wasm', device: 'x' })
    workers[1]!.send({ type: 'failed', error: 'boom', step: 0, trainMs: 0 })
    expect(jobs.get(s.id)).toMatchObject({ state: 'failed', error: 'boom' })
    expect(runs.get(s.runId!)).toMatchObject({ status: 'queued', error: null, backend: null })
  })
})
