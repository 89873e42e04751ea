// The shape of `window.lab`, derived from the procedure names: `lab.system.info()` calls
// procedure 'system.info'. Both the Electron preload and the WebSocket client build this
// object from PROCEDURE_NAMES, so the renderer cannot tell which transport is underneath.
import type { LabEvent, ProcInput, ProcOutput, ProcedureName } from './contract'

type NounOf<P> = P extends `${infer N}.${string}` ? N : never
type VerbOf<P, N extends string> = P extends `${N}.${infer V}` ? V : never

type Call<P extends ProcedureName> =
  {} extends ProcInput<P> ? (input?: ProcInput<P>) => Promise<ProcOutput<P>> : (input: ProcInput<P>) => Promise<ProcOutput<P>>

export type LabApi = {
  [N in NounOf<ProcedureName>]: { [V in VerbOf<ProcedureName, N>]: Call<`${N}.${V}` & ProcedureName> }
} & {
  /** Subscribe to streamed events; returns the unsubscribe function. */
  onEvent(listener: (event: LabEvent) => void): () => void
  /** Which transport serves this API (for the status bar). */
  readonly transport: 'ipc' | 'websocket'
}

/** Builds the nested API object from a generic invoker (used by preload and the WS client). */
export function buildApi(
  names: readonly string[],
  invoke: (name: string, input: unknown) => Promise<unknown>,
  onEvent: (listener: (event: LabEvent) => void) => () => void,
  transport: 'ipc' | 'websocket'
): LabApi {
  const api: Record<string, unknown> = { onEvent, transport }
  for (const name of names) {
    const [noun, verb] = name.split('.') as [string, string]
    const group = (api[noun] ??= {}) as Record<string, unknown>
    group[verb] = (input?: unknown) => invoke(name, input ?? {})
  }
  return api as unknown as LabApi
}
