// Checkpoint management: delete one, or export it (our safetensors + a JSON config beside it,
// or the PyTorch tutorial state_dict layout that PyTorch tools load directly).
import fs from 'node:fs'
import path from 'node:path'
import { loadCheckpoint } from '../engine/checkpoint/checkpoint'
import { Trainer } from '../engine/train'
import { encodeTorchSafetensors } from '../engine/nets/torch-import'
import type { TorchCompatibleModel } from '../engine/nets/scorenet'
import { writeFileAtomicSync } from '../engine/io/atomic-write'
import { HandlerError, type Handlers } from './dispatch'
import type { JobManager } from './jobs/manager'
import { writeManifest, type RunStore } from './runs/store'

type CheckpointHandlers = Pick<Handlers, 'checkpoints.delete' | 'checkpoints.export'>

export function checkpointHandlers(runs: RunStore, jobs: JobManager): CheckpointHandlers {
  const find = (runId: string, file: string) => {
    const cks = runs.checkpoints(runId)
    const ck = cks.find((c) => c.file === file)
    if (!ck) throw new HandlerError({ code: 'not_found', message: `Run ${runId} has no checkpoint "${file}".` })
    return { ck, cks }
  }
  return {
    'checkpoints.delete': async ({ runId, file }) => {
      const { cks } = find(runId, file)
      if (jobs.activeJobForRun(runId)) throw new HandlerError({ code: 'conflict', message: `Run ${runId} is training; stop it before deleting checkpoints.` })
      const dir = runs.checkpointsDir(runId)
      // Manifest first: a crash in between leaves an unlisted file, which the next job removes.
      writeManifest(dir, cks.filter((c) => c.file !== file))
      fs.rmSync(path.join(dir, file), { force: true })
      return runs.checkpoints(runId)
    },
    'checkpoints.export': async ({ runId, file, path: target, format }) => {
      const { ck } = find(runId, file)
      const run = runs.get(runId)
      const out = path.resolve(target)
      if (!fs.existsSync(path.dirname(out))) throw new HandlerError({ code: 'bad_request', message: `Folder ${path.dirname(out)} does not exist.` })
      const src = path.join(runs.checkpointsDir(runId), file)
      const config = { run: run.name, runId, checkpoint: file, step: ck.step, loss: ck.loss, config: run.config, format }
      try {
        if (format === 'safetensors') {
          writeFileAtomicSync(out, fs.readFileSync(src))
        } else {
          if (run.config.model !== 'scorenet') {
            throw new HandlerError({ code: 'bad_request', message: `Only "scorenet" has a PyTorch counterpart (the tutorial's ScoreNet); this run uses "${run.config.model}".` })
          }
          const trainer = Trainer.fromState(await loadCheckpoint(src))
          try {
            // The EMA weights are what one samples with; export those when the run has them.
            if (run.config.ema > 0) {
              const shadow = trainer.samplingParams()
              for (const [n, p] of trainer.model.params) p.assign(shadow.get(n)!)
            }
            writeFileAtomicSync(out, encodeTorchSafetensors(trainer.model as TorchCompatibleModel, { step: String(ck.step) }))
          } finally {
            trainer.dispose()
            trainer.model.dispose()
          }
        }
        const configFile = out.replace(/\.safetensors$/, '') + '.json'
        writeFileAtomicSync(configFile, JSON.stringify(config, null, 2) + '\n')
        return { path: out, configPath: configFile, bytes: fs.statSync(out).size }
      } catch (err) {
        if (err instanceof HandlerError) throw err
        throw new HandlerError({ code: 'bad_request', message: `Could not export to ${out}: ${(err as Error).message}` })
      }
    }
  }
}
