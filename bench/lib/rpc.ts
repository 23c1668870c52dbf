/**
 * A minimal raw JSON-RPC 2.0 client over HTTP/1.1 keep-alive on raw sockets, so the benchmark
 * measures the node, not a client library. Also a WebSocket subscription helper for kv.watch.
 */
import net from 'node:net'
import { WebSocket } from 'ws'

export class RpcError extends Error {
  constructor (readonly code: number, message: string, readonly data?: unknown) {
    super(`JSON-RPC error ${code}: ${message}`)
  }
}

interface RpcResponse { jsonrpc: '2.0', id: number | null, result?: unknown, error?: { code: number, message: string, data?: unknown } }

/**
 * One HTTP/1.1 keep-alive connection on a raw socket: one request in flight at a time (no
 * pipelining), Content-Length or chunked responses. Much cheaper per request than
 * http.request, so the client costs the shared 2 cores as little as possible.
 */
class RawConnection {
  private readonly socket: net.Socket
  private buf: Buffer = Buffer.alloc(0)
  private waiter: { resolve: (body: string) => void, reject: (err: Error) => void } | null = null
  dead = false
  used = 0

  constructor (host: string, port: number) {
    this.socket = net.connect({ host, port, noDelay: true })
    this.socket.on('data', (d: Buffer) => { this.buf = this.buf.length === 0 ? d : Buffer.concat([this.buf, d]); this.parse() })
    const fail = (err: Error): void => {
      this.dead = true
      const w = this.waiter
      this.waiter = null
      w?.reject(err)
    }
    this.socket.on('error', fail)
    this.socket.on('close', () => fail(new Error('connection closed')))
  }

  async request (head: string, body: string): Promise<string> {
    if (this.dead) throw new Error('connection closed')
    return await new Promise((resolve, reject) => {
      this.waiter = { resolve, reject }
      this.socket.write(head + body)
    })
  }

  private parse (): void {
    if (this.waiter == null) return
    const he = this.buf.indexOf('\r\n\r\n')
    if (he < 0) return
    const headers = this.buf.subarray(0, he).toString('latin1')
    const status = Number(/^HTTP\/1\.\d (\d{3})/.exec(headers)?.[1] ?? 0)
    const cl = /\r\ncontent-length:\s*(\d+)/i.exec(headers)
    let body: string
    let used: number
    if (cl?.[1] != null) {
      const len = Number(cl[1])
      if (this.buf.length < he + 4 + len) return
      body = this.buf.subarray(he + 4, he + 4 + len).toString('utf8')
      used = he + 4 + len
    } else if (/\r\ntransfer-encoding:\s*chunked/i.test(headers)) {
      const parts: Buffer[] = []
      let p = he + 4
      for (;;) {
        const le = this.buf.indexOf('\r\n', p)
        if (le < 0) return
        const size = parseInt(this.buf.subarray(p, le).toString('latin1'), 16)
        if (this.buf.length < le + 2 + size + 2) return
        if (size === 0) { used = le + 4; break }
        parts.push(this.buf.subarray(le + 2, le + 2 + size))
        p = le + 2 + size + 2
      }
      body = Buffer.concat(parts).toString('utf8')
    } else {
      this.dead = true
      const w = this.waiter
      this.waiter = null
      w.reject(new Error(`HTTP ${status}: response without length`))
      this.socket.destroy()
      return
    }
    this.buf = this.buf.subarray(used)
    const w = this.waiter
    this.waiter = null
    if (/\r\nconnection:\s*close/i.test(headers)) { this.dead = true; this.socket.end() }
    if (status >= 200 && status < 300) w.resolve(body)
    else if (body.startsWith('{') || body.startsWith('[')) w.resolve(body) // JSON-RPC errors may come with 4xx/5xx
    else w.reject(new Error(`HTTP ${status}: ${body.slice(0, 200)}`))
  }

  close (): void { this.dead = true; this.socket.destroy() }
}

export class RpcClient {
  private readonly host: string
  private readonly port: number
  private readonly path: string
  private readonly idle: RawConnection[] = []
  private readonly all = new Set<RawConnection>()
  private readonly queue: Array<(c: RawConnection) => void> = []
  private nextId = 1

  constructor (readonly url: string, private readonly maxSockets = 64) {
    const u = new URL(url)
    this.host = u.hostname
    this.port = Number(u.port)
    this.path = u.pathname === '/' || u.pathname === '' ? '/rpc' : u.pathname
  }

  /** Sends one request; resolves with the result or rejects with RpcError / a transport error. */
  async call<T = unknown> (method: string, params: unknown = {}, timeoutMs = 30_000): Promise<T> {
    const id = this.nextId++
    const body = JSON.stringify({ jsonrpc: '2.0', id, method, params })
    const head = `POST ${this.path} HTTP/1.1\r\nHost: ${this.host}:${this.port}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: keep-alive\r\n\r\n`
    const text = await this.send(head, body, timeoutMs, method)
    let res: RpcResponse
    try { res = JSON.parse(text) as RpcResponse } catch { throw new Error(`not JSON: ${text.slice(0, 200)}`) }
    if (res.error != null) throw new RpcError(res.error.code, res.error.message, res.error.data)
    return res.result as T
  }

  /** A JSON-RPC batch in one HTTP request; each entry is the result, or an RpcError. */
  async batch (calls: Array<{ method: string, params?: unknown }>, timeoutMs = 30_000): Promise<unknown[]> {
    if (calls.length === 0) return []
    const first = this.nextId
    this.nextId += calls.length
    const body = JSON.stringify(calls.map((c, i) => ({ jsonrpc: '2.0', id: first + i, method: c.method, params: c.params ?? {} })))
    const head = `POST ${this.path} HTTP/1.1\r\nHost: ${this.host}:${this.port}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: keep-alive\r\n\r\n`
    const text = await this.send(head, body, timeoutMs, 'batch')
    const parsed = JSON.parse(text) as RpcResponse | RpcResponse[]
    if (!Array.isArray(parsed)) throw new RpcError(parsed.error?.code ?? -1, parsed.error?.message ?? 'batch answered with a single response')
    const out: unknown[] = new Array(calls.length).fill(new RpcError(-1, 'no response'))
    for (const r of parsed) {
      if (typeof r.id !== 'number') continue
      out[r.id - first] = r.error != null ? new RpcError(r.error.code, r.error.message, r.error.data) : r.result
    }
    return out
  }

  /**
   * One request/response on a pooled connection. A connection reused from the idle pool may
   * have been closed by the server's keep-alive timeout just as we wrote to it: then, and only
   * then, the request is sent once more on a fresh connection.
   */
  private async send (head: string, body: string, timeoutMs: number, what: string): Promise<string> {
    for (let attempt = 0; ; attempt++) {
      // The retry never takes another idle connection: it could be just as stale.
      const conn = attempt === 0 ? await this.acquire() : this.open()
      const reused = conn.used > 0
      conn.used++
      let timer: NodeJS.Timeout | undefined
      try {
        return await Promise.race([
          conn.request(head, body),
          new Promise<never>((_resolve, reject) => { timer = setTimeout(() => { conn.close(); reject(new Error(`RPC ${what} timed out after ${timeoutMs} ms`)) }, timeoutMs) })
        ])
      } catch (err) {
        const transport = /ECONNRESET|EPIPE|connection closed|ended by the other party/.test((err as Error).message)
        if (!(reused && transport && attempt === 0)) throw err
      } finally {
        clearTimeout(timer)
        this.release(conn)
      }
    }
  }

  private async acquire (): Promise<RawConnection> {
    for (;;) {
      const c = this.idle.pop()
      if (c == null) break
      if (!c.dead) return c
      this.all.delete(c)
    }
    if (this.all.size < this.maxSockets) return this.open()
    return await new Promise((resolve) => this.queue.push(resolve))
  }

  private open (): RawConnection {
    const c = new RawConnection(this.host, this.port)
    this.all.add(c)
    return c
  }

  private release (c: RawConnection): void {
    if (c.dead) {
      this.all.delete(c)
      const next = this.queue.shift()
      if (next != null) void this.acquire().then(next)
      return
    }
    const next = this.queue.shift()
    if (next != null) next(c); else this.idle.push(c)
  }

  close (): void {
    for (const c of this.all) c.close()
    this.all.clear()
    this.idle.length = 0
  }
}

/**
 * Subscribes to kv.watch over WebSocket at ws://host:port/rpc. `onKey` is called with every
 * changed key found in a notification. Resolves once the subscription is acknowledged; rejects
 * (so callers can fall back to polling) if the socket or the method is not there.
 */
export async function watchKeys (rpcUrl: string, onKey: (key: string) => void, prefix?: string, timeoutMs = 3000): Promise<{ close: () => void }> {
  const u = new URL(rpcUrl)
  const wsUrl = `ws://${u.host}${u.pathname === '/' || u.pathname === '' ? '/rpc' : u.pathname}`
  const ws = new WebSocket(wsUrl, { perMessageDeflate: false })
  return await new Promise((resolve, reject) => {
    const timer = setTimeout(() => { ws.terminate(); reject(new Error('kv.watch: no acknowledgement')) }, timeoutMs)
    let acked = false
    ws.on('error', (err) => { clearTimeout(timer); if (!acked) reject(err) })
    ws.on('open', () => {
      ws.send(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'kv.watch', params: prefix != null ? { prefix } : {} }))
    })
    ws.on('message', (data) => {
      let msg: unknown
      try { msg = JSON.parse(String(data)) } catch { return }
      const handle = (m: unknown): void => {
        if (m == null || typeof m !== 'object') return
        const o = m as { id?: unknown, error?: { message?: string }, method?: unknown, params?: unknown }
        if (o.id === 1 && !acked) {
          clearTimeout(timer)
          if (o.error != null) { ws.terminate(); reject(new Error(`kv.watch: ${o.error.message ?? 'error'}`)); return }
          acked = true
          resolve({ close: () => ws.terminate() })
          return
        }
        if (o.method != null) for (const k of keysIn(o.params)) onKey(k)
      }
      if (Array.isArray(msg)) msg.forEach(handle); else handle(msg)
    })
  })
}

/** Every string under a property named `key` (or each string of `keys`) in a notification's params. */
function keysIn (p: unknown, out: string[] = [], depth = 0): string[] {
  if (p == null || typeof p !== 'object' || depth > 5) return out
  if (Array.isArray(p)) { for (const x of p) keysIn(x, out, depth + 1); return out }
  for (const [k, v] of Object.entries(p as Record<string, unknown>)) {
    if (k === 'key' && typeof v === 'string') out.push(v)
    else if (k === 'keys' && Array.isArray(v)) { for (const x of v) if (typeof x === 'string') out.push(x) } else if (typeof v === 'object') keysIn(v, out, depth + 1)
  }
  return out
}

/**
 * JSON-RPC over one WebSocket at `/rpc`, many requests in flight, answers matched by id: the
 * node's fast path for a client with many concurrent calls. As raw as RpcClient, so the
 * benchmark measures the node.
 */
export class WsRpcClient {
  private readonly waiters = new Map<number, { resolve: (r: RpcResponse) => void, reject: (err: Error) => void }>()
  private nextId = 1

  private constructor (private readonly ws: WebSocket) {
    ws.on('message', (data) => {
      const res = JSON.parse(data.toString()) as RpcResponse
      if (typeof res.id !== 'number') return
      const w = this.waiters.get(res.id)
      this.waiters.delete(res.id)
      w?.resolve(res)
    })
    ws.on('close', () => {
      for (const w of this.waiters.values()) w.reject(new Error('connection closed'))
      this.waiters.clear()
    })
    ws.on('error', () => {})
  }

  static async open (url: string): Promise<WsRpcClient> {
    const u = new URL(url)
    const ws = new WebSocket(`ws://${u.host}/rpc`, { perMessageDeflate: false })
    await new Promise<void>((resolve, reject) => { ws.once('open', resolve); ws.once('error', reject) })
    return new WsRpcClient(ws)
  }

  async call<T = unknown> (method: string, params: unknown = {}): Promise<T> {
    const id = this.nextId++
    const res = await new Promise<RpcResponse>((resolve, reject) => {
      this.waiters.set(id, { resolve, reject })
      this.ws.send(JSON.stringify({ jsonrpc: '2.0', id, method, params }))
    })
    if (res.error != null) throw new RpcError(res.error.code, res.error.message, res.error.data)
    return res.result as T
  }

  close (): void { this.ws.terminate() }
}
