// Loads a run's checkpoint as a ready-to-sample score function (EMA weights when asked and present).
import path from 'node:path'
import { loadCheckpoint } from '../../engine/checkpoint/checkpoint'
import { Trainer } from '../../engine/train'
import { tf } from '../../engine/tf'
import type { ScoreFn, Sde } from '../../engine/sde/types'
import type { ScoreModel } from '../../engine/nets/types'
import { viewCheckpoints } from '../runs/checkpoint-folder'
import type { CheckpointInfo } from '../../shared/contract'

export interface LoadedModel {
  checkpoint: CheckpointInfo
  sde: Sde
  shape: number[]
  scoreFn: ScoreFn
  /** The network itself (class-conditional runs are guided through it). */
  model: ScoreModel
  usedEma: boolean
  dispose(): void
}

/** `ckDir`: the run's checkpoints folder (RunPaths.checkpoints); `file`: one of its checkpoints, else the newest. */
export async function loadRunModel(ckDir: string, file: string | undefined, useEma: boolean): Promise<LoadedModel> {
  const cks = viewCheckpoints(ckDir).checkpoints
  if (cks.length === 0) throw new Error(`${ckDir} lists no checkpoint`)
  const checkpoint = file ? cks.find((c) => c.file === file) : cks.reduce((a, b) => (b.step > a.step ? b : a))
  if (!checkpoint) throw new Error(`no checkpoint "${file}" in ${ckDir}`)
  const state = await loadCheckpoint(path.join(ckDir, checkpoint.file))
  const trainer = Trainer.fromState(state)
  const usedEma = useEma && state.ema !== null
  if (usedEma) {
    // Sampling never trains, so the EMA shadows simply replace the live weights.
    const shadow = trainer.samplingParams()
    tf.tidy(() => {
      for (const [n, p] of trainer.model.params) p.assign(shadow.get(n)!)
    })
  }
  const model = trainer.model
  return {
    checkpoint,
    sde: trainer.sde,
    shape: state.model.shape,
    scoreFn: (x, t) => model.score(x, t),
    model,
    usedEma,
    dispose: () => {
      trainer.dispose()
      model.dispose()
    }
  }
}
