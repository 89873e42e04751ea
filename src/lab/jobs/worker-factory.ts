import { Worker } from 'node:worker_threads'
import { fileURLToPath } from 'node:url'

export type WorkerFactory = () => Worker

/** Workers for plain Node: the TypeScript entry through the tsx bootstrap. */
export function tsxWorkerFactory(): WorkerFactory {
  const boot = fileURLToPath(new URL('./tsx-worker.mjs', import.meta.url))
  const entry = new URL('../worker/entry.ts', import.meta.url).href
  return () => new Worker(boot, { workerData: { __entry: entry }, resourceLimits: { maxOldGenerationSizeMb: 8192 } })
}
