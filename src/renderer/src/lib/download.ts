// Saves text as a file through the browser's download (a save dialog in Electron).
import { downloadDataUrl } from './download-url'

export function downloadText(filename: string, text: string, type: string): void {
  const url = URL.createObjectURL(new Blob([text], { type }))
  downloadDataUrl(filename, url) // an object URL goes through the same anchor click
  setTimeout(() => URL.revokeObjectURL(url), 1000)
}
