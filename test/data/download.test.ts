import { createHash } from 'node:crypto'
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { downloadFile, type DownloadProgress } from '../../src/lab/datasets/download'
import { expectDatasetError, tmp } from './helpers'

const md5 = (b: Uint8Array) => createHash('md5').update(b).digest('hex')
const GOOD = Buffer.from(Array.from({ length: 200_000 }, (_, i) => (i * 31) % 256))
const OTHER = Buffer.from(GOOD.map((v) => 255 - v))

let server: Server
let base = ''
const hits: string[] = []

beforeAll(async () => {
  server = createServer((req, res) => {
    const url = req.url ?? ''
    hits.push(url)
    if (url.startsWith('/good/')) {
      res.writeHead(200, { 'content-length': GOOD.length })
      res.end(GOOD)
    } else if (url.startsWith('/bad/')) {
      res.writeHead(200, { 'content-length': OTHER.length })
      res.end(OTHER)
    } else if (url.startsWith('/truncated/')) {
      // Promises the whole file, sends half, then drops the connection.
      res.writeHead(200, { 'content-length': GOOD.length })
      res.write(GOOD.subarray(0, GOOD.length / 2), () => res.destroy())
    } else if (url.startsWith('/short/')) {
      // No length header: the cut is only visible against the registry's size.
      res.writeHead(200)
      res.end(GOOD.subarray(0, 1000))
    } else if (url.startsWith('/slow/')) {
      res.writeHead(200, { 'content-length': GOOD.length })
      let off = 0
      const timer = setInterval(() => {
        if (res.destroyed) return clearInterval(timer)
        res.write(GOOD.subarray(off, off + 10_000))
        off += 10_000
        if (off >= GOOD.length) {
          clearInterval(timer)
          res.end()
        }
      }, 15)
      req.on('close', () => clearInterval(timer))
    } else if (url.startsWith('/stall/')) {
      // Sends a little, then nothing, without closing.
      res.writeHead(200, { 'content-length': GOOD.length })
      res.write(GOOD.subarray(0, 100))
    } else if (url.startsWith('/silent/')) {
      // Accepts the request and never answers.
    } else {
      res.writeHead(404)
      res.end('not found')
    }
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
})

afterAll(() => new Promise<void>((r) => server.close(() => r())))

const leftovers = (dir: string) => readdirSync(dir).filter((n) => n.includes('.part-'))

describe('downloadFile against a local server', () => {
  it('streams a good file with progress events, verifies it and renames it into place', async () => {
    const dir = tmp()
    const dest = join(dir, 'f.bin')
    const events: DownloadProgress[] = []
    const r = await downloadFile({ urls: [`${base}/good/f.bin`], dest, md5: md5(GOOD), progressIntervalMs: 0, onProgress: (p) => events.push(p) })
    expect(r.bytes).toBe(GOOD.length)
    expect(r.failures).toEqual([])
    expect(readFileSync(dest).equals(GOOD)).toBe(true)
    expect(events.length).toBeGreaterThan(1)
    for (let i = 1; i < events.length; i++) expect(events[i].bytes).toBeGreaterThanOrEqual(events[i - 1].bytes)
    const last = events[events.length - 1]
    expect(last).toMatchObject({ file: 'f.bin', bytes: GOOD.length, total: GOOD.length, etaSeconds: 0 })
    expect(last.rate).toBeGreaterThan(0)
    expect(leftovers(dir)).toEqual([])
  })

  it('falls back to the next mirror after a 404', async () => {
    const dir = tmp()
    const dest = join(dir, 'f.bin')
    const r = await downloadFile({ urls: [`${base}/gone/f.bin`, `${base}/good/f.bin`], dest, md5: md5(GOOD) })
    expect(r.url).toBe(`${base}/good/f.bin`)
    expect(r.failures).toEqual([`${base}/gone/f.bin: HTTP 404 Not Found`])
    expect(readFileSync(dest).equals(GOOD)).toBe(true)
  })

  it('falls back after a wrong checksum and a dropped connection', async () => {
    const dest = join(tmp(), 'f.bin')
    const r = await downloadFile({ urls: [`${base}/bad/f.bin`, `${base}/truncated/f.bin`, `${base}/good/f.bin`], dest, md5: md5(GOOD) })
    expect(r.url).toBe(`${base}/good/f.bin`)
    expect(r.failures[0]).toMatch(/bad\/f\.bin: checksum mismatch: MD5 [0-9a-f]{32}, expected/)
    expect(r.failures[1]).toMatch(/truncated\/f\.bin: /)
  })

  it('never replaces a good file with a wrong, truncated or short download', async () => {
    const dir = tmp()
    const dest = join(dir, 'f.bin')
    writeFileSync(dest, GOOD)
    const e1 = await expectDatasetError(downloadFile({ urls: [`${base}/bad/f.bin`], dest, md5: md5(GOOD) }), 'http', 'f.bin', /checksum mismatch/)
    expect(e1.problem).toContain(`${base}/bad/f.bin`)
    await expectDatasetError(downloadFile({ urls: [`${base}/truncated/f.bin`], dest, md5: md5(GOOD) }), 'http', 'f.bin')
    await expectDatasetError(downloadFile({ urls: [`${base}/short/f.bin`], dest, md5: md5(GOOD), bytes: GOOD.length }), 'http', 'f.bin', /transfer ended after 1000 of 200000 bytes/)
    expect(readFileSync(dest).equals(GOOD)).toBe(true)
    expect(leftovers(dir)).toEqual([])
  })

  it('reports rate and ETA on a slow transfer and can be cancelled, leaving nothing behind', async () => {
    const dir = tmp()
    const dest = join(dir, 'f.bin')
    const ac = new AbortController()
    const events: DownloadProgress[] = []
    const p = downloadFile({
      urls: [`${base}/slow/f.bin`],
      dest,
      md5: md5(GOOD),
      signal: ac.signal,
      progressIntervalMs: 0,
      onProgress: (e) => {
        events.push(e)
        if (e.bytes >= 50_000) ac.abort()
      }
    })
    await expectDatasetError(p, 'aborted', 'f.bin', /cancelled/)
    const mid = events.find((e) => e.bytes > 0 && e.bytes < GOOD.length)!
    expect(mid.total).toBe(GOOD.length)
    expect(mid.rate).toBeGreaterThan(0)
    expect(mid.etaSeconds).toBeGreaterThan(0)
    expect(existsSync(dest)).toBe(false)
    expect(leftovers(dir)).toEqual([])
    // Restartable: the same call completes afterwards.
    await downloadFile({ urls: [`${base}/slow/f.bin`], dest, md5: md5(GOOD) })
    expect(readFileSync(dest).equals(GOOD)).toBe(true)
  })

  it('gives up on a mirror that stalls (no headers, or no more bytes) and moves on', async () => {
    const dir = tmp()
    const dest = join(dir, 'f.bin')
    const r = await downloadFile({ urls: [`${base}/silent/f.bin`, `${base}/stall/f.bin`, `${base}/good/f.bin`], dest, md5: md5(GOOD), stallTimeoutMs: 300 })
    expect(r.url).toBe(`${base}/good/f.bin`)
    expect(r.failures).toEqual([`${base}/silent/f.bin: no response`, `${base}/stall/f.bin: stalled: no data for 0.3 s after 100 bytes`])
    expect(leftovers(dir)).toEqual([])
  })

  it('says the computer seems offline when no mirror can be reached, and suggests import', async () => {
    const closed = createServer()
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r))
    const port = (closed.address() as AddressInfo).port
    await new Promise<void>((r) => closed.close(() => r()))
    const dest = join(tmp(), 'f.bin')
    await expectDatasetError(downloadFile({ urls: [`http://127.0.0.1:${port}/f.bin`], dest }), 'offline', 'f.bin', /ECONNREFUSED.*offline.*Import/)
    expect(existsSync(dest)).toBe(false)
  })
})
