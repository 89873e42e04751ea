// Saves a data URL (a PNG or GIF from the lab, a canvas) as a file through the browser's
// download (in Electron, its save dialog).
export function downloadDataUrl(filename: string, dataUrl: string): void {
  const a = document.createElement('a')
  a.href = dataUrl
  a.download = filename
  document.body.appendChild(a)
  a.click()
  a.remove()
}

/** The largest integer scale (1…max) at which an image of `width` fits in `room` pixels. */
export function integerScale(width: number, room: number, max = 4): number {
  return Math.max(1, Math.min(max, Math.floor(room / Math.max(1, width))))
}
