// Browser mode: the lab service behind HTTP (the built renderer) and a WebSocket (/api) on
// 127.0.0.1 by default. Every socket must present the access token printed at start (kept in
// the data folder, so a restart accepts the tabs it served before) and come from this
// server's own origin; a malformed frame gets an error frame, never a crash. GET /api/ping
// answers 204 for the right token and 401 otherwise, which a browser can read (it cannot read
// why a WebSocket failed): a tab tells "wrong token" from "server down" with it.
// Every request, static or upgrade, must name this server in its Host header (hostAllowed:
// the DNS-rebinding guard), and no request, however malformed, may throw out of a handler:
// a crash here would take any training in this process down with it.
import http from 'node:http'
import fs from 'node:fs'
import path from 'node:path'
import crypto from 'node:crypto'
import type { Duplex } from 'node:stream'
import { WebSocketServer, type WebSocket } from 'ws'
import { MAX_FRAME_BYTES, RequestFrameSchema, type Envelope, type ServerFrame } from '../shared/contract'
import { contentSecurityPolicy } from '../shared/csp'
import { createDispatch, validationError } from '../lab/dispatch'
import { loadAccessToken } from '../lab/access-token'
import type { LabService } from '../lab/service'

export interface ServerOptions {
  service: LabService
  host?: string
  port?: number
  /** Folder with the built renderer (index.html). */
  staticDir: string
  /** Fixed token (tests), not stored; otherwise the data folder's (<dataDir>/browser-token). */
  token?: string
  /** Replace the data folder's token with a new one (`score-lab serve --new-token`). */
  newToken?: boolean
  /**
   * Extra names (no port) accepted in the Host header besides loopback and `host` itself,
   * e.g. this machine's name or LAN address when serving with host 0.0.0.0 (which only ever
   * matches the literal Host 0.0.0.0, never any name). The user's opt-in.
   */
  allowedHosts?: string[]
}

export interface RunningServer {
  url: string
  /** The URL with the token, to open in a browser. */
  openUrl: string
  token: string
  /** The file the token is kept in (absent for a fixed token). */
  tokenFile?: string
  /** Set when a new token was made: 'created', 'rotated', or what was wrong with the stored one. */
  tokenMade?: string
  port: number
  close(): Promise<void>
}

/** The WebSocket subprotocol the renderer asks for; it carries the token in a second one. */
export const API_PROTOCOL = 'score-lab'
/** Prefix of the subprotocol that carries the token (`score-lab.token.<token>`), so it never appears in a URL. */
export const TOKEN_PROTOCOL_PREFIX = 'score-lab.token.'
/** Header with the token for GET /api/ping (the query's `token` works too). */
export const TOKEN_HEADER = 'x-score-lab-token'

/** The renderer's policy (src/shared/csp.ts), as a header on every answer. */
const CSP = contentSecurityPolicy({ delivery: 'header' })

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
  const stored = opts.token === undefined ? loadAccessToken(opts.service.dataDir, { rotate: opts.newToken }) : null
  const token = opts.token ?? stored!.token
  const dispatch = createDispatch(opts.service.handlers, {
    onInternalError: (err) => console.error('[score-lab] internal error:', err)
  })
  const staticRoot = path.resolve(opts.staticDir)
  // The configured host is accepted as a Host name too, literally as the printed URL shows it
  // (so `--host 0.0.0.0` still opens at http://0.0.0.0:PORT/); a wildcard never widens the rule.
  const allowed = [host, ...(opts.allowedHosts ?? [])]

  let port = opts.port ?? 0
  const server = http.createServer((req, res) => {
    try {
      serveStatic(staticRoot, req, res, port, allowed, token)
    } catch (err) {
      internalError(res, err)
    }
  })
  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: 64 * MAX_FRAME_BYTES,
    // Never echo the token's subprotocol back: pick ours, or none (clients without protocols).
    handleProtocols: (protocols) => (protocols.has(API_PROTOCOL) ? API_PROTOCOL : false)
  })

  // A request the parser cannot read (garbage request line, oversized header, bad characters)
  // never reaches a handler: answer it here and drop the connection.
  server.on('clientError', (err: NodeJS.ErrnoException, socket) => {
    // Mid-response on a kept-alive socket a raw answer would corrupt the stream: just drop it.
    const inFlight = (socket as Duplex & { _httpMessage?: http.ServerResponse })._httpMessage
    if (err.code === 'ECONNRESET' || !socket.writable || inFlight?.headersSent) {
      socket.destroy()
      return
    }
    const status =
      err.code === 'HPE_HEADER_OVERFLOW' ? '431 Request Header Fields Too Large'
      : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? '408 Request Timeout'
      : '400 Bad Request'
    endSocket(socket, status, 'Bad request: the request could not be parsed')
  })

  server.on('upgrade', (req, socket, head) => {
    // Node detaches its own error listener from an upgraded socket: without one, a peer reset
    // while we answer would be an uncaught error.
    socket.on('error', () => socket.destroy())
    try {
      const reason = refuseReason(req, token, port, allowed)
      if (reason) {
        endSocket(socket, `${reason.status} ${STATUS_TEXT[reason.status] ?? 'Error'}`, reason.text)
        return
      }
      wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req))
    } catch (err) {
      console.error('[score-lab] upgrade failed:', err)
      endSocket(socket, '500 Internal Server Error', 'Internal Server Error')
    }
  })

  wss.on('connection', (ws: WebSocket) => {
    const unsubscribe = opts.service.events.subscribe((event) => send(ws, { type: 'event', event }))
    ws.on('close', unsubscribe)
    ws.on('error', () => unsubscribe())
    ws.on('message', async (data, isBinary) => {
      const reply = (id: number | string | null, envelope: Envelope<unknown>) =>
        send(ws, { type: 'response', id, envelope })
      try {
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
      } catch (err) {
        // dispatch already turns handler failures into envelopes; this is the last net under it.
        console.error('[score-lab] websocket message failed:', err)
        try {
          ws.close(1011, 'internal error')
        } catch {
          ws.terminate()
        }
      }
    })
  })

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, host, () => {
      port = (server.address() as { port: number }).port
      resolve()
    })
  })
  const url = `http://${bracketIPv6(host)}:${port}/`
  return {
    url,
    openUrl: `${url}?token=${token}`,
    token,
    ...(stored ? { tokenFile: stored.file, ...(stored.made ? { tokenMade: stored.made } : {}) } : {}),
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

const STATUS_TEXT: Record<number, string> = { 400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found' }

/** `::1` -> `[::1]`; names and IPv4 addresses unchanged. The form a Host header and a URL use. */
function bracketIPv6(host: string): string {
  return host.includes(':') && !host.startsWith('[') ? `[${host}]` : host
}

function isLoopbackIPv4(name: string): boolean {
  const m = /^127\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(name)
  return m !== null && m.slice(1).every((octet) => Number(octet) <= 255)
}

/**
 * The DNS-rebinding guard, for static requests and WebSocket upgrades alike: the Host header
 * must name this machine's loopback (localhost, 127.x.y.z, [::1]) or one of `allowed` (names
 * without a port: the configured host, the user's allowedHosts), with exactly this server's
 * port (no port only when the port is 80). A page on evil.com re-pointed at 127.0.0.1 still
 * sends `Host: evil.com:PORT`, and is refused.
 */
export function hostAllowed(hostHeader: string | undefined, port: number, allowed: readonly string[] = []): boolean {
  if (!hostHeader) return false
  const m = /^(\[[0-9a-f:.]+\]|[a-z0-9._-]+)(?::(\d{1,5}))?$/i.exec(hostHeader)
  if (!m) return false
  if ((m[2] ?? '80') !== String(port)) return false
  const name = m[1].toLowerCase()
  if (name === 'localhost' || name === '[::1]' || isLoopbackIPv4(name)) return true
  return allowed.some((a) => a.trim() !== '' && bracketIPv6(a.trim().toLowerCase()) === name)
}

/** One line naming the refused Host, safe to echo (printable ASCII only, bounded). */
function hostRefusal(hostHeader: string | undefined): string {
  const shown = (hostHeader ?? '(none)').replace(/[^\x20-\x7e]/g, '?').slice(0, 200)
  return `Forbidden: Host ${shown} is not this lab (DNS-rebinding guard); open it via 127.0.0.1 or localhost, or start the lab with --allow-host NAME`
}

interface RequestTarget {
  /** host[:port] of an absolute-form target (`GET http://host/ HTTP/1.1`), else null. */
  authority: string | null
  /** The path, still percent-encoded, always starting with '/'. */
  rawPath: string
  /** The query without '?', still encoded. */
  query: string
}

/**
 * Splits a request target without the WHATWG URL parser, which would read `//etc/passwd` as a
 * host named etc and normalise away what should be refused. Only origin-form (`/path?q`) and
 * http(s) absolute-form are accepted; the path must be printable ASCII with well-formed escapes.
 */
function parseTarget(raw: string | undefined): RequestTarget | { status: 400; text: string } {
  const bad = (why: string) => ({ status: 400 as const, text: `Bad request: ${why}` })
  if (!raw) return bad('empty request target')
  let authority: string | null = null
  let rest = raw
  if (!raw.startsWith('/')) {
    const abs = /^https?:\/\/([^/?#]*)(.*)$/is.exec(raw)
    if (!abs) return bad('the request target must be a path')
    authority = abs[1]
    rest = abs[2] === '' || abs[2].startsWith('?') ? '/' + abs[2] : abs[2]
    if (!rest.startsWith('/')) return bad('the request target must be a path')
  }
  const hash = rest.indexOf('#')
  if (hash >= 0) rest = rest.slice(0, hash)
  const q = rest.indexOf('?')
  const rawPath = q >= 0 ? rest.slice(0, q) : rest
  const query = q >= 0 ? rest.slice(q + 1) : ''
  if (!/^[\x21-\x7e]*$/.test(rest)) return bad('the URL has characters that must be percent-encoded')
  if (/%(?![0-9a-f]{2})/i.test(rawPath)) return bad('malformed percent-escape in the URL')
  return { authority, rawPath, query }
}

/** Why a request is refused by Host: the Host header and, in absolute-form, the target's authority. */
function hostRefused(req: http.IncomingMessage, target: RequestTarget, port: number, allowed: readonly string[]): string | null {
  if (!hostAllowed(req.headers.host, port, allowed)) return hostRefusal(req.headers.host)
  if (target.authority !== null && !hostAllowed(target.authority, port, allowed)) return hostRefusal(target.authority)
  return null
}

/**
 * Why an upgrade is refused, or null. Checks the target, the Host (DNS rebinding, hostAllowed),
 * the token and the Origin.
 */
export function refuseReason(
  req: http.IncomingMessage,
  token: string,
  port: number,
  allowed: readonly string[] = []
): { status: number; text: string } | null {
  const target = parseTarget(req.url)
  if ('status' in target) return target
  const hostReason = hostRefused(req, target, port, allowed)
  if (hostReason) return { status: 403, text: hostReason }
  if (target.rawPath !== '/api') return { status: 404, text: 'Not Found' }
  const given = new URLSearchParams(target.query).get('token') ?? protocolToken(req.headers['sec-websocket-protocol']) ?? ''
  if (!given || !tokensEqual(given, token)) return { status: 401, text: 'Unauthorized: missing or wrong access token' }
  const hostHeader = req.headers.host ?? ''
  const origin = req.headers.origin
  // Browsers always send Origin on WebSocket upgrades; it must be this server's own page.
  // Non-browser clients (the CLI, tests) may omit it, and they already hold the token.
  if (origin !== undefined && origin !== `http://${hostHeader}`) return { status: 403, text: `Forbidden: origin ${origin} is not this lab` }
  return null
}

/** The token a browser offers as a subprotocol (`score-lab.token.<token>`), or null. */
function protocolToken(header: string | string[] | undefined): string | null {
  const list = (Array.isArray(header) ? header.join(',') : (header ?? '')).split(',').map((p) => p.trim())
  const found = list.find((p) => p.startsWith(TOKEN_PROTOCOL_PREFIX))
  return found ? found.slice(TOKEN_PROTOCOL_PREFIX.length) : null
}

/**
 * GET /api/ping: 204 with the right token (header or query), 401 without it. Tells a tab whose
 * socket dropped whether the lab is back and still takes its token; says nothing else.
 */
function ping(req: http.IncomingMessage, res: http.ServerResponse, query: string, token: string): void {
  const header = req.headers[TOKEN_HEADER]
  const given = (typeof header === 'string' ? header : null) ?? new URLSearchParams(query).get('token') ?? ''
  const headers = { ...BASE_HEADERS, 'Cache-Control': 'no-store' }
  if (given && tokensEqual(given, token)) return void res.writeHead(204, headers).end()
  const body = 'Unauthorized: missing or wrong access token\n'
  res.writeHead(401, { ...headers, 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': Buffer.byteLength(body) }).end(req.method === 'HEAD' ? undefined : body)
}

/** Answers on a raw socket (upgrade, client error) and closes it once the answer is flushed. */
function endSocket(socket: Duplex, statusLine: string, text: string): void {
  if (!socket.writable) {
    socket.destroy()
    return
  }
  const body = text.replace(/[\r\n]+/g, ' ') + '\n'
  socket.once('finish', () => socket.destroy())
  socket.end(
    `HTTP/1.1 ${statusLine}\r\nConnection: close\r\nContent-Type: text/plain; charset=utf-8\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`
  )
  setTimeout(() => socket.destroy(), 2000).unref()
}

/** The last net under the request handler: log once, answer 500 if still possible, never throw. */
function internalError(res: http.ServerResponse, err: unknown): void {
  console.error('[score-lab] request failed:', err)
  try {
    if (!res.headersSent) res.writeHead(500, { 'Content-Type': 'text/plain; charset=utf-8' }).end('Internal Server Error\n')
    else res.destroy()
  } catch {
    res.destroy()
  }
}

const BASE_HEADERS = { 'Content-Security-Policy': CSP, 'X-Content-Type-Options': 'nosniff', 'Referrer-Policy': 'no-referrer' }

function plain(res: http.ServerResponse, status: number, text: string): void {
  const body = text + '\n'
  res
    .writeHead(status, { ...BASE_HEADERS, 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': Buffer.byteLength(body) })
    .end(body)
}

/** The file a percent-encoded path names under root, or the status that refuses it. */
function staticFile(root: string, rawPath: string): { file: string; pathname: string } | { status: 400 | 403; text: string } {
  let pathname: string
  try {
    pathname = decodeURIComponent(rawPath)
  } catch {
    return { status: 400, text: 'Bad request: the URL escapes are not valid UTF-8' }
  }
  // NUL makes fs throw; other control characters have no business in a file name we serve.
  if (/[\x00-\x1f\x7f]/.test(pathname)) return { status: 400, text: 'Bad request: control characters in the URL path' }
  const file = path.resolve(root, '.' + (pathname === '/' ? '/index.html' : pathname))
  if (!file.startsWith(root + path.sep) && file !== root) return { status: 403, text: 'Forbidden' }
  return { file, pathname }
}

function serveStatic(root: string, req: http.IncomingMessage, res: http.ServerResponse, port: number, allowed: readonly string[], token: string): void {
  const target = parseTarget(req.url)
  if ('status' in target) return plain(res, target.status, target.text)
  const hostReason = hostRefused(req, target, port, allowed)
  if (hostReason) return plain(res, 403, hostReason)
  if (req.method !== 'GET' && req.method !== 'HEAD') return plain(res, 405, 'Method Not Allowed')
  if (target.rawPath === '/api/ping') return ping(req, res, target.query, token)
  const resolved = staticFile(root, target.rawPath)
  if ('status' in resolved) return plain(res, resolved.status, resolved.text)
  const { file, pathname } = resolved
  fs.readFile(file, (err, body) => {
    try {
      if (err) {
        const missingBuild = pathname === '/' || pathname === '/index.html'
        return plain(res, 404, missingBuild ? `The renderer is not built (${root} has no index.html). Run: npm run build` : 'Not Found')
      }
      res.writeHead(200, { ...BASE_HEADERS, 'Content-Type': TYPES[path.extname(file)] ?? 'application/octet-stream', 'Cache-Control': 'no-cache' })
      res.end(req.method === 'HEAD' ? undefined : body)
    } catch (e) {
      internalError(res, e)
    }
  })
}
