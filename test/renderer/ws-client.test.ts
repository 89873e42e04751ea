// The browser-mode client's connection logic, with a fake socket and fetch: it pings before it
// opens a socket (401: unauthorized, no answer: down), retries with a capped backoff, fails the
// calls in flight on a drop and reconnects by itself, and never puts the token in a URL.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { backoffDelay, createWsClient, MESSAGES, type ConnectionState } from '../../src/renderer/src/lib/ws-client'

const TOKEN = 'tok_ABCDEFGHIJKLMNOPQRSTUVWXYZ012345'

class FakeSocket {
  static OPEN = 1
  static all: FakeSocket[] = []
  readyState = 0
  sent: string[] = []
  onopen: (() => void) | null = null
  onclose: ((ev: { code: number }) => void) | null = null
  onmessage: ((ev: { data: string }) => void) | null = null
  constructor(
    public url: string,
    public protocols: string[]
  ) {
    FakeSocket.all.push(this)
  }
  send(data: string) {
    this.sent.push(data)
  }
  close() {
    this.drop()
  }
  open() {
    this.readyState = 1
    this.onopen?.()
  }
  drop() {
    this.readyState = 3
    this.onclose?.({ code: 1006 })
  }
}

let pingAnswer: number | 'refused'
let fetched: { url: string; init: RequestInit }[]
const fakeFetch = (async (url: string, init: RequestInit) => {
  fetched.push({ url, init })
  if (pingAnswer === 'refused') throw new TypeError('Failed to fetch')
  return { status: pingAnswer } as Response
}) as unknown as typeof fetch

function client(token = TOKEN) {
  const states: ConnectionState[] = []
  const c = createWsClient({
    url: 'ws://lab/api',
    pingUrl: 'http://lab/api/ping',
    token,
    onState: (s) => states.push(s),
    WebSocket: FakeSocket as unknown as typeof WebSocket,
    fetch: fakeFetch
  })
  return { c, states, last: () => states.at(-1)! }
}

beforeEach(() => {
  vi.useFakeTimers()
  FakeSocket.all = []
  fetched = []
  pingAnswer = 204
})
afterEach(() => vi.useRealTimers())

describe('ws-client', () => {
  it('backs off from 0.5 s, doubling, capped at 10 s', () => {
    expect([1, 2, 3, 4, 5, 6, 7, 50].map((n) => backoffDelay(n))).toEqual([500, 1000, 2000, 4000, 8000, 10_000, 10_000, 10_000])
  })

  it('pings with the token in a header, then opens the socket with it as a subprotocol (never in a URL)', async () => {
    const { c, last } = client()
    await vi.advanceTimersByTimeAsync(0)
    expect(fetched[0]!.url).toBe('http://lab/api/ping')
    expect((fetched[0]!.init.headers as Record<string, string>)['X-Score-Lab-Token']).toBe(TOKEN)
    const ws = FakeSocket.all[0]!
    expect(ws.url).toBe('ws://lab/api')
    expect(ws.protocols).toEqual(['score-lab', `score-lab.token.${TOKEN}`])
    ws.open()
    expect(last()).toMatchObject({ status: 'open', since: null, attempts: 0, everOpened: true })
    c.close()
  })

  it('tells a refused token (401) from a lab that is down, and opens no socket for either', async () => {
    pingAnswer = 401
    const a = client()
    await vi.advanceTimersByTimeAsync(0)
    expect(a.last()).toMatchObject({ status: 'unauthorized', reason: 'unauthorized', detail: MESSAGES.wrongToken })
    a.c.close()
    pingAnswer = 'refused'
    const b = client()
    await vi.advanceTimersByTimeAsync(0)
    expect(b.last()).toMatchObject({ status: 'down', reason: 'down', detail: MESSAGES.down, attempts: 1, everOpened: false })
    expect(FakeSocket.all).toHaveLength(0)
    b.c.close()
    const none = client('')
    await vi.advanceTimersByTimeAsync(0)
    expect(none.last()).toMatchObject({ status: 'unauthorized', detail: MESSAGES.noToken })
    expect(fetched).toHaveLength(2) // no ping without a token
    none.c.close()
  })

  it('on a drop fails the calls in flight, retries with backoff and reconnects by itself', async () => {
    const { c, last } = client()
    await vi.advanceTimersByTimeAsync(0)
    FakeSocket.all[0]!.open()
    const call = c.api.system.info()
    await vi.advanceTimersByTimeAsync(0)
    expect(FakeSocket.all[0]!.sent).toHaveLength(1)
    pingAnswer = 'refused'
    vi.setSystemTime(new Date('2025-01-01T12:00:00Z'))
    FakeSocket.all[0]!.drop()
    await expect(call).rejects.toThrow(MESSAGES.lost)
    expect(last()).toMatchObject({ status: 'down', since: Date.parse('2025-01-01T12:00:00Z'), attempts: 1, everOpened: true })
    expect(last().retryAt! - Date.now()).toBe(500)
    // While down, a call fails at once instead of hanging.
    await expect(c.api.system.info()).rejects.toThrow(MESSAGES.down)

    await vi.advanceTimersByTimeAsync(500)
    expect(last()).toMatchObject({ status: 'down', attempts: 2 })
    expect(last().retryAt! - Date.now()).toBe(1000)
    await vi.advanceTimersByTimeAsync(1000)
    expect(last()).toMatchObject({ status: 'down', attempts: 3 })
    expect(last().since).toBe(Date.parse('2025-01-01T12:00:00Z')) // since the drop, not the last attempt

    // Retry now does not wait for the timer; the lab is back.
    pingAnswer = 204
    c.retryNow()
    await vi.advanceTimersByTimeAsync(0)
    expect(FakeSocket.all).toHaveLength(2)
    FakeSocket.all[1]!.open()
    expect(last()).toMatchObject({ status: 'open', since: null, attempts: 0, reason: null })
    c.close()
  })

  it('retries a refused token at the slowest pace, and at once with a new one', async () => {
    pingAnswer = 401
    const { c, last } = client()
    await vi.advanceTimersByTimeAsync(0)
    expect(last().retryAt! - Date.now()).toBe(10_000)
    pingAnswer = 204
    c.setToken('tok_the_new_one_0123456789abcdefghijk')
    await vi.advanceTimersByTimeAsync(0)
    expect(FakeSocket.all[0]!.protocols[1]).toBe('score-lab.token.tok_the_new_one_0123456789abcdefghijk')
    c.close()
  })
})
