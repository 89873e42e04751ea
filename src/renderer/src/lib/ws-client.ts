// window.lab over a WebSocket, for browser mode: the same LabApi the Electron preload
// exposes, built from the same procedure names. The client keeps itself connected: each
// attempt first asks GET /api/ping (204: the lab is up and takes our token; 401: it does not;
// no answer: it is down), since a browser cannot read why a WebSocket failed, then opens the
// socket. A drop fails the calls in flight, and attempts repeat with a capped backoff until the
// lab is back. The token never goes into a URL here (the socket carries it as a subprotocol,
// the ping as a header), so the browser's own network errors in the console cannot show it,
// and no message this module makes contains it.
import { PROCEDURE_NAMES } from '@shared/procedures'
import { buildApi, type LabApi } from '@shared/api'
import type { Envelope, LabEvent, ServerFrame } from '@shared/contract'

/**
 * connecting: an attempt is under way; open: the socket is up; down: the lab did not answer (or
 * the socket dropped); unauthorized: the lab is up but refuses this tab's token (or it has none).
 */
export type ConnectionStatus = 'connecting' | 'open' | 'down' | 'unauthorized'

export interface ConnectionState {
  status: ConnectionStatus
  /** What is wrong, in words (never the token). */
  detail?: string
  /** When the connection was lost, or first failed if it never opened (ms since epoch); null while open. */
  since: number | null
  /** Failed attempts since the socket was last open. */
  attempts: number
  /** When the next attempt starts (ms since epoch); null while one runs or none is due. */
  retryAt: number | null
  /** Whether the socket was ever open (for "lost" versus "could not reach"). */
  everOpened: boolean
  /** How the last attempt failed (kept while the next one runs); null while open. */
  reason: 'down' | 'unauthorized' | null
}

export const INITIAL_STATE: ConnectionState = { status: 'connecting', since: null, attempts: 0, retryAt: null, everOpened: false, reason: null }

export interface WsClientOptions {
  /** ws(s)://host/api, without the token. */
  url: string
  /** http(s)://host/api/ping */
  pingUrl: string
  token: string
  onState?: (state: ConnectionState) => void
  /** First retry delay, doubled per failed attempt up to maxDelayMs. */
  initialDelayMs?: number
  maxDelayMs?: number
  /** How long a ping may take before the lab counts as down. */
  pingTimeoutMs?: number
  // Seams for unit tests.
  WebSocket?: typeof WebSocket
  fetch?: typeof fetch
  now?: () => number
}

export interface WsClient {
  api: LabApi
  /** Starts an attempt now instead of waiting for the next retry (no-op while open or trying). */
  retryNow(): void
  /** Uses another token from now on (pasted by the user) and tries it at once. */
  setToken(token: string): void
  state(): ConnectionState
  /** Drops the socket and stops retrying (tests). */
  close(): void
}

export const API_PROTOCOL = 'score-lab'
export const TOKEN_PROTOCOL_PREFIX = 'score-lab.token.'
export const TOKEN_HEADER = 'X-Score-Lab-Token'
/** What a token can look like; anything else is refused without asking (and could not go in a subprotocol). */
const TOKEN_SHAPE = /^[A-Za-z0-9_-]{1,256}$/

export const MESSAGES = {
  noToken: 'No access token: open the full URL printed by score-lab serve (it ends in ?token=…).',
  wrongToken:
    'The lab is running but refuses this tab’s access token (HTTP 401): it was replaced with score-lab serve --new-token, ' +
    'or the URL was mistyped. Open the URL the server printed, or paste it here.',
  down: 'The lab server does not answer: it is stopped or restarting, or the network is down.',
  lost: 'The connection to the lab was lost.',
  unreachable: 'The lab is unreachable; this is retried by itself.'
} as const

/** Delay before retry number `attempt` (1-based): initial · 2^(attempt−1), capped. */
export function backoffDelay(attempt: number, initialMs = 500, maxMs = 10_000): number {
  return Math.min(maxMs, initialMs * 2 ** Math.max(0, Math.min(attempt - 1, 30)))
}

export function createWsClient(opts: WsClientOptions): WsClient {
  const WS = opts.WebSocket ?? WebSocket
  const doFetch = opts.fetch ?? ((input: RequestInfo | URL, init?: RequestInit) => fetch(input, init))
  const now = opts.now ?? Date.now
  const initialMs = opts.initialDelayMs ?? 500
  const maxMs = opts.maxDelayMs ?? 10_000
  let token = opts.token
  let state: ConnectionState = { ...INITIAL_STATE }
  let socket: WebSocket | null = null
  let trying = false
  /** The token the running attempt uses (a new one set meanwhile is tried right after it). */
  let tried = ''
  let closed = false
  let timer: ReturnType<typeof setTimeout> | null = null
  let nextId = 1
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>()
  const waiters: { resolve: (ws: WebSocket) => void; reject: (e: Error) => void }[] = []
  const listeners = new Set<(e: LabEvent) => void>()

  function set(patch: Partial<ConnectionState>): void {
    state = { ...state, ...patch }
    opts.onState?.(state)
  }

  function clearTimer(): void {
    if (timer !== null) clearTimeout(timer)
    timer = null
  }

  /** One attempt: ping, then the socket. Ends in open, or in fail() with the next retry scheduled. */
  async function attempt(): Promise<void> {
    if (closed || trying || socket) return
    clearTimer()
    trying = true
    set({ status: 'connecting', retryAt: null })
    const current = token
    tried = current
    if (!current) return fail('unauthorized', MESSAGES.noToken)
    if (!TOKEN_SHAPE.test(current)) return fail('unauthorized', MESSAGES.wrongToken)
    let status: number
    try {
      const res = await doFetch(opts.pingUrl, {
        headers: { [TOKEN_HEADER]: current },
        cache: 'no-store',
        credentials: 'omit',
        signal: AbortSignal.timeout(opts.pingTimeoutMs ?? 5000)
      })
      status = res.status
    } catch {
      return fail('down', MESSAGES.down)
    }
    if (closed) return
    if (status === 401) return fail('unauthorized', MESSAGES.wrongToken)
    if (status !== 204) return fail('down', `The lab answered HTTP ${status} instead of accepting the connection.`)
    let ws: WebSocket
    try {
      ws = new WS(opts.url, [API_PROTOCOL, TOKEN_PROTOCOL_PREFIX + current])
    } catch {
      return fail('down', MESSAGES.down)
    }
    ws.onopen = () => {
      if (closed) return ws.close()
      socket = ws
      trying = false
      set({ status: 'open', detail: undefined, since: null, attempts: 0, retryAt: null, everOpened: true, reason: null })
      for (const w of waiters.splice(0)) w.resolve(ws)
    }
    ws.onmessage = (msg) => {
      let frame: ServerFrame
      try {
        frame = JSON.parse(String(msg.data)) as ServerFrame
      } catch {
        return
      }
      if (frame.type === 'event') listeners.forEach((l) => l(frame.event))
      else if (typeof frame.id === 'number') settle(frame.id, frame.envelope)
    }
    ws.onclose = () => {
      if (socket === ws) {
        // It was open: everything in flight is lost with it.
        socket = null
        for (const [, p] of pending) p.reject(new Error(MESSAGES.lost))
        pending.clear()
        trying = true
        fail('down', MESSAGES.down, now())
      } else if (trying) {
        // The ping said yes but the socket did not open: the lab went away in between.
        fail('down', MESSAGES.down)
      }
    }
  }

  function fail(status: 'down' | 'unauthorized', detail: string, since = state.since ?? now()): void {
    if (!trying) return
    trying = false
    const attempts = state.attempts + 1
    // A refused token will not change by itself: ask again at the slowest pace, unless a new one was given.
    const delay = tried !== token ? 0 : status === 'unauthorized' ? maxMs : backoffDelay(attempts, initialMs, maxMs)
    for (const w of waiters.splice(0)) w.reject(new Error(detail))
    if (closed) return
    set({ status, reason: status, detail, since, attempts, retryAt: now() + delay })
    timer = setTimeout(() => void attempt(), delay)
  }

  function settle(id: number, envelope: Envelope<unknown>): void {
    const p = pending.get(id)
    if (!p) return
    pending.delete(id)
    if (envelope.ok) p.resolve(envelope.result)
    else p.reject(Object.assign(new Error(envelope.error.message), { code: envelope.error.code, issues: envelope.error.issues }))
  }

  /** The open socket; while an attempt runs, once it ends; otherwise a failure at once (the UI is blocked meanwhile). */
  function ready(): Promise<WebSocket> {
    if (socket && socket.readyState === WS.OPEN) return Promise.resolve(socket)
    if (trying) return new Promise((resolve, reject) => waiters.push({ resolve, reject }))
    return Promise.reject(new Error(state.detail ?? MESSAGES.unreachable))
  }

  async function invoke(method: string, input: unknown): Promise<unknown> {
    const ws = await ready()
    const id = nextId++
    return new Promise((resolve, reject) => {
      pending.set(id, { resolve, reject })
      try {
        ws.send(JSON.stringify({ id, method, input }))
      } catch {
        pending.delete(id)
        reject(new Error(MESSAGES.lost))
      }
    })
  }

  void attempt()
  const api = buildApi(
    PROCEDURE_NAMES,
    invoke,
    (l) => {
      listeners.add(l)
      return () => listeners.delete(l)
    },
    'websocket'
  )
  return {
    api,
    retryNow: () => void attempt(),
    setToken(next: string) {
      token = next
      if (!socket) void attempt()
    },
    state: () => state,
    close() {
      closed = true
      clearTimer()
      const ws = socket
      socket = null
      ws?.close()
    }
  }
}
