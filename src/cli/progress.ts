// A one-line progress bar for people (stderr, redrawn in place on a TTY, a line every few
// seconds otherwise) — machines get --json on stdout instead.
export class ProgressLine {
  private last = 0
  constructor(
    private readonly label: string,
    private readonly stream: NodeJS.WriteStream = process.stderr
  ) {}

  update(fraction: number, detail: string, etaSeconds: number | null): void {
    const now = Date.now()
    const tty = this.stream.isTTY
    if (!tty && now - this.last < 3000 && fraction < 1) return
    this.last = now
    const width = 24
    const filled = Math.round(Math.max(0, Math.min(1, fraction)) * width)
    const bar = '█'.repeat(filled) + '░'.repeat(width - filled)
    const eta = etaSeconds === null ? '' : ` ETA ${formatDuration(etaSeconds)}`
    const line = `${this.label} ${bar} ${(fraction * 100).toFixed(1).padStart(5)}% ${detail}${eta}`
    if (tty) this.stream.write(`\r\x1b[2K${line}`)
    else this.stream.write(line + '\n')
  }

  done(): void {
    if (this.stream.isTTY) this.stream.write('\n')
  }
}

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '—'
  const s = Math.round(seconds)
  if (s < 60) return `${s}s`
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`
}
