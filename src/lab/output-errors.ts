// How a refused or failed write to a user-chosen path reaches the caller: `exists` (ask, then
// retry with overwrite) or bad_request with the reason; other handler errors pass through.
import { OutputRefused } from '../engine/io/output-file'
import { HandlerError } from './dispatch'

export function outputError(err: unknown, target: string): HandlerError {
  if (err instanceof HandlerError) return err
  if (err instanceof OutputRefused) {
    return new HandlerError({ code: err.problem === 'exists' ? 'exists' : 'bad_request', message: err.problem === 'exists' ? `${err.message} Overwrite it, or choose another name.` : err.message })
  }
  return new HandlerError({ code: 'bad_request', message: `Could not export to ${target}: ${(err as Error).message}` })
}
