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
