// Streamed download of one file with mirror fallback. The bytes go to a temp name next to the
// destination, are hashed on the way, fsynced, and only then renamed over `dest`; a cut-off,
// wrong or cancelled transfer deletes its temp file, so `dest` only ever holds a verified file
// (an older good copy survives any failed attempt).
import { createHash, randomBytes } from 'node:crypto'
import { open, rename, rm } from 'node:fs/promises'
import { basename, dirname } from 'node:path'
import { DatasetError } from '../../engine/data/errors'
import { stat } from 'node:fs/promises'
import { join } from 'node:path'
import { fsyncDir } from '../../engine/io/atomic-write'
import type { ImageDatasetInfo } from './registry'

export interface DownloadProgress {
  file: string
  url: string
  bytes: number
  /** From Content-Length, or the registry's size; null when unknown. */
  total: number | null
  /** Bytes per second, averaged over the transfer so far. */
  rate: number
  etaSeconds: number | null
}

export interface DownloadOptions {
  /** Full URLs of the same file, tried in order. */
  urls: readonly string[]
  dest: string
  md5?: string
  bytes?: number
  onProgress?: (p: DownloadProgress) => void
  signal?: AbortSignal
  /** Minimum milliseconds between progress events (the last one always fires). */
  progressIntervalMs?: number
  /** Give up on a mirror after this long without a response or a byte (default 60 s). */
  stallTimeoutMs?: number
  /** Injectable for tests. */
  fetch?: typeof fetch
}

export interface DownloadResult {
  url: string
  bytes: number
  md5: string
  /** Attempts that failed before the one that worked, as "url: problem". */
  failures: string[]
}

const NETWORK_CODES = new Set(['ENOTFOUND', 'EAI_AGAIN', 'ECONNREFUSED', 'ENETUNREACH', 'EHOSTUNREACH', 'ETIMEDOUT', 'ECONNRESET', 'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_SOCKET'])

/** The innermost error code of a fetch failure (undici wraps the socket error in `cause`). */
function networkCode(err: unknown): string | undefined {
  let e: unknown = err
  for (let i = 0; i < 5 && e; i++) {
    const code = (e as { code?: unknown }).code
    if (typeof code === 'string') return code
    e = (e as { cause?: unknown }).cause
  }
  return undefined
}

const abortError = (file: string, cause?: unknown) => new DatasetError('aborted', file, 'download cancelled', { cause })

export async function downloadFile(opts: DownloadOptions): Promise<DownloadResult> {
  const file = basename(opts.dest)
  const doFetch = opts.fetch ?? fetch
  const failures: string[] = []
  let onlyNetworkFailures = true
  if (opts.urls.length === 0) throw new DatasetError('not-found', file, 'no download URL is known for this file')
  for (const url of opts.urls) {
    if (opts.signal?.aborted) throw abortError(file, opts.signal.reason)
    const watchdog = new Watchdog(opts.stallTimeoutMs ?? 60_000)
    const signal = opts.signal ? AbortSignal.any([opts.signal, watchdog.signal]) : watchdog.signal
    try {
      let res: Response
      try {
        res = await doFetch(url, { signal, redirect: 'follow' })
      } catch (err) {
        if (opts.signal?.aborted) throw abortError(file, err)
        const code = watchdog.fired ? 'no response' : networkCode(err)
        if (!watchdog.fired && (!code || !NETWORK_CODES.has(code))) onlyNetworkFailures = false
        failures.push(`${url}: ${code ?? (err as Error).message}`)
        continue
      }
      if (!res.ok || !res.body) {
        onlyNetworkFailures = false
        failures.push(`${url}: HTTP ${res.status}${res.statusText ? ' ' + res.statusText : ''}`)
        await res.body?.cancel().catch(() => undefined)
        continue
      }
      try {
        return { ...(await saveBody(res, url, file, opts, signal, watchdog)), failures }
      } catch (err) {
        if (err instanceof DatasetError && err.code === 'aborted') throw err
        if (opts.signal?.aborted) throw abortError(file, err)
        onlyNetworkFailures = false
        failures.push(`${url}: ${err instanceof DatasetError ? err.problem : (err as Error).message}`)
      }
    } finally {
      watchdog.stop()
    }
  }
  if (onlyNetworkFailures) {
    throw new DatasetError('offline', file, `cannot reach any mirror (${failures.join('; ')}); the computer seems to be offline. Download the file elsewhere and use Import instead.`)
  }
  throw new DatasetError('http', file, `download failed from every mirror: ${failures.join('; ')}`)
}

async function saveBody(res: Response, url: string, file: string, opts: DownloadOptions, signal: AbortSignal, watchdog: Watchdog): Promise<Omit<DownloadResult, 'failures'>> {
  const header = Number(res.headers.get('content-length'))
  const total = Number.isFinite(header) && header > 0 ? header : (opts.bytes ?? null)
  const tmp = `${opts.dest}.part-${randomBytes(4).toString('hex')}`
  const fh = await open(tmp, 'wx')
  const hash = createHash('md5')
  const started = performance.now()
  const interval = opts.progressIntervalMs ?? 100
  let lastEmit = -Infinity
  let bytes = 0
  const emit = (force: boolean) => {
    const now = performance.now()
    if (!opts.onProgress || (!force && now - lastEmit < interval)) return
    lastEmit = now
    const seconds = Math.max((now - started) / 1000, 1e-3)
    const rate = bytes / seconds
    const etaSeconds = total !== null && rate > 0 ? Math.max(total - bytes, 0) / rate : null
    opts.onProgress({ file, url, bytes, total, rate, etaSeconds })
  }
  const stalled = () => new DatasetError('http', file, `stalled: no data for ${watchdog.ms / 1000} s after ${bytes} bytes`)
  let renamed = false
  try {
    const reader = res.body!.getReader()
    const onAbort = () => void reader.cancel().catch(() => undefined)
    signal.addEventListener('abort', onAbort, { once: true })
    try {
      for (;;) {
        const { done, value } = await reader.read()
        if (done) break
        if (opts.signal?.aborted) throw abortError(file, opts.signal.reason)
        watchdog.kick()
        hash.update(value)
        await fh.write(value)
        bytes += value.length
        emit(false)
      }
    } catch (err) {
      // A cancelled body read rejects with the signal's reason; say which side stopped it.
      if (opts.signal?.aborted) throw abortError(file, opts.signal.reason)
      if (watchdog.fired) throw stalled()
      throw err
    } finally {
      signal.removeEventListener('abort', onAbort)
    }
    if (opts.signal?.aborted) throw abortError(file, opts.signal.reason)
    if (watchdog.fired) throw stalled()
    emit(true)
    if (total !== null && bytes !== total) throw new DatasetError('truncated', file, `transfer ended after ${bytes} of ${total} bytes`)
    const md5 = hash.digest('hex')
    if (opts.md5 && md5 !== opts.md5.toLowerCase()) throw new DatasetError('checksum', file, `checksum mismatch: MD5 ${md5}, expected ${opts.md5}`)
    await fh.sync()
    await fh.close()
    await rename(tmp, opts.dest)
    renamed = true
    fsyncDir(dirname(opts.dest))
    return { url, bytes, md5 }
  } finally {
    if (!renamed) {
      await fh.close().catch(() => undefined)
      await rm(tmp, { force: true })
    }
  }
}

/** Aborts its signal when kick() has not been called for `ms`; a stalled mirror then yields to the next. */
class Watchdog {
  private readonly ctl = new AbortController()
  private timer: ReturnType<typeof setTimeout> | undefined
  fired = false

  constructor(readonly ms: number) {
    this.kick()
  }

  get signal(): AbortSignal {
    return this.ctl.signal
  }

  kick(): void {
    clearTimeout(this.timer)
    this.timer = setTimeout(() => {
      this.fired = true
      this.ctl.abort(new Error(`no data for ${this.ms} ms`))
    }, this.ms)
  }

  stop(): void {
    clearTimeout(this.timer)
  }
}

/** Progress of a whole set: `bytes`, `total` and `etaSeconds` are summed over its files (so bytes/total is the overall fraction). */
export interface DatasetProgress extends DownloadProgress {
  /** The file being transferred, 0-based, of `fileCount`. */
  fileIndex: number
  fileCount: number
}

/**
 * Downloads every file of a set into `dir` (each one verified and renamed by downloadFile).
 * Files already there were MD5-checked before their rename, so a restarted get() skips them.
 */
export async function downloadSetFiles(
  info: ImageDatasetInfo,
  dir: string,
  o: { onProgress?: (p: DatasetProgress) => void; signal?: AbortSignal; fetch?: typeof fetch; stallTimeoutMs?: number }
): Promise<void> {
  const totalKnown = info.files.every((f) => f.bytes !== undefined) ? info.files.reduce((a, f) => a + f.bytes!, 0) : null
  let done = 0
  for (let i = 0; i < info.files.length; i++) {
    const f = info.files[i]
    const dest = join(dir, f.name)
    const have = await stat(dest).catch(() => null)
    if (have && (f.bytes === undefined || have.size === f.bytes)) {
      done += have.size
      continue
    }
    await downloadFile({
      urls: info.mirrors.map((m) => m + f.name),
      dest,
      md5: f.md5,
      bytes: f.bytes,
      signal: o.signal,
      fetch: o.fetch,
      stallTimeoutMs: o.stallTimeoutMs,
      onProgress: o.onProgress
        ? (p) => {
            const bytes = done + p.bytes
            const total = totalKnown ?? (p.total !== null ? done + p.total : null)
            const etaSeconds = total !== null && p.rate > 0 ? Math.max(total - bytes, 0) / p.rate : null
            o.onProgress!({ ...p, bytes, total, etaSeconds, fileIndex: i, fileCount: info.files.length })
          }
        : undefined
    })
    done += (await stat(dest)).size
  }
}
