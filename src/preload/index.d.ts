import type { LabApi } from '../shared/api'

declare global {
  interface Window {
    /** Present in Electron (preload); in browser mode the renderer builds its own over WebSocket. */
    lab?: LabApi
  }
}

export {}
