// The only module that knows about transports: Electron's preload API when present,
// otherwise the same API over the browser-mode WebSocket (token from the URL, kept in
// sessionStorage and removed from the address bar so it does not linger in history).
import type { LabApi } from '@shared/api'
import { createWsApi } from './lib/ws-client'
import { ref } from 'vue'

export const connection = ref<{ status: 'connecting' | 'open' | 'closed'; detail?: string }>({ status: 'connecting' })

function browserApi(): LabApi {
  const params = new URLSearchParams(location.search)
  const fromUrl = params.get('token')
  if (fromUrl) {
    sessionStorage.setItem('score-lab-token', fromUrl)
    params.delete('token')
    const rest = params.toString()
    history.replaceState(null, '', location.pathname + (rest ? `?${rest}` : '') + location.hash)
  }
  const token = fromUrl ?? sessionStorage.getItem('score-lab-token') ?? ''
  const proto = location.protocol === 'https:' ? 'wss:' : 'ws:'
  return createWsApi({
    url: `${proto}//${location.host}/api`,
    token,
    onStatus: (status, detail) => (connection.value = { status, detail })
  })
}

export const lab: LabApi = window.lab ?? browserApi()
if (window.lab) connection.value = { status: 'open' }

/** A call's error in words for the UI. */
export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err)
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
