// Serves the contract over Electron IPC: one ipcMain.handle per procedure (the channel is
// the procedure's name), a sender check on every call, and the result wrapped in an
// envelope so validation errors reach the renderer intact. Takes ipcMain as a parameter
// so tests can drive it with a fake sender without the Electron binary.
import { PROCEDURE_NAMES } from '../shared/procedures'
import type { Envelope } from '../shared/contract'
import type { Dispatch } from '../lab/dispatch'

export interface IpcEventLike {
  senderFrame: { url: string } | null
}

export interface IpcMainLike {
  handle(channel: string, listener: (event: IpcEventLike, ...args: unknown[]) => Promise<unknown>): void
  removeHandler(channel: string): void
}

/** True when the frame is our own renderer: the dev server in development, else our index.html. */
export function isTrustedSender(frameUrl: string | undefined, trusted: { devUrl?: string; indexFile: string }): boolean {
  if (!frameUrl) return false
  let url: URL
  try {
    url = new URL(frameUrl)
  } catch {
    return false
  }
  if (trusted.devUrl) {
    const dev = new URL(trusted.devUrl)
    if (url.origin === dev.origin) return true
  }
  if (url.protocol !== 'file:') return false
  return decodeURIComponent(url.pathname) === trusted.indexFile.replace(/\\/g, '/').replace(/^([A-Za-z]):/, '/$1:')
}

export function registerIpc(
  ipcMain: IpcMainLike,
  dispatch: Dispatch,
  trusted: { devUrl?: string; indexFile: string }
): () => void {
  for (const name of PROCEDURE_NAMES) {
    ipcMain.handle(name, async (event, input): Promise<Envelope<unknown>> => {
      if (!isTrustedSender(event.senderFrame?.url, trusted)) {
        return { ok: false, error: { code: 'unauthorized', message: `IPC call ${name} refused: the sender is not Score Lab's own window.` } }
      }
      return dispatch(name, input)
    })
  }
  return () => PROCEDURE_NAMES.forEach((n) => ipcMain.removeHandler(n))
}
