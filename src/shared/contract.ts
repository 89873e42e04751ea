// The one typed API between the lab service and its shells (Electron IPC, the browser-mode
// WebSocket server, the CLI). Each procedure is a zod input and output schema; every type
// the shells and the renderer use is inferred from here. Imports nothing from Node,
// Electron, Vue or tfjs.
import { z } from 'zod'
import { PROCEDURE_NAMES, type ProcedureName } from './procedures'

/** Bumped when a procedure's input or output changes incompatibly. */
export const API_VERSION = 1

/** No string field in any request may exceed this (a 10 MB string gets a clear error). */
export const MAX_STRING = 4096
/** Frames larger than this are refused before they are parsed. */
export const MAX_FRAME_BYTES = 1_000_000

const Str = z.string().max(MAX_STRING)

export const BackendNameSchema = z.enum(['tensorflow', 'webgpu', 'wasm', 'cpu'])

export const BackendAttemptSchema = z.object({
  name: BackendNameSchema,
  ok: z.boolean(),
  reason: z.string().optional(),
  fix: z.string().optional()
})

export const BackendInfoSchema = z.object({
  name: BackendNameSchema,
  device: z.string(),
  forced: z.boolean(),
  attempts: z.array(BackendAttemptSchema)
})

export const SystemInfoSchema = z.object({
  apiVersion: z.number().int(),
  appVersion: z.string(),
  /** 'electron' when served over IPC, 'browser' over the WebSocket, 'cli' in-process. */
  shell: z.enum(['electron', 'browser', 'cli']),
  backend: BackendInfoSchema,
  versions: z.object({
    node: z.string(),
    tfjs: z.string(),
    electron: z.string().optional(),
    chrome: z.string().optional()
  }),
  dataDir: z.string(),
  platform: z.string(),
  cpus: z.number().int()
})

export const DoctorCheckSchema = z.object({
  name: z.string(),
  ok: z.boolean(),
  detail: z.string(),
  fix: z.string().optional()
})

export const DoctorReportSchema = z.object({
  ok: z.boolean(),
  backend: BackendInfoSchema,
  checks: z.array(DoctorCheckSchema)
})

const Empty = z.object({}).strict()

export const procedures = {
  'system.info': { input: Empty, output: SystemInfoSchema },
  'system.doctor': { input: Empty, output: DoctorReportSchema },
  'system.ping': {
    input: z.object({ message: Str }).strict(),
    output: z.object({ message: z.string(), receivedAt: z.number() })
  }
} as const satisfies Record<ProcedureName, { input: z.ZodType; output: z.ZodType }>

export type Procedures = typeof procedures
export type ProcInput<P extends ProcedureName> = z.input<Procedures[P]['input']>
export type ProcOutput<P extends ProcedureName> = z.output<Procedures[P]['output']>
export type SystemInfo = z.infer<typeof SystemInfoSchema>
export type DoctorReport = z.infer<typeof DoctorReportSchema>
export type BackendInfoDto = z.infer<typeof BackendInfoSchema>

// ---- streamed events (one push channel) ----

export const JobStateSchema = z.enum(['queued', 'running', 'paused', 'finished', 'failed', 'cancelled', 'interrupted'])

export const LabEventSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('log'), level: z.enum(['info', 'warn', 'error']), message: z.string(), jobId: z.string().optional(), time: z.number() }),
  z.object({
    type: z.literal('progress'),
    jobId: z.string(),
    fraction: z.number(),
    etaSeconds: z.number().nullable(),
    rate: z.number().nullable(),
    unit: z.string()
  }),
  z.object({ type: z.literal('job'), jobId: z.string(), kind: z.string(), state: JobStateSchema, error: z.string().optional() }),
  z.object({
    type: z.literal('metric'),
    runId: z.string(),
    seq: z.number().int(),
    step: z.number().int(),
    wallTime: z.number(),
    values: z.record(z.string(), z.number().nullable())
  })
])
export type LabEvent = z.infer<typeof LabEventSchema>

// ---- the error every transport returns ----

export const ErrorCodeSchema = z.enum(['bad_request', 'unknown_method', 'not_found', 'conflict', 'internal', 'too_large', 'unauthorized'])
export type ErrorCode = z.infer<typeof ErrorCodeSchema>

export interface LabErrorDto {
  code: ErrorCode
  message: string
  /** Field-level problems for validation errors: path and message. */
  issues?: { path: string; message: string }[]
}

export type Envelope<T> = { ok: true; result: T } | { ok: false; error: LabErrorDto }

/** Thrown on the client side when a call fails; carries the server's code and issues. */
export class LabError extends Error {
  readonly code: ErrorCode
  readonly issues?: { path: string; message: string }[]
  constructor(dto: LabErrorDto) {
    super(dto.message)
    this.name = 'LabError'
    this.code = dto.code
    this.issues = dto.issues
  }
}

export function isProcedureName(name: unknown): name is ProcedureName {
  return typeof name === 'string' && (PROCEDURE_NAMES as readonly string[]).includes(name)
}

export { PROCEDURE_NAMES, type ProcedureName }

// ---- WebSocket frames (browser mode) ----

export const RequestFrameSchema = z.object({
  id: z.union([z.number().int(), z.string().max(64)]),
  method: z.string().max(128),
  input: z.unknown().optional()
})
export type RequestFrame = z.infer<typeof RequestFrameSchema>

export type ServerFrame =
  | { type: 'response'; id: number | string | null; envelope: Envelope<unknown> }
  | { type: 'event'; event: LabEvent }
