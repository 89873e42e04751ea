// window.lab over a WebSocket, for browser mode: the same LabApi the Electron preload
// exposes, built from the same procedure names. Requests wait for the socket to open;
// if it drops, pending calls fail with a clear error and the client reconnects.
import { PROCEDURE_NAMES } from '@shared/procedures'
import { buildApi, type LabApi } from '@shared/api'
import type { Envelope, LabEvent, ServerFrame } from '@shared/contract'

export interface WsClientOptions {
  url: string
  token: string
  /** Called when the connection state changes (for the status bar). */
  onStatus?: (status: 'connecting' | 'open' | 'closed', detail?: string) => void
}

export function createWsApi(opts: WsClientOptions): LabApi {
  let socket: WebSocket | null = null
  let opened: Promise<WebSocket> | null = null
  let nextId = 1
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>()
  const listeners = new Set<(e: LabEvent) => void>()

  function connect(): Promise<WebSocket> {
    if (opened) return opened
    opts.onStatus?.('connecting')
    opened = new Promise((resolve, reject) => {
      const ws = new WebSocket(`${opts.url}?token=${encodeURIComponent(opts.token)}`)
      socket = ws
      ws.onopen = () => {
        opts.onStatus?.('open')
        resolve(ws)
      }
      ws.onmessage = (msg) => {
        const frame = JSON.parse(String(msg.data)) as ServerFrame
        if (frame.type === 'event') listeners.forEach((l) => l(frame.event))
        else if (typeof frame.id === 'number') settle(frame.id, frame.envelope)
      }
      ws.onclose = (ev) => {
        const detail = !opts.token
          ? 'No access token: open the full URL printed when the lab started (it ends in ?token=…).'
          : ev.code === 1006
            ? 'The lab server refused the connection (wrong token?) or is not running.'
            : `Connection closed (${ev.code}).`
        opts.onStatus?.('closed', detail)
        for (const [, p] of pending) p.reject(new Error(detail))
        pending.clear()
        opened = null
        socket = null
        reject(new Error(detail))
        setTimeout(() => void connect().catch(() => {}), 2000)
      }
    })
    return opened
  }

  function settle(id: number, envelope: Envelope<unknown>): void {
    const p = pending.get(id)
    if (!p) return
    pending.delete(id)
    if (envelope.ok) p.resolve(envelope.result)
    else p.reject(Object.assign(new Error(envelope.error.message), { code: envelope.error.code, issues: envelope.error.issues }))
  }

  async function invoke(method: string, input: unknown): Promise<unknown> {
    const ws = socket?.readyState === WebSocket.OPEN ? socket : await connect()
    const id = nextId++
    return new Promise((resolve, reject) => {
      pending.set(id, { resolve, reject })
      ws.send(JSON.stringify({ id, method, input }))
    })
  }

  void connect().catch(() => {})
  return buildApi(
    PROCEDURE_NAMES,
    invoke,
    (l) => {
      listeners.add(l)
      return () => listeners.delete(l)
    },
    'websocket'
  )
}
