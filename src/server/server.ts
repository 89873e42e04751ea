// Browser mode: the lab service behind HTTP (the built renderer) and a WebSocket (/api) on
// 127.0.0.1 by default. Every socket must present the random token printed at start and
// come from this server's own origin; a malformed frame gets an error frame, never a crash.
import http from 'node:http'
import fs from 'node:fs'
import path from 'node:path'
import crypto from 'node:crypto'
import { WebSocketServer, type WebSocket } from 'ws'
import { MAX_FRAME_BYTES, RequestFrameSchema, type Envelope, type ServerFrame } from '../shared/contract'
import { createDispatch, validationError } from '../lab/dispatch'
import type { LabService } from '../lab/service'

export interface ServerOptions {
  service: LabService
  host?: string
  port?: number
  /** Folder with the built renderer (index.html). */
  staticDir: string
  /** Fixed token (tests); random otherwise. */
  token?: string
}

export interface RunningServer {
  url: string
  /** The URL with the token, to open in a browser. */
  openUrl: string
  token: string
  port: number
  close(): Promise<void>
}

const CSP =
  "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; " +
  "connect-src 'self'; font-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'"

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.json': 'application/json',
  '.woff2': 'font/woff2',
  '.ico': 'image/x-icon'
}

export function tokensEqual(a: string, b: string): boolean {
  const x = Buffer.from(a)
  const y = Buffer.from(b)
  return x.length === y.length && crypto.timingSafeEqual(x, y)
}

export async function startServer(opts: ServerOptions): Promise<RunningServer> {
  const host = opts.host ?? '127.0.0.1'
  const token = opts.token ?? crypto.randomBytes(24).toString('base64url')
  const dispatch = createDispatch(opts.service.handlers, {
    onInternalError: (err) => console.error('[score-lab] internal error:', err)
  })
  const staticRoot = path.resolve(opts.staticDir)

  const server = http.createServer((req, res) => serveStatic(staticRoot, req, res))
  const wss = new WebSocketServer({ noServer: true, maxPayload: 64 * MAX_FRAME_BYTES })

  let port = opts.port ?? 0
  server.on('upgrade', (req, socket, head) => {
    const reason = refuseReason(req, token, port)
    if (reason) {
      socket.write(`HTTP/1.1 ${reason.status} ${reason.text}\r\nConnection: close\r\nContent-Type: text/plain\r\n\r\n${reason.text}\n`)
      socket.destroy()
      return
    }
    wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req))
  })

  wss.on('connection', (ws: WebSocket) => {
    const unsubscribe = opts.service.events.subscribe((event) => send(ws, { type: 'event', event }))
    ws.on('close', unsubscribe)
    ws.on('error', () => unsubscribe())
    ws.on('message', async (data, isBinary) => {
      const reply = (id: number | string | null, envelope: Envelope<unknown>) =>
        send(ws, { type: 'response', id, envelope })
      const size = Array.isArray(data) ? data.reduce((n, b) => n + b.length, 0) : (data as Buffer).byteLength
      if (size > MAX_FRAME_BYTES) {
        return reply(null, { ok: false, error: { code: 'too_large', message: `Frame of ${(size / 1e6).toFixed(1)} MB refused; the limit is ${MAX_FRAME_BYTES / 1e6} MB.` } })
      }
      if (isBinary) return reply(null, { ok: false, error: { code: 'bad_request', message: 'Binary frames are not accepted; send JSON text.' } })
      let json: unknown
      try {
        json = JSON.parse(data.toString())
      } catch {
        return reply(null, { ok: false, error: { code: 'bad_request', message: 'Frame is not valid JSON.' } })
      }
      const frame = RequestFrameSchema.safeParse(json)
      if (!frame.success) {
        const id = typeof (json as { id?: unknown })?.id === 'number' ? ((json as { id: number }).id) : null
        return reply(id, { ok: false, error: validationError('request frame', frame.error) })
      }
      reply(frame.data.id, await dispatch(frame.data.method, frame.data.input))
    })
  })

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, host, () => resolve())
  })
  port = (server.address() as { port: number }).port
  const shownHost = host.includes(':') ? `[${host}]` : host
  const url = `http://${shownHost}:${port}/`
  return {
    url,
    openUrl: `${url}?token=${token}`,
    token,
    port,
    close: async () => {
      for (const c of wss.clients) c.terminate()
      await new Promise<void>((r) => wss.close(() => r()))
      await new Promise<void>((r) => server.close(() => r()))
    }
  }
}

function send(ws: WebSocket, frame: ServerFrame): void {
  if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(frame))
}

/** Why an upgrade is refused, or null. Checks the token, the Host (DNS rebinding) and the Origin. */
export function refuseReason(req: http.IncomingMessage, token: string, port: number): { status: number; text: string } | null {
  const url = new URL(req.url ?? '/', 'http://placeholder')
  if (url.pathname !== '/api') return { status: 404, text: 'Not Found' }
  const given = url.searchParams.get('token') ?? ''
  if (!given || !tokensEqual(given, token)) return { status: 401, text: 'Unauthorized: missing or wrong access token' }
  const hostHeader = req.headers.host ?? ''
  const origin = req.headers.origin
  // Browsers always send Origin on WebSocket upgrades; it must be this server's own page.
  // Non-browser clients (the CLI, tests) may omit it, and they already hold the token.
  if (origin !== undefined && origin !== `http://${hostHeader}`) return { status: 403, text: `Forbidden: origin ${origin} is not this lab` }
  if (!hostHeader.endsWith(`:${port}`)) return { status: 403, text: 'Forbidden: unexpected Host header' }
  return null
}

function serveStatic(root: string, req: http.IncomingMessage, res: http.ServerResponse): void {
  const headers = { 'Content-Security-Policy': CSP, 'X-Content-Type-Options': 'nosniff', 'Referrer-Policy': 'no-referrer' }
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.writeHead(405, headers).end('Method Not Allowed')
    return
  }
  const pathname = decodeURIComponent(new URL(req.url ?? '/', 'http://placeholder').pathname)
  const file = path.resolve(root, '.' + (pathname === '/' ? '/index.html' : pathname))
  if (!file.startsWith(root + path.sep) && file !== root) {
    res.writeHead(403, headers).end('Forbidden')
    return
  }
  fs.readFile(file, (err, body) => {
    if (err) {
      const missingBuild = pathname === '/' || pathname === '/index.html'
      res
        .writeHead(404, { ...headers, 'Content-Type': 'text/plain; charset=utf-8' })
        .end(missingBuild ? `The renderer is not built (${root} has no index.html). Run: npm run build` : 'Not Found')
      return
    }
    res.writeHead(200, { ...headers, 'Content-Type': TYPES[path.extname(file)] ?? 'application/octet-stream', 'Cache-Control': 'no-cache' })
    res.end(req.method === 'HEAD' ? undefined : body)
  })
}
