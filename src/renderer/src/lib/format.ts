// Numbers, times and sizes as the UI shows them.

export function formatLoss(v: number | null | undefined): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return '—'
  const a = Math.abs(v)
  if (a !== 0 && (a < 1e-3 || a >= 1e5)) return v.toExponential(2)
  const s = v.toPrecision(4)
  return s.includes('.') ? s.replace(/0+$/, '').replace(/\.$/, '') : s
}

export function formatNumber(v: number | null | undefined, digits = 3): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return '—'
  const a = Math.abs(v)
  if (a !== 0 && (a < 1e-3 || a >= 1e6)) return Number(v.toPrecision(digits)).toExponential()
  return Number(v.toPrecision(digits)).toLocaleString('en-US', { maximumFractionDigits: 6 })
}

export function formatInt(v: number): string {
  return v.toLocaleString('en-US')
}

/** 3s, 4m 05s, 2h 03m, 3d 4h. */
export function formatDuration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms) || ms < 0) return '—'
  const s = Math.round(ms / 1000)
  if (s < 60) return `${s}s`
  const m = Math.floor(s / 60)
  if (m < 60) return `${m}m ${String(s % 60).padStart(2, '0')}s`
  const h = Math.floor(m / 60)
  if (h < 48) return `${h}h ${String(m % 60).padStart(2, '0')}m`
  return `${Math.floor(h / 24)}d ${h % 24}h`
}

export function formatEta(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return 'estimating…'
  if (seconds <= 0.5) return 'done'
  return `${formatDuration(seconds * 1000)} left`
}

/** Today: 14:05; earlier: Nov 3, 14:05. */
export function formatStarted(time: number, now = Date.now()): string {
  const d = new Date(time)
  const hm = d.toLocaleTimeString('en-GB', { hour: '2-digit', minute: '2-digit' })
  if (new Date(now).toDateString() === d.toDateString()) return hm
  return `${d.toLocaleDateString('en-US', { month: 'short', day: 'numeric' })}, ${hm}`
}

export function formatClock(time: number): string {
  return new Date(time).toLocaleTimeString('en-GB', { hour: '2-digit', minute: '2-digit', second: '2-digit' })
}

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`
  const units = ['KB', 'MB', 'GB']
  let v = bytes / 1024
  let i = 0
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024
    i++
  }
  return `${v < 10 ? v.toFixed(1) : Math.round(v)} ${units[i]}`
}

/** Relative seconds as an axis label: 45s, 12:30 (m:ss), 1:02:03 (h:mm:ss). */
export function formatRelative(seconds: number): string {
  const s = Math.round(seconds)
  if (Math.abs(s) < 60) return `${s}s`
  const h = Math.floor(s / 3600)
  const m = Math.floor((s % 3600) / 60)
  const ss = String(s % 60).padStart(2, '0')
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`
}

/** Today: 14:05:09; earlier: Nov 3, 14:05. */
export function formatWhen(time: number, now = Date.now()): string {
  return new Date(now).toDateString() === new Date(time).toDateString() ? formatClock(time) : formatStarted(time, now)
}
