// The only module that knows about transports: Electron's preload API when present,
// otherwise the same API over the browser-mode WebSocket (token from the URL, kept in
// sessionStorage so a reload still works, and removed from the address bar so it does not
// linger in history). The connection state drives the disconnected overlay and status bar.
import type { LabApi } from '@shared/api'
import { createWsClient, INITIAL_STATE, type ConnectionState, type WsClient } from './lib/ws-client'
import { computed, ref } from 'vue'

export type { ConnectionState, ConnectionStatus } from './lib/ws-client'

const TOKEN_KEY = 'score-lab-token'

export const connection = ref<ConnectionState>({ ...INITIAL_STATE })
/** The lab cannot be used right now (after the first attempt failed, or once the socket dropped). */
export const offline = computed(() => connection.value.status !== 'open' && connection.value.since !== null)

let client: WsClient | null = null
let token = ''

/** The token in the address bar (then removed from it) or the one this tab kept. */
function readToken(): string {
  const params = new URLSearchParams(location.search)
  const fromUrl = params.get('token')
  if (fromUrl) {
    sessionStorage.setItem(TOKEN_KEY, fromUrl)
    params.delete('token')
    const rest = params.toString()
    history.replaceState(history.state, '', location.pathname + (rest ? `?${rest}` : '') + location.hash)
  }
  return fromUrl ?? sessionStorage.getItem(TOKEN_KEY) ?? ''
}

function browserApi(): LabApi {
  token = readToken()
  const proto = location.protocol === 'https:' ? 'wss:' : 'ws:'
  client = createWsClient({
    url: `${proto}//${location.host}/api`,
    pingUrl: `${location.protocol}//${location.host}/api/ping`,
    token,
    onState: (state) => (connection.value = state)
  })
  // Back on the network: no need to wait out the backoff.
  window.addEventListener('online', () => client?.retryNow())
  return client.api
}

export const lab: LabApi = window.lab ?? browserApi()
if (window.lab) connection.value = { ...INITIAL_STATE, status: 'open', everOpened: true }

/** Tries to reach the lab now instead of at the next scheduled retry. */
export function retryNow(): void {
  client?.retryNow()
}

/**
 * A token pasted by the user: the full URL the server printed, or the token alone. Kept for
 * this tab and tried at once; false when the text holds no token.
 */
export function applyToken(text: string): boolean {
  const trimmed = text.trim()
  let next = trimmed
  if (/^https?:\/\//i.test(trimmed) || trimmed.includes('token=')) {
    try {
      next = new URL(trimmed, location.href).searchParams.get('token') ?? ''
    } catch {
      next = ''
    }
  }
  if (!next || !client) return false
  token = next
  sessionStorage.setItem(TOKEN_KEY, next)
  client.setToken(next)
  return true
}

/** The text with this tab's token masked: nothing shown or logged should carry it. */
export function redactToken(text: string): string {
  return token.length >= 8 ? text.split(token).join('…') : text
}

/** A call's error in words for the UI (never with the access token in it). */
export function errorMessage(err: unknown): string {
  return redactToken(err instanceof Error ? err.message : String(err))
}

/** The lab refused an export because a file is already there (ask, then retry with overwrite). */
export function isExistsError(err: unknown): boolean {
  return (err as { code?: unknown } | null)?.code === 'exists'
}

/**
 * Native file dialogs where the shell has them (Electron); null in browser mode, where the UI
 * offers a path field for imports and a browser download for exports instead.
 */
export const nativeDialogs = window.labShell ?? null
