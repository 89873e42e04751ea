// The lab service: implements every procedure of the contract on top of the engine. It
// knows nothing of Electron, Vue or transports; shells hand its handlers to createDispatch.
import os from 'node:os'
import { createRequire } from 'node:module'
import { selectBackend } from '../engine/backend/select'
import type { BackendInfo } from '../engine/backend/types'
import { API_VERSION, type SystemInfo } from '../shared/contract'
import { ensureDataDir } from './data-dir'
import { diagnose } from './doctor'
import type { Handlers } from './dispatch'
import { EventBus } from './events'

const require = createRequire(import.meta.url)

export interface LabServiceOptions {
  dataDir: string
  shell: SystemInfo['shell']
  /** Electron/Chrome versions when running inside Electron. */
  extraVersions?: { electron?: string; chrome?: string }
  /** Injected for tests; defaults to selecting the backend in this process. */
  backend?: () => Promise<BackendInfo>
}

export interface LabService {
  handlers: Handlers
  events: EventBus
  dataDir: string
  close(): Promise<void>
}

export function appVersion(): string {
  return (require('../../package.json') as { version: string }).version
}

export function createLabService(opts: LabServiceOptions): LabService {
  const dataDir = ensureDataDir(opts.dataDir)
  const events = new EventBus()
  let backendPromise: Promise<BackendInfo> | null = null
  const backend = () => (backendPromise ??= (opts.backend ?? (() => selectBackend()))())

  const handlers: Handlers = {
    'system.info': async () => ({
      apiVersion: API_VERSION,
      appVersion: appVersion(),
      shell: opts.shell,
      backend: await backend(),
      versions: {
        node: process.versions.node,
        tfjs: (require('@tensorflow/tfjs-core/package.json') as { version: string }).version,
        ...opts.extraVersions
      },
      dataDir,
      platform: `${process.platform}-${process.arch}`,
      cpus: os.availableParallelism?.() ?? os.cpus().length
    }),
    'system.doctor': async () => diagnose(await backend(), dataDir),
    'system.ping': async ({ message }) => ({ message, receivedAt: Date.now() })
  }

  return { handlers, events, dataDir, close: async () => {} }
}
