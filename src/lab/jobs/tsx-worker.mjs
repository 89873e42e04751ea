// Worker bootstrap for plain Node (CLI, browser-mode server, tests): registers tsx so the
// worker can run the TypeScript entry. Electron's build bundles the entry instead.
import { register } from 'tsx/esm/api'
import { workerData } from 'node:worker_threads'

register()
await import(workerData.__entry)
