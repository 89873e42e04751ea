// What every CLI command gets: the lab service over the chosen data folder, a typed call
// that throws the server's message, and output helpers that respect --json.
import path from 'node:path'
import type { LabService } from '../lab/service'
import { createDispatch, typedDispatch } from '../lab/dispatch'
import { backendTimingsPath, defaultDataDir } from '../lab/data-dir'
import { parseBackendName } from '../engine/backend/types'
import { escapeControlChars, type ProcInput, type ProcOutput, type ProcedureName, type SystemInfo } from '../shared/contract'
import { UsageError } from './usage-error'

export { UsageError }

export interface Cli {
  service: LabService
  json: boolean
  call<P extends ProcedureName>(name: P, input: ProcInput<P>): Promise<ProcOutput<P>>
  /** Human output (stderr when --json, so stdout stays machine-readable). */
  say(line: string): void
  /** The final machine-readable result: one JSON line on stdout with --json. */
  result(value: unknown, human?: string): void
}

/** The lab service is imported here, when a command runs, not when the CLI starts (--help needs none). */
export async function createCli(globals: { dataDir?: string; backend?: string; json: boolean; command?: string }, shell: SystemInfo['shell']): Promise<Cli> {
  const dataDir = path.resolve(globals.dataDir ?? defaultDataDir())
  const force = parseBackendName(globals.backend ?? process.env.SCORE_LAB_BACKEND)
  // Named to another process that finds a run locked by this one ("score-lab train").
  const processLabel = globals.command ? `score-lab ${globals.command}` : undefined
  const { createLabService } = await import('../lab/service')
  const service = createLabService({ dataDir, shell, backend: async () => (await import('../engine/backend/select')).selectBackend({ force, timingsFile: backendTimingsPath(dataDir) }), jobBackend: force, processLabel })
  const dispatch = typedDispatch(createDispatch(service.handlers))
  return {
    service,
    json: globals.json,
    async call(name, input) {
      const env = await dispatch(name, input)
      if (!env.ok) throw new UsageError(env.error.message)
      return env.result
    },
    say(line) {
      ;(globals.json ? process.stderr : process.stdout).write(line + '\n')
    },
    result(value, human) {
      if (globals.json) process.stdout.write(JSON.stringify(value) + '\n')
      else if (human !== undefined) process.stdout.write(human + '\n')
    }
  }
}

/** Parses a numeric option; NaN, infinities and non-numbers are usage errors naming the option. */
export function num(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined
  const n = Number(value)
  if (value.trim() === '' || !Number.isFinite(n)) throw new UsageError(`--${name} must be a number, got "${value}"`)
  return n
}

export function int(name: string, value: string | undefined): number | undefined {
  const n = num(name, value)
  if (n !== undefined && !Number.isInteger(n)) throw new UsageError(`--${name} must be an integer, got "${value}"`)
  return n
}

/** Waits for a job to end, showing its progress; resolves with its final state. */
export function waitForJob(cli: Cli, jobId: string, onProgress?: (fraction: number, eta: number | null, rate: number | null) => void) {
  return new Promise<{ state: string; error: string | null }>((resolve) => {
    const unsubscribe = cli.service.events.subscribe((e) => {
      if (e.type === 'progress' && e.jobId === jobId) onProgress?.(e.fraction, e.etaSeconds, e.rate)
      if (e.type === 'log' && e.jobId === jobId) cli.say(`${e.level === 'info' ? '' : e.level + ': '}${printable(e.message)}`)
      if (e.type === 'job' && e.job.id === jobId && ['finished', 'failed', 'cancelled'].includes(e.job.state)) {
        unsubscribe()
        resolve({ state: e.job.state, error: e.job.error })
      }
    })
  })
}

/** A job's log message for the terminal: its lines kept, any other control character escaped. */
function printable(message: string): string {
  return message.split('\n').map((line) => escapeControlChars(line)).join('\n')
}
