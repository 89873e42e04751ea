import type { LabApi } from '../shared/api'

declare global {
  interface Window {
    /** Present in Electron (preload); in browser mode the renderer builds its own over WebSocket. */
    lab?: LabApi
    /** Native file dialogs, present only in Electron. */
    labShell?: {
      openPath(opts: { title?: string; folder?: boolean }): Promise<string | null>
      savePath(opts: { title?: string; defaultName?: string }): Promise<string | null>
    }
  }
}

export {}
