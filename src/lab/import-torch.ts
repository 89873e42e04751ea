// Brings a model trained with the PyTorch tutorial into the lab: its state_dict, saved as
// safetensors, becomes a new run with one checkpoint at step 0 that every sampler can use
// (and that training can continue from).
import fs from 'node:fs'
import path from 'node:path'
import { importTorchScoreNet, TorchImportError } from '../engine/nets/torch-import'
import { createSde } from '../engine/sde'
import { Trainer } from '../engine/train'
import { saveCheckpoint } from '../engine/checkpoint/checkpoint'
import { SafetensorsError } from '../engine/io/safetensors'
import { presetFor } from './catalog'
import { getDataset } from './datasets/registry'
import { HandlerError } from './dispatch'
import type { RunStore } from './runs/store'
import { checkpointFileName, writeManifest } from './runs/checkpoint-folder'
import type { RunSummary, TrainConfig } from '../shared/contract'

export async function importTorchRun(runs: RunStore, file: string, dataset: string, name?: string): Promise<RunSummary> {
  const preset = dataset.startsWith('toy-') ? undefined : presetFor(dataset)
  if (!preset) throw new HandlerError({ code: 'bad_request', message: `Import needs an image data set (mnist, fashion-mnist or cifar10), not "${dataset}".` })
  let bytes: Uint8Array
  try {
    bytes = new Uint8Array(fs.readFileSync(file))
  } catch (err) {
    throw new HandlerError({ code: 'bad_request', message: `Cannot read ${file}: ${(err as Error).message}` })
  }
  // The tutorial's SDE: the network divides by its std(t), so it is part of the model.
  const config: TrainConfig = { ...preset.config, model: 'scorenet', sde: { name: 'vesde_tutorial', params: {} }, ema: 0 }
  const sde = createSde({ name: 'vesde_tutorial' })
  const size: [number, number] = dataset === 'cifar10' ? [32, 32] : [28, 28]
  let imported
  try {
    imported = importTorchScoreNet(bytes, { sde, size, source: file })
  } catch (err) {
    if (err instanceof TorchImportError || err instanceof SafetensorsError) throw new HandlerError({ code: 'bad_request', message: err.message })
    throw err
  }
  // A class-conditional state_dict: its classes must be the data set's, and the run says it is conditional.
  const classes = imported.model.classes
  if (classes > 0) {
    const info = getDataset(dataset)
    const want = info?.kind === 'image' ? info.classNames.length : 0
    if (classes !== want) {
      imported.model.dispose()
      throw new HandlerError({ code: 'bad_request', message: `${file} is class-conditional with ${classes} classes, but ${dataset} has ${want}.` })
    }
    config.conditional = true
  }
  const trainer = new Trainer({ model: imported.model, sde, config: { lr: config.lr, batchSize: config.batchSize, seed: config.seed }, dataShape: [...imported.model.cfg.shape] })
  const run = runs.create(config, name ?? `Imported ${path.basename(file)}`, null)
  try {
    const ckFile = checkpointFileName(0)
    const target = path.join(runs.checkpointsDir(run.id), ckFile)
    await saveCheckpoint(target, trainer)
    writeManifest(runs.checkpointsDir(run.id), [{ file: ckFile, step: 0, loss: null, time: Date.now(), bytes: fs.statSync(target).size, best: false, hasEma: false }])
    return runs.update(run.id, { status: 'stopped', notes: `Imported from PyTorch weights ${file}` })
  } catch (err) {
    runs.delete(run.id)
    throw err
  } finally {
    trainer.dispose()
    imported.model.dispose()
  }
}
