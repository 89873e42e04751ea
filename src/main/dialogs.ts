// Native file dialogs for the Electron shell only (browser mode uses a path field and
// downloads instead). Two fixed channels with the same sender check as the API.
import type { IpcMainLike } from './ipc'
import { isTrustedSender } from './ipc'

export interface DialogsLike {
  showOpenDialog(opts: { title?: string; properties: ('openFile' | 'openDirectory' | 'multiSelections')[] }): Promise<{ canceled: boolean; filePaths: string[] }>
  showSaveDialog(opts: { title?: string; defaultPath?: string }): Promise<{ canceled: boolean; filePath?: string }>
}

export const DIALOG_CHANNELS = { open: 'shell:open-path', save: 'shell:save-path' } as const

export function registerDialogs(ipcMain: IpcMainLike, dialogs: DialogsLike, trusted: { devUrl?: string; indexFile: string }): void {
  ipcMain.handle(DIALOG_CHANNELS.open, async (event, raw) => {
    if (!isTrustedSender(event.senderFrame?.url, trusted)) return null
    const opts = (raw ?? {}) as { title?: unknown; folder?: unknown }
    const r = await dialogs.showOpenDialog({
      title: typeof opts.title === 'string' ? opts.title.slice(0, 200) : undefined,
      properties: opts.folder === true ? ['openDirectory'] : ['openFile']
    })
    return r.canceled ? null : (r.filePaths[0] ?? null)
  })
  ipcMain.handle(DIALOG_CHANNELS.save, async (event, raw) => {
    if (!isTrustedSender(event.senderFrame?.url, trusted)) return null
    const opts = (raw ?? {}) as { title?: unknown; defaultName?: unknown }
    const r = await dialogs.showSaveDialog({
      title: typeof opts.title === 'string' ? opts.title.slice(0, 200) : undefined,
      defaultPath: typeof opts.defaultName === 'string' ? opts.defaultName.slice(0, 255) : undefined
    })
    return r.canceled ? null : (r.filePath ?? null)
  })
}
