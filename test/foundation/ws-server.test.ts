import fs from 'node:fs'
import http from 'node:http'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { startServer, type RunningServer } from '../../src/server/server'
import { testService } from '../helpers/service'
import { connect, request } from '../helpers/ws'

let server: RunningServer
let api: string

beforeAll(async () => {
  server = await startServer({ service: testService(), port: 0, staticDir: '/nonexistent-renderer' })
  api = `ws://127.0.0.1:${server.port}/api`
})
afterAll(() => server.close())

describe('browser-mode server', () => {
  it('binds to 127.0.0.1 by default and prints a tokened URL', () => {
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/)
    expect(server.openUrl).toContain(`token=${server.token}`)
    expect(server.token.length).toBeGreaterThanOrEqual(32)
  })

  it('refuses a socket without the token, or with a wrong one', async () => {
    expect(await connect(api)).toEqual({ refused: 401 })
    expect(await connect(`${api}?token=wrong`)).toEqual({ refused: 401 })
    expect(await connect(`${api}?token=${server.token.slice(0, -1)}`)).toEqual({ refused: 401 })
  })

  it('refuses other origins even with the token', async () => {
    expect(await connect(`${api}?token=${server.token}`, { Origin: 'http://evil.example' })).toEqual({ refused: 403 })
    expect(await connect(`${api}?token=${server.token}`, { Origin: 'http://localhost:1' })).toEqual({ refused: 403 })
  })

  it('accepts its own origin and serves a real call', async () => {
    const ws = (await connect(`${api}?token=${server.token}`, { Origin: `http://127.0.0.1:${server.port}` })) as WebSocket
    const frame = await request(ws, JSON.stringify({ id: 1, method: 'system.info', input: {} }))
    expect(frame).toMatchObject({ type: 'response', id: 1, envelope: { ok: true } })
    expect(frame.envelope.result.shell).toBe('browser')
    ws.close()
  })

  it('answers every malformed frame with a clear error and stays up', async () => {
    const ws = (await connect(`${api}?token=${server.token}`)) as WebSocket
    const cases: [string | Buffer, string, RegExp][] = [
      ['{not json', 'bad_request', /not valid JSON/],
      [JSON.stringify({ method: 'system.info' }), 'bad_request', /id/],
      [JSON.stringify({ id: 2, method: 'nope.nothing', input: {} }), 'unknown_method', /nope\.nothing/],
      [JSON.stringify({ id: 3, method: 'system.ping', input: { message: 7 } }), 'bad_request', /message/],
      [JSON.stringify({ id: 4, method: 'system.ping', input: {} }), 'bad_request', /message/],
      [JSON.stringify({ id: 5, method: 'system.ping', input: { message: 'z'.repeat(10_000_000) } }), 'too_large', /10\.0 MB/],
      [JSON.stringify([1, 2, 3]), 'bad_request', /request frame/]
    ]
    for (const [raw, code, message] of cases) {
      const frame = await request(ws, raw)
      expect(frame.envelope.ok).toBe(false)
      expect(frame.envelope.error.code).toBe(code)
      expect(frame.envelope.error.message).toMatch(message)
    }
    const binary = await request(ws, Buffer.from([1, 2, 3]), { binary: true })
    expect(binary.envelope.error.message).toMatch(/Binary frames/)
    // Still alive on the same socket after all of that.
    const ok = await request(ws, JSON.stringify({ id: 9, method: 'system.ping', input: { message: 'still here' } }))
    expect(ok.envelope).toMatchObject({ ok: true, result: { message: 'still here' } })
    ws.close()
  })

  it('serves static files with a CSP and refuses path traversal', async () => {
    const res = await fetch(`${server.url}index.html`)
    expect(res.status).toBe(404)
    expect(await res.text()).toMatch(/npm run build/)
    expect(res.headers.get('content-security-policy')).toMatch(/default-src 'self'/)
    const traversal = await fetch(`${server.url}..%2f..%2fetc%2fpasswd`)
    expect([403, 404]).toContain(traversal.status)
  })
})

describe('browser-mode access token', () => {
  const mode = (file: string) => fs.statSync(file).mode & 0o777

  it('keeps the token in the data folder (0600) across restarts; newToken rotates it', async () => {
    const service = testService()
    const file = path.join(service.dataDir, 'browser-token')
    const start = (opts: { newToken?: boolean } = {}) => startServer({ service, port: 0, staticDir: '/nonexistent-renderer', ...opts })

    const first = await start()
    await first.close()
    expect(first.tokenMade).toBe('created')
    expect(first.tokenFile).toBe(file)
    expect(fs.readFileSync(file, 'utf8').trim()).toBe(first.token)
    if (process.platform !== 'win32') expect(mode(file)).toBe(0o600)

    const second = await start()
    await second.close()
    expect(second.token).toBe(first.token)
    expect(second.tokenMade).toBeUndefined()

    const rotated = await start({ newToken: true })
    expect(rotated.tokenMade).toBe('rotated')
    expect(rotated.token).not.toBe(first.token)
    expect(rotated.token.length).toBeGreaterThanOrEqual(32)
    // The old token is refused from then on; the new one is kept for the next start.
    expect(await connect(`ws://127.0.0.1:${rotated.port}/api?token=${first.token}`)).toEqual({ refused: 401 })
    await rotated.close()
    expect(fs.readFileSync(file, 'utf8').trim()).toBe(rotated.token)
    if (process.platform !== 'win32') expect(mode(file)).toBe(0o600)
    const third = await start()
    await third.close()
    expect(third.token).toBe(rotated.token)
    expect(fs.readdirSync(service.dataDir).filter((f) => f.includes('browser-token'))).toEqual(['browser-token'])
  })

  it('a fixed token (tests) is used as given and not stored', async () => {
    const service = testService()
    const s = await startServer({ service, port: 0, staticDir: '/nonexistent-renderer', token: 'fixed-token-for-tests-0123456789abcdef' })
    await s.close()
    expect(s.token).toBe('fixed-token-for-tests-0123456789abcdef')
    expect(s.tokenFile).toBeUndefined()
    expect(fs.existsSync(path.join(service.dataDir, 'browser-token'))).toBe(false)
  })

  it('GET /api/ping answers 204 for the token (header or query) and 401 otherwise', async () => {
    const ping = (headers: Record<string, string> = {}, query = '') => fetch(`${server.url}api/ping${query}`, { headers })
    expect((await ping({ 'X-Score-Lab-Token': server.token })).status).toBe(204)
    expect((await ping({}, `?token=${server.token}`)).status).toBe(204)
    for (const res of [await ping(), await ping({ 'X-Score-Lab-Token': 'wrong' }), await ping({}, '?token=wrong')]) {
      expect(res.status).toBe(401)
      expect(res.headers.get('cache-control')).toBe('no-store')
      expect(await res.text()).not.toContain(server.token)
    }
    // The DNS-rebinding guard still comes first (fetch cannot set Host).
    const status = await new Promise<number | undefined>((resolve, reject) => {
      http
        .get(`${server.url}api/ping`, { headers: { 'X-Score-Lab-Token': server.token, Host: 'evil.example' } }, (res) => {
          res.resume()
          resolve(res.statusCode)
        })
        .on('error', reject)
    })
    expect(status).toBe(403)
  })

  it('takes the token as a WebSocket subprotocol (as the browser sends it) and never echoes it', async () => {
    const open = (protocols: string[]) =>
      new Promise<WebSocket | { refused: number }>((resolve, reject) => {
        const ws = new WebSocket(api, protocols)
        ws.once('open', () => resolve(ws))
        ws.once('unexpected-response', (_req, res) => resolve({ refused: res.statusCode ?? 0 }))
        ws.once('error', reject)
      })
    const ws = (await open(['score-lab', `score-lab.token.${server.token}`])) as WebSocket
    expect(ws.protocol).toBe('score-lab')
    const frame = await request(ws, JSON.stringify({ id: 1, method: 'system.ping', input: { message: 'hi' } }))
    expect(frame.envelope).toMatchObject({ ok: true })
    ws.close()
    expect(await open(['score-lab', 'score-lab.token.wrong'])).toEqual({ refused: 401 })
    expect(await open(['score-lab'])).toEqual({ refused: 401 })
  })
})
