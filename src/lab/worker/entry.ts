// The worker thread's entry: the only lab file that touches worker_threads. It receives one
// job spec, runs it, and relays pause/resume/stop/cancel to it.
import { parentPort } from 'node:worker_threads'
import type { FromWorker, JobControl, ToWorker } from '../jobs/protocol'
import { runTrainJob } from './train-job'
import { runSampleJob } from './sample-job'
import { runLikelihoodJob } from './likelihood-job'
import { runSweepJob } from './sweep-job'
import { runClassifierJob } from './classifier-job'
import { runProbeJob } from './probe-job'
import { runInterpolateJob } from './interpolate-job'

const port = parentPort
if (!port) throw new Error('lab/worker/entry.ts must run in a worker thread')

let paused: { promise: Promise<void>; release: () => void } | null = null
let stop = false
let cancel = false

const control: JobControl = {
  isPaused: () => paused !== null,
  gate: () => paused?.promise ?? Promise.resolve(),
  stopRequested: () => stop,
  cancelRequested: () => cancel
}

const post = (msg: FromWorker) => port.postMessage(msg)

port.on('message', (msg: ToWorker) => {
  switch (msg.type) {
    case 'start':
      void run(msg)
      break
    case 'pause':
      if (!paused) {
        let release!: () => void
        const promise = new Promise<void>((r) => (release = r))
        paused = { promise, release }
      }
      break
    case 'resume':
      paused?.release()
      paused = null
      break
    case 'stop':
      stop = true
      paused?.release()
      paused = null
      break
    case 'cancel':
      cancel = true
      paused?.release()
      paused = null
      break
  }
})

async function run(msg: Extract<ToWorker, { type: 'start' }>): Promise<void> {
  try {
    post({ type: 'state', state: 'running' })
    const spec = msg.spec
    if (spec.kind === 'train') await runTrainJob(spec, post, control)
    else if (spec.kind === 'sample' || spec.kind === 'compare') await runSampleJob(spec, post, control)
    else if (spec.kind === 'sweep') await runSweepJob(spec, post, control)
    else if (spec.kind === 'classifier') await runClassifierJob(spec, post, control)
    else if (spec.kind === 'probe') await runProbeJob(spec, post)
    else if (spec.kind === 'interpolate') await runInterpolateJob(spec, post, control)
    else await runLikelihoodJob(spec, post, control)
  } catch (err) {
    post({ type: 'failed', error: (err as Error).message, step: null, trainMs: null })
  }
}
