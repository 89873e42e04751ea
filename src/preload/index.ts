// Exposes the typed API as window.lab: one function per procedure (generated from the
// contract's names), never ipcRenderer itself. Sandboxed, so this file imports only
// 'electron' and zod-free shared modules and is bundled to one CommonJS file.
import { contextBridge, ipcRenderer } from 'electron'
import { EVENT_CHANNEL, PROCEDURE_NAMES } from '../shared/procedures'
import { buildApi } from '../shared/api'
import type { Envelope, LabEvent } from '../shared/contract'

async function invoke(name: string, input: unknown): Promise<unknown> {
  const envelope = (await ipcRenderer.invoke(name, input)) as Envelope<unknown>
  if (envelope.ok) return envelope.result
  // Errors cannot cross contextBridge as class instances; the client re-wraps them.
  throw Object.assign(new Error(envelope.error.message), { code: envelope.error.code, issues: envelope.error.issues })
}

function onEvent(listener: (event: LabEvent) => void): () => void {
  const wrapped = (_e: unknown, event: LabEvent) => listener(event)
  ipcRenderer.on(EVENT_CHANNEL, wrapped)
  return () => ipcRenderer.removeListener(EVENT_CHANNEL, wrapped)
}

contextBridge.exposeInMainWorld('lab', buildApi(PROCEDURE_NAMES, invoke, onEvent, 'ipc'))
// Native dialogs (Electron only): a path chosen by the user, or null when cancelled.
contextBridge.exposeInMainWorld('labShell', {
  openPath: (opts: { title?: string; folder?: boolean }) => ipcRenderer.invoke('shell:open-path', opts) as Promise<string | null>,
  savePath: (opts: { title?: string; defaultName?: string }) => ipcRenderer.invoke('shell:save-path', opts) as Promise<string | null>
})
