// Validates one request against the contract and runs its handler. Both shells (Electron
// IPC and the WebSocket server) call this, so a malformed payload gets the same clear error
// over either transport, and nothing a client sends can throw out of here.
import { z } from 'zod'
import {
  LabError,
  MAX_FRAME_BYTES,
  isProcedureName,
  procedures,
  type Envelope,
  type LabErrorDto,
  type ProcInput,
  type ProcOutput,
  type ProcedureName
} from '../shared/contract'

export type Handlers = { [P in ProcedureName]: (input: ProcInput<P>) => Promise<ProcOutput<P>> }

export type Dispatch = (method: unknown, input: unknown) => Promise<Envelope<unknown>>

/** The same dispatch for in-process callers (the CLI), typed per procedure. */
export type TypedDispatch = <P extends ProcedureName>(method: P, input: ProcInput<P>) => Promise<Envelope<ProcOutput<P>>>

/** Types a dispatch per procedure: the handler of P answers ProcOutput<P> (Handlers says so), and only it runs for P. */
export function typedDispatch(dispatch: Dispatch): TypedDispatch {
  return dispatch as TypedDispatch
}

/** A handler throws this to choose the error code (anything else becomes 'internal'). */
export class HandlerError extends LabError {}

export function createDispatch(handlers: Handlers, opts: { onInternalError?: (err: unknown) => void } = {}): Dispatch {
  return async (method, input) => {
    if (!isProcedureName(method)) {
      const shown = typeof method === 'string' ? JSON.stringify(method.slice(0, 80)) : typeof method
      return fail({ code: 'unknown_method', message: `Unknown method ${shown}.` })
    }
    const size = approximateSize(input)
    if (size > MAX_FRAME_BYTES) {
      return fail({ code: 'too_large', message: `Request for ${method} is too large (${mb(size)} MB; the limit is ${mb(MAX_FRAME_BYTES)} MB).` })
    }
    const parsed = procedures[method].input.safeParse(input ?? {})
    if (!parsed.success) return fail(validationError(method, parsed.error))
    try {
      const handler = handlers[method] as (i: unknown) => Promise<unknown>
      const result = await handler(parsed.data)
      return { ok: true, result }
    } catch (err) {
      if (err instanceof LabError) return fail({ code: err.code, message: err.message, issues: err.issues })
      opts.onInternalError?.(err)
      return fail({ code: 'internal', message: `${method} failed: ${err instanceof Error ? err.message : String(err)}` })
    }
  }
}

export function validationError(method: string, error: z.ZodError): LabErrorDto {
  const issues = error.issues.map((i) => ({ path: i.path.join('.') || '(input)', message: i.message }))
  const summary = issues.map((i) => `${i.path}: ${i.message}`).join('; ')
  return { code: 'bad_request', message: `Invalid input for ${method}: ${summary}`, issues }
}

function fail(error: LabErrorDto): Envelope<never> {
  return { ok: false, error }
}

function mb(bytes: number): string {
  return (bytes / 1e6).toFixed(1)
}

/** Cheap upper bound of a payload's JSON size, without serialising huge strings twice. */
function approximateSize(value: unknown, depth = 0): number {
  if (typeof value === 'string') return value.length
  if (value === null || typeof value !== 'object' || depth > 8) return 8
  let total = 2
  for (const [k, v] of Object.entries(value)) {
    total += k.length + approximateSize(v, depth + 1)
    if (total > MAX_FRAME_BYTES) break
  }
  return total
}
