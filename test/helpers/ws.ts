import WebSocket from 'ws'

export interface WsResult {
  status?: number
  frames: unknown[]
}

/** Opens a socket; resolves with the HTTP status when the upgrade is refused. */
export function connect(url: string, headers: Record<string, string> = {}): Promise<WebSocket | { refused: number }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers })
    ws.once('open', () => resolve(ws))
    ws.once('unexpected-response', (_req, res) => resolve({ refused: res.statusCode ?? 0 }))
    ws.once('error', reject)
  })
}

/** Sends a raw frame and waits for the next response frame. */
export function request(ws: WebSocket, raw: string | Buffer, opts: { binary?: boolean } = {}): Promise<any> {
  return new Promise((resolve, reject) => {
    const onMessage = (data: WebSocket.RawData) => {
      const frame = JSON.parse(data.toString())
      if (frame.type !== 'response') return
      ws.off('message', onMessage)
      resolve(frame)
    }
    ws.on('message', onMessage)
    ws.once('close', (code) => reject(new Error(`socket closed (${code})`)))
    ws.send(raw, { binary: opts.binary ?? false })
  })
}
