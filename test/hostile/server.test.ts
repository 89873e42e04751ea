// Hostile input to the browser-mode server: malformed request targets, garbage on the wire and
// DNS-rebinding Host headers. Raw `net` sockets, not fetch, so the bytes arrive exactly as written.
import fs from 'node:fs'
import net from 'node:net'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { hostAllowed, startServer, type RunningServer } from '../../src/server/server'
import { tempDir, testService } from '../helpers/service'
import { connect, request } from '../helpers/ws'

const INDEX = '<!doctype html><title>Score Lab</title>hostile-test-index'

let server: RunningServer
let staticDir: string

beforeAll(async () => {
  staticDir = tempDir('score-lab-hostile-')
  fs.writeFileSync(path.join(staticDir, 'index.html'), INDEX)
  fs.writeFileSync(path.join(staticDir, 'index.html.png'), 'not really a png')
  server = await startServer({ service: testService(), port: 0, staticDir })
})
afterAll(() => server.close())

interface RawResponse {
  status: number
  head: string
  body: string
}

/** Writes raw bytes to the server and reads until it closes (or a short timeout). */
function raw(port: number, bytes: string | Buffer): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1')
    const chunks: Buffer[] = []
    const done = () => {
      clearTimeout(timer)
      socket.destroy()
      const text = Buffer.concat(chunks).toString('latin1')
      const m = /^HTTP\/1\.[01] (\d{3})/.exec(text)
      const split = text.indexOf('\r\n\r\n')
      resolve({ status: m ? Number(m[1]) : 0, head: split >= 0 ? text.slice(0, split) : text, body: split >= 0 ? text.slice(split + 4) : '' })
    }
    const timer = setTimeout(done, 3000)
    socket.on('data', (c) => {
      chunks.push(c)
      // A 101 keeps the socket open: the status line and headers are all there is to read.
      const text = Buffer.concat(chunks).toString('latin1')
      if (text.startsWith('HTTP/1.1 101') && text.includes('\r\n\r\n')) done()
    })
    socket.on('end', done)
    socket.on('close', done)
    socket.on('error', (err: NodeJS.ErrnoException) => (err.code === 'ECONNRESET' ? done() : reject(err)))
    socket.write(bytes)
  })
}

/** A GET with the given request target and Host, on a connection that closes after it. */
function get(target: string, host = `127.0.0.1:${server.port}`, extra = ''): Promise<RawResponse> {
  return raw(server.port, `GET ${target} HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n${extra}\r\n`)
}

/** A raw WebSocket upgrade request to /api with the right token. */
function upgrade(host: string, origin?: string): Promise<RawResponse> {
  return raw(
    server.port,
    `GET /api?token=${server.token} HTTP/1.1\r\nHost: ${host}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n` +
      'Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n' +
      (origin ? `Origin: ${origin}\r\n` : '') +
      '\r\n'
  )
}

async function expectStillServing(s: RunningServer = server): Promise<void> {
  const home = await raw(s.port, `GET / HTTP/1.1\r\nHost: 127.0.0.1:${s.port}\r\nConnection: close\r\n\r\n`)
  expect(home.status).toBe(200)
  expect(home.body).toContain('hostile-test-index')
  const ws = (await connect(`ws://127.0.0.1:${s.port}/api?token=${s.token}`)) as WebSocket
  expect(ws).toBeInstanceOf(WebSocket)
  const frame = await request(ws, JSON.stringify({ id: 1, method: 'system.ping', input: { message: 'alive' } }))
  expect(frame.envelope).toMatchObject({ ok: true, result: { message: 'alive' } })
  ws.close()
}

describe('hostile requests to the static server', () => {
  it('static server answers 400 to a malformed percent-escape and keeps serving', async () => {
    for (const target of ['/%', '/%zz', '/%E0%A4%A', '/%E0%A4', '/%C0%AF', '/a%', '/%%30%30']) {
      const res = await get(target)
      expect(res.status, target).toBe(400)
    }
    await expectStillServing()
  })

  it('static server answers 400 to NUL and control characters in the decoded path and keeps serving', async () => {
    for (const target of ['/%00', '/index.html%00.png', '/%0d%0aSet-Cookie:%20x=1', '/%1b[31m', '/%7f']) {
      const res = await get(target)
      expect(res.status, target).toBe(400)
      expect(res.head).not.toMatch(/set-cookie/i)
    }
    // The file next to it is still served when asked for properly.
    expect((await get('/index.html.png')).status).toBe(200)
    await expectStillServing()
  })

  it('static server refuses encoded and raw path traversal with 403 and never leaks /etc/passwd', async () => {
    for (const target of ['/..%2f..%2fetc%2fpasswd', '/%2e%2e/%2e%2e/etc/passwd', '/../../etc/passwd', '/..%5c..%5cetc%5cpasswd', '/%2e%2e%2f%2e%2e%2f%2e%2e%2fetc%2fpasswd']) {
      const res = await get(target)
      expect([403, 404], target).toContain(res.status)
      expect(res.body, target).not.toMatch(/root:/)
    }
    expect((await get('/..%2f..%2fetc%2fpasswd')).status).toBe(403)
    expect((await get('/%2e%2e/%2e%2e/etc/passwd')).status).toBe(403)
    await expectStillServing()
  })

  it('static server treats //etc/passwd as a path under its root, not a host, and answers 404', async () => {
    const res = await get('//etc/passwd')
    expect(res.status).toBe(404)
    expect(res.body).not.toMatch(/root:/)
    await expectStillServing()
  })

  it('static server accepts an absolute-form target naming itself and refuses one naming another host', async () => {
    const own = await get(`http://127.0.0.1:${server.port}/`)
    expect(own.status).toBe(200)
    expect(own.body).toContain('hostile-test-index')
    expect((await get(`http://evil.com:${server.port}/`)).status).toBe(403)
    expect((await get('*')).status).toBe(400)
    expect((await get('ftp://127.0.0.1/')).status).toBe(400)
    expect((await get(`http://127.0.0.1:${server.port}/%zz`)).status).toBe(400)
    await expectStillServing()
  })

  it('server answers 4xx to garbage request lines, bad headers and a too-long header, and keeps serving', async () => {
    const port = server.port
    const cases: [string, string | Buffer][] = [
      ['garbage bytes', Buffer.from([0x01, 0x02, 0xff, 0xfe, 0x0d, 0x0a, 0x0d, 0x0a])],
      ['no version', 'GET /\r\n\r\n'],
      ['bad version', 'GET / HTTP/9.9\r\nHost: 127.0.0.1\r\n\r\n'],
      ['space in target', `GET /a b c HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n\r\n`],
      ['control char in target', `GET /\x01 HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n\r\n`],
      ['high bytes in target', Buffer.concat([Buffer.from('GET /'), Buffer.from([0xc3, 0xa9, 0xff]), Buffer.from(` HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nConnection: close\r\n\r\n`)])],
      ['bad header name', `GET / HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nBad Header: x\r\n\r\n`],
      ['header without colon', `GET / HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nnocolon\r\n\r\n`],
      ['too-long header', `GET / HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nX-Big: ${'a'.repeat(100_000)}\r\n\r\n`],
      ['bad content-length', `GET / HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nContent-Length: nope\r\n\r\n`]
    ]
    for (const [name, bytes] of cases) {
      const res = await raw(port, bytes)
      expect(res.status, name).toBeGreaterThanOrEqual(400)
      expect(res.status, name).toBeLessThan(500)
    }
    await expectStillServing()
  })

  it('server answers 405 to other methods and 4xx to a malformed upgrade target, and keeps serving', async () => {
    const post = await raw(server.port, `POST / HTTP/1.1\r\nHost: 127.0.0.1:${server.port}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`)
    expect(post.status).toBe(405)
    for (const target of ['/%', '//evil/api', '/api%00']) {
      const res = await raw(
        server.port,
        `GET ${target}?token=${server.token} HTTP/1.1\r\nHost: 127.0.0.1:${server.port}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n` +
          'Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n'
      )
      expect(res.status, target).toBeGreaterThanOrEqual(400)
      expect(res.status, target).toBeLessThan(500)
    }
    await expectStillServing()
  })
})

describe('DNS rebinding: the Host header must name this lab', () => {
  it('static server refuses Host evil.com:PORT with 403 and a one-line reason', async () => {
    const res = await get('/', `evil.com:${server.port}`)
    expect(res.status).toBe(403)
    expect(res.head).toMatch(/content-type: text\/plain/i)
    expect(res.body.trim()).not.toContain('\n')
    expect(res.body).toMatch(/Host evil\.com:\d+ is not this lab/)
    expect(res.body).not.toContain('hostile-test-index')
  })

  it('static server refuses look-alike, wrong-port and missing Host headers', async () => {
    const port = server.port
    for (const host of [`localhost.evil.com:${port}`, `127.0.0.1.evil.com:${port}`, `evil.com`, `127.0.0.1:1`, `localhost`, `127.0.0.1:${port}@evil.com`, `[::2]:${port}`, `127.0.0.256:${port}`]) {
      expect((await get('/', host)).status, host).toBe(403)
    }
    const noHost = await raw(port, 'GET / HTTP/1.0\r\n\r\n')
    expect(noHost.status).toBe(403)
  })

  it('static server accepts loopback Host headers with its own port', async () => {
    const port = server.port
    for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, `LOCALHOST:${port}`, `127.1.2.3:${port}`, `[::1]:${port}`]) {
      const res = await get('/', host)
      expect(res.status, host).toBe(200)
      expect(res.body).toContain('hostile-test-index')
    }
  })

  it('upgrade refuses Host evil.com:PORT with 403 even with the token and a matching Origin', async () => {
    const evil = `evil.com:${server.port}`
    // The rebinding attack: the page's origin and Host are both evil.com, the socket reaches 127.0.0.1.
    expect(await connect(`ws://127.0.0.1:${server.port}/api?token=${server.token}`, { host: evil, origin: `http://${evil}` })).toEqual({ refused: 403 })
    expect(await connect(`ws://127.0.0.1:${server.port}/api?token=${server.token}`, { host: evil })).toEqual({ refused: 403 })
    const rawRes = await upgrade(evil, `http://${evil}`)
    expect(rawRes.status).toBe(403)
    expect(rawRes.body).toMatch(/Host evil\.com:\d+ is not this lab/)
  })

  it('upgrade accepts 127.0.0.1:PORT and localhost:PORT with their own Origin', async () => {
    for (const host of [`127.0.0.1:${server.port}`, `localhost:${server.port}`]) {
      const ws = await connect(`ws://127.0.0.1:${server.port}/api?token=${server.token}`, { host, origin: `http://${host}` })
      expect(ws, host).toBeInstanceOf(WebSocket)
      ;(ws as WebSocket).close()
      expect((await upgrade(host, `http://${host}`)).status, host).toBe(101)
    }
    // The Origin check is unchanged: it must be http://<Host>.
    expect(await connect(`ws://127.0.0.1:${server.port}/api?token=${server.token}`, { host: `localhost:${server.port}`, origin: `http://127.0.0.1:${server.port}` })).toEqual({ refused: 403 })
  })

  it('allowedHosts opts a machine name in, for static and upgrade, and nothing else', async () => {
    const dir = tempDir('score-lab-hostile-allowed-')
    fs.writeFileSync(path.join(dir, 'index.html'), INDEX)
    const opted = await startServer({ service: testService(), port: 0, staticDir: dir, allowedHosts: ['Lab-Box', 'fe80::1'] })
    try {
      const host = `lab-box:${opted.port}`
      const res = await raw(opted.port, `GET / HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`)
      expect(res.status).toBe(200)
      const ws = await connect(`ws://127.0.0.1:${opted.port}/api?token=${opted.token}`, { host, origin: `http://${host}` })
      expect(ws).toBeInstanceOf(WebSocket)
      ;(ws as WebSocket).close()
      const v6 = await raw(opted.port, `GET / HTTP/1.1\r\nHost: [fe80::1]:${opted.port}\r\nConnection: close\r\n\r\n`)
      expect(v6.status).toBe(200)
      const evil = await raw(opted.port, `GET / HTTP/1.1\r\nHost: evil.com:${opted.port}\r\nConnection: close\r\n\r\n`)
      expect(evil.status).toBe(403)
      expect(await connect(`ws://127.0.0.1:${opted.port}/api?token=${opted.token}`, { host: `evil.com:${opted.port}` })).toEqual({ refused: 403 })
      // The default server did not opt lab-box in.
      expect((await get('/', `lab-box:${server.port}`)).status).toBe(403)
      await expectStillServing(opted)
    } finally {
      await opted.close()
    }
  })

  it('hostAllowed owns the rule: loopback names, the port, the configured host and allowedHosts', () => {
    expect(hostAllowed('127.0.0.1:5170', 5170)).toBe(true)
    expect(hostAllowed('localhost:5170', 5170)).toBe(true)
    expect(hostAllowed('[::1]:5170', 5170)).toBe(true)
    expect(hostAllowed('127.255.0.9:5170', 5170)).toBe(true)
    expect(hostAllowed('localhost', 80)).toBe(true)
    expect(hostAllowed('localhost', 5170)).toBe(false)
    expect(hostAllowed('localhost:5171', 5170)).toBe(false)
    expect(hostAllowed('localhost:05170', 5170)).toBe(false)
    expect(hostAllowed('evil.com:5170', 5170)).toBe(false)
    expect(hostAllowed('evil.com:5170', 5170, ['EVIL.com'])).toBe(true)
    expect(hostAllowed('192.168.1.5:5170', 5170, ['192.168.1.5'])).toBe(true)
    expect(hostAllowed('192.168.1.5:5170', 5170, ['0.0.0.0'])).toBe(false)
    expect(hostAllowed('[fe80::1]:5170', 5170, ['fe80::1'])).toBe(true)
    expect(hostAllowed('', 5170)).toBe(false)
    expect(hostAllowed(undefined, 5170)).toBe(false)
    expect(hostAllowed('127.0.0.1:5170, evil.com', 5170)).toBe(false)
    expect(hostAllowed('user@127.0.0.1:5170', 5170)).toBe(false)
    expect(hostAllowed('128.0.0.1:5170', 5170)).toBe(false)
    expect(hostAllowed('[::ffff:127.0.0.1]:5170', 5170)).toBe(false)
  })
})
