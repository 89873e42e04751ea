// The names of every API procedure, free of zod so the sandboxed preload can import it
// without bundling a schema library. contract.ts pairs each name with its schemas and a
// test checks the two lists are the same.
export const PROCEDURE_NAMES = [
  'system.info',
  'engine.catalog',
  'datasets.list',
  'datasets.get',
  'datasets.import',
  'datasets.verify',
  'datasets.delete',
  'datasets.stats',
  'datasets.preview',
  'datasets.image',
  'runs.list',
  'runs.get',
  'runs.metrics',
  'runs.preview',
  'runs.previews',
  'runs.scoreField',
  'runs.start',
  'runs.startGroup',
  'runs.resume',
  'runs.estimate',
  'runs.update',
  'runs.delete',
  'runs.importTorch',
  'runs.exportTorch',
  'runs.attach',
  'samples.start',
  'samples.compare',
  'samples.sweep',
  'samples.interpolate',
  'samples.list',
  'samples.image',
  'samples.export',
  'likelihood.start',
  'runs.likelihoods',
  'checkpoints.delete',
  'checkpoints.export',
  'classifiers.list',
  'classifiers.train',
  'classifiers.trainGuidance',
  'classifiers.guidance',
  'jobs.list',
  'jobs.pause',
  'jobs.resume',
  'jobs.stop',
  'jobs.cancel',
  'jobs.move',
  'system.doctor',
  'system.remeasureBackends',
  'system.ping'
] as const

export type ProcedureName = (typeof PROCEDURE_NAMES)[number]

/** The one push channel for streamed events (IPC channel and WebSocket frame type). */
export const EVENT_CHANNEL = 'lab:event'
