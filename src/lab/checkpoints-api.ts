// Checkpoint management: delete one, or export it (our safetensors + a JSON config beside it,
// or the PyTorch tutorial state_dict layout that PyTorch tools load directly).
import fs from 'node:fs'
import path from 'node:path'
import { loadCheckpoint } from '../engine/checkpoint/checkpoint'
import type { TorchCompatibleModel } from '../engine/nets/types'
import { checkOutputPath, writeOutputFile } from '../engine/io/output-file'
import { HandlerError, type Handlers } from './dispatch'
import type { JobManager } from './jobs/manager'
import type { RunStore } from './runs/store'
import { lockOrRefuse, type RunLocks } from './runs/run-lock'
import { dropCheckpoints } from './runs/checkpoint-folder'
import { outputError } from './output-errors'

type CheckpointHandlers = Pick<Handlers, 'checkpoints.delete' | 'checkpoints.export'>

export function checkpointHandlers(runs: RunStore, jobs: JobManager, locks: RunLocks): CheckpointHandlers {
  const find = (runId: string, file: string) => {
    const cks = runs.checkpoints(runId)
    const ck = cks.find((c) => c.file === file)
    if (!ck) throw new HandlerError({ code: 'not_found', message: `Run ${runId} has no checkpoint "${file}".` })
    return { ck, cks }
  }
  return {
    'checkpoints.delete': async ({ runId, file }) => {
      const run = runs.get(runId)
      find(runId, file)
      if (jobs.activeJobForRun(runId)) throw new HandlerError({ code: 'conflict', message: `Run "${run.name}" is training; stop it before deleting checkpoints.` })
      // No trainer and no sampler in any process while the folder changes.
      const lease = await lockOrRefuse(() => locks.forDelete(runId), `delete a checkpoint of run "${run.name}"`)
      try {
        const { cks } = find(runId, file) // re-read under the lock
        dropCheckpoints(runs.checkpointsDir(runId), [file], cks)
      } finally {
        await lease.release()
      }
      return runs.checkpoints(runId)
    },
    'checkpoints.export': async ({ runId, file, path: target, format, overwrite }) => {
      const { ck } = find(runId, file)
      const run = runs.get(runId)
      const opts = { overwrite: overwrite ?? false }
      const src = path.join(runs.checkpointsDir(runId), file)
      const config = { run: run.name, runId, checkpoint: file, step: ck.step, loss: ck.loss, config: run.config, format }
      try {
        const out = checkOutputPath(target, opts)
        const configFile = out.replace(/\.safetensors$/, '') + '.json'
        checkOutputPath(configFile, opts) // both refused before either is written
        let bytes: Uint8Array
        if (format === 'safetensors') {
          bytes = fs.readFileSync(src)
        } else {
          if (run.config.model !== 'scorenet') {
            throw new HandlerError({ code: 'bad_request', message: `Only "scorenet" has a PyTorch counterpart (the tutorial's ScoreNet); this run uses "${run.config.model}".` })
          }
          const [{ Trainer }, { encodeTorchSafetensors }] = await Promise.all([import('../engine/train'), import('../engine/nets/torch-import')])
          const trainer = Trainer.fromState(await loadCheckpoint(src))
          try {
            // The EMA weights are what one samples with; export those when the run has them.
            if (run.config.ema > 0) {
              const shadow = trainer.samplingParams()
              for (const [n, p] of trainer.model.params) p.assign(shadow.get(n)!)
            }
            bytes = await encodeTorchSafetensors(trainer.model as TorchCompatibleModel, { step: String(ck.step) })
          } finally {
            trainer.dispose()
            trainer.model.dispose()
          }
        }
        writeOutputFile(out, bytes, opts)
        writeOutputFile(configFile, JSON.stringify(config, null, 2) + '\n', opts)
        return { path: out, configPath: configFile, bytes: bytes.byteLength }
      } catch (err) {
        throw outputError(err, target)
      }
    }
  }
}
