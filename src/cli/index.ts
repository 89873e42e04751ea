// `score-lab`: the command-line shell over the same lab service (in-process).
// Every command exits non-zero with a one-line reason on bad input; --json makes the last
// line of stdout one JSON object for machines.
import { parseArgs } from 'node:util'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { createLabService } from '../lab/service'
import { createDispatch } from '../lab/dispatch'
import { defaultDataDir } from '../lab/data-dir'
import { parseBackendName, selectBackend } from '../engine/backend/select'
import { startServer } from '../server/server'
import type { ProcedureName } from '../shared/contract'

const here = path.dirname(fileURLToPath(import.meta.url))
const rendererDir = path.resolve(here, '../../out/renderer')

const USAGE = `Usage: score-lab <command> [options]

Commands:
  serve [--host H] [--port P]   Serve the lab to a browser (127.0.0.1 by default; prints the URL with its token)
  doctor                        Diagnose the compute setup (backends, CUDA/cuDNN, Vulkan) with the fix for each problem
  info                          Backend, device, versions and the data folder

Global options:
  --data-dir DIR    Data folder (default: SCORE_LAB_HOME, else the app's per-user folder)
  --backend NAME    Force a backend: tensorflow, webgpu, wasm, cpu (same as SCORE_LAB_BACKEND)
  --json            Print one JSON object as the last line of stdout
  -h, --help        Show this help`

export class UsageError extends Error {}

export async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: {
      'data-dir': { type: 'string' },
      backend: { type: 'string' },
      json: { type: 'boolean', default: false },
      host: { type: 'string' },
      port: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false }
    }
  })
  const command = positionals[0]
  if (values.help || !command) {
    console.log(USAGE)
    return command || values.help ? 0 : 2
  }
  const dataDir = path.resolve(values['data-dir'] ?? defaultDataDir())
  const force = parseBackendName(values.backend)
  const service = createLabService({ dataDir, shell: command === 'serve' ? 'browser' : 'cli', backend: () => selectBackend({ force }) })
  const dispatch = createDispatch(service.handlers)
  const call = async <T>(name: ProcedureName, input: unknown = {}): Promise<T> => {
    const env = await dispatch(name, input)
    if (!env.ok) throw new Error(env.error.message)
    return env.result as T
  }

  switch (command) {
    case 'info': {
      const info = await call<Record<string, unknown>>('system.info')
      if (values.json) console.log(JSON.stringify(info))
      else console.log(JSON.stringify(info, null, 2))
      return 0
    }
    case 'doctor': {
      const report = await call<{ ok: boolean; checks: { name: string; ok: boolean; detail: string; fix?: string }[]; backend: { name: string; device: string } }>('system.doctor')
      if (values.json) {
        console.log(JSON.stringify(report))
      } else {
        console.log(`Backend in use: ${report.backend.name} — ${report.backend.device}\n`)
        for (const c of report.checks) {
          console.log(`${c.ok ? '✓' : '✗'} ${c.name}: ${c.detail}`)
          if (!c.ok && c.fix) console.log(`    fix: ${c.fix}`)
        }
      }
      return report.ok ? 0 : 1
    }
    case 'serve': {
      const port = values.port === undefined ? 5170 : Number(values.port)
      if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`--port must be an integer from 0 to 65535, got "${values.port}"`)
      const server = await startServer({ service, host: values.host ?? '127.0.0.1', port, staticDir: rendererDir })
      console.log(`Score Lab (browser mode) is serving on ${server.url}`)
      console.log(`Open: ${server.openUrl}`)
      console.log(`Data folder: ${dataDir}`)
      if ((values.host ?? '127.0.0.1') !== '127.0.0.1' && values.host !== 'localhost') {
        console.log('Warning: listening beyond this machine; anyone who has the token can use the lab. Prefer an SSH tunnel.')
      }
      const info = await call<{ backend: { name: string; device: string } }>('system.info')
      console.log(`Backend: ${info.backend.name} — ${info.backend.device}`)
      if (values.json) console.log(JSON.stringify({ url: server.url, openUrl: server.openUrl, dataDir, backend: info.backend.name }))
      await new Promise<void>((resolve) => {
        const stop = () => void server.close().then(resolve)
        process.once('SIGINT', stop)
        process.once('SIGTERM', stop)
      })
      return 0
    }
    default:
      throw new UsageError(`Unknown command "${command}". Run score-lab --help for the list.`)
  }
}

export async function run(argv: string[]): Promise<void> {
  try {
    process.exitCode = await main(argv)
  } catch (err) {
    const msg = err instanceof Error ? err.message : String(err)
    console.error(`score-lab: ${msg.split('\n')[0]}`)
    process.exitCode = 2
  }
}
