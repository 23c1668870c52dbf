/**
 * One WebSocket to a node's `/rpc`, kept open for many JSON-RPC calls at once.
 *
 * Over HTTP/1.1 a connection carries one call at a time, so a client that wants 64 writes in
 * flight needs 64 connections and pays a request's headers and parsing for each write. Over this
 * socket the calls are only JSON frames, matched to their answers by id; the node reads at most
 * `MAX_WS_IN_FLIGHT` of them at a time per socket and stops reading past that (backpressure),
 * so starting many more is safe, only not faster.
 *
 * The socket opens on the first call and again on the first call after it closed. A socket
 * that closes fails every call still waiting on it with ERR_CONNECTION: whether such a write was
 * applied is unknown, as for an HTTP request whose answer was lost.
 */
import WebSocket from 'ws'
import type { JSONRPCError, JSONRPCRequest, JSONRPCResponse } from 'json-rpc-2.0'
import { ChorusRpcError, ERR_CONNECTION, ERR_INTERNAL, ERR_TIMEOUT } from './errors.js'

type Payload = JSONRPCRequest | JSONRPCRequest[]
type Reply = JSONRPCResponse | JSONRPCResponse[]

interface Waiter {
  resolve: (reply: Reply) => void
  reject: (err: ChorusRpcError) => void
  timer: NodeJS.Timeout
  batch: boolean
}

export interface WsConnectionInit {
  /** The node's base URL, http(s):// or ws(s)://, without /rpc. */
  url: string
  token?: string
  /** PEM CA certificate(s) trusted for a wss:// URL instead of the system's store. */
  ca?: string | Buffer
  timeoutMs: number
  /** Notifications (messages without an id), e.g. kv.watch events. */
  onNotification?: (message: { method: string, params?: unknown }) => void
}

function reasonOf (cause: unknown): string {
  return cause instanceof Error ? cause.message : String(cause)
}

export function wsUrlOf (baseUrl: string): string {
  return `${baseUrl.replace(/^http/, 'ws')}/rpc`
}

/** One open socket and the calls waiting on it. */
interface Link {
  readonly ws: WebSocket
  readonly waiters: Map<string | number, Waiter>
}

export class WsConnection {
  private readonly init: WsConnectionInit
  private link: Promise<Link> | undefined
  /** The socket `link` resolved to, once open: lets its 'close' tell whether it is still current. */
  private current: Link | undefined
  /** Bumped by close(): a socket that opens after it is closed at once, never made current. */
  private generation = 0

  constructor (init: WsConnectionInit) {
    this.init = init
  }

  /**
   * Sends a request or batch and resolves with its answer. Every request in it needs an id. One
   * deadline, `timeoutMs`, covers opening the socket too.
   */
  async exchange (payload: Payload): Promise<Reply> {
    const deadline = performance.now() + this.init.timeoutMs
    const key = Array.isArray(payload) ? payload.find(r => r.id != null)?.id : payload.id
    if (key === undefined || key === null) throw new Error('WsConnection.exchange needs a request with an id')
    let text: string
    try {
      text = JSON.stringify(payload)
    } catch (err) {
      throw new ChorusRpcError({ code: 0, message: `the call cannot be sent as JSON: ${reasonOf(err)}`, data: { code: ERR_INTERNAL } }, { cause: err })
    }
    const link = await this.open()
    if (link.waiters.has(key)) throw new Error(`a call with id ${String(key)} is already in flight`)
    return await new Promise<Reply>((resolve, reject) => {
      const timer = setTimeout(() => {
        link.waiters.delete(key)
        reject(this.timeoutError())
      }, Math.max(0, deadline - performance.now()))
      link.waiters.set(key, { resolve, reject, timer, batch: Array.isArray(payload) })
      link.ws.send(text, (err) => {
        if (err != null) fail(link, key, this.connectionError(err))
      })
    })
  }

  private timeoutError (): ChorusRpcError {
    return new ChorusRpcError({ code: 0, message: `${this.init.url} did not answer within ${this.init.timeoutMs} ms`, data: { code: ERR_TIMEOUT } })
  }

  /** Closes the socket; calls still waiting fail with ERR_CONNECTION. */
  async close (): Promise<void> {
    const pending = this.link
    this.link = undefined
    this.current = undefined
    this.generation++
    if (pending === undefined) return
    const link = await pending.catch(() => undefined)
    if (link === undefined || link.ws.readyState === WebSocket.CLOSED) return
    await new Promise<void>(resolve => {
      link.ws.once('close', () => { resolve() })
      link.ws.close()
    })
  }

  private async open (): Promise<Link> {
    const pending = this.link ?? this.connect()
    this.link = pending
    try {
      return await pending
    } catch (err) {
      if (this.link === pending) this.link = undefined
      throw err
    }
  }

  private async connect (): Promise<Link> {
    const { token, ca, timeoutMs } = this.init
    const generation = this.generation
    const { ws, opened } = dialRpcSocket(this.init.url, { ...(token !== undefined ? { token } : {}), ...(ca !== undefined ? { ca } : {}), timeoutMs })
    const link: Link = { ws, waiters: new Map() }
    ws.on('message', (data) => { this.receive(link, data.toString()) })
    ws.on('close', () => {
      // Forget this socket only if it is still the current one: close() may have started another.
      if (this.current === link) { this.current = undefined; this.link = undefined }
      const err = this.connectionError(new Error('the connection closed'))
      for (const key of [...link.waiters.keys()]) fail(link, key, err)
    })
    await opened
    if (generation !== this.generation) {
      // close() ran while this socket was opening: it must not outlive it.
      ws.close()
      throw this.connectionError(new Error('the client was closed'))
    }
    this.current = link
    ws.on('error', () => {}) // a later error also closes the socket, and 'close' fails the waiters
    return link
  }

  private receive (link: Link, text: string): void {
    let message: unknown
    try { message = JSON.parse(text) } catch { return }
    if (message === null || typeof message !== 'object') return
    if (!Array.isArray(message) && typeof (message as { method?: unknown }).method === 'string') {
      this.init.onNotification?.(message as { method: string, params?: unknown })
      return
    }
    const first = Array.isArray(message) ? message.find((r: JSONRPCResponse) => r.id != null) as JSONRPCResponse | undefined : message as JSONRPCResponse
    if (first === undefined) return
    if (first.id === null) {
      // Only a request the node could not read at all is answered with id null. The client
      // checks batches before sending them, so this can only be said of a batch; it is clear
      // which one only when one is waiting (the others then run out their deadline).
      const batches = [...link.waiters].filter(([, w]) => w.batch)
      if (batches.length === 1) settle(link, (batches[0] as [string | number, Waiter])[0], message as Reply)
      return
    }
    settle(link, first.id, message as Reply)
  }

  private connectionError (cause: unknown): ChorusRpcError {
    return connectionError(this.init.url, cause)
  }
}

function settle (link: Link, key: string | number, reply: Reply): void {
  const w = link.waiters.get(key)
  if (w === undefined) return // answered after its deadline
  link.waiters.delete(key)
  clearTimeout(w.timer)
  w.resolve(reply)
}

function fail (link: Link, key: string | number, err: ChorusRpcError): void {
  const w = link.waiters.get(key)
  if (w === undefined) return
  link.waiters.delete(key)
  clearTimeout(w.timer)
  w.reject(err)
}

/**
 * A transport failure reaching `url`: ERR_TIMEOUT when a deadline ran out (the call may still be
 * applied), else ERR_CONNECTION.
 */
export function connectionError (url: string, cause: unknown): ChorusRpcError {
  if (cause instanceof Error && (cause.name === 'TimeoutError' || /handshake has timed out/i.test(cause.message))) {
    return new ChorusRpcError({ code: 0, message: `${url} did not answer in time (${cause.message})`, data: { code: ERR_TIMEOUT } }, { cause })
  }
  const inner = cause instanceof Error ? ((cause.cause as Error | undefined) ?? cause) : undefined
  const reason = inner?.message ?? String(cause)
  return new ChorusRpcError({ code: 0, message: `cannot reach ${url}: ${reason}${tlsHint(url, inner)}`, data: { code: ERR_CONNECTION } }, { cause })
}

/** The certificate checks that fail when the client does not trust the CA that signed the node's certificate. */
const UNTRUSTED_CERT_CODES = new Set([
  'SELF_SIGNED_CERT_IN_CHAIN', 'DEPTH_ZERO_SELF_SIGNED_CERT', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'CERT_UNTRUSTED', 'CERT_SIGNATURE_FAILURE'
])

/** What to do about a TLS failure, or about a plain-HTTP client that may have reached a TLS port. */
function tlsHint (url: string, err: Error | undefined): string {
  const code = (err as NodeJS.ErrnoException | undefined)?.code ?? ''
  if (UNTRUSTED_CERT_CODES.has(code)) {
    return ': the node\'s TLS certificate is not trusted; pass the certificate of the CA that signed it with --ca FILE (ChorusClient option `ca`)'
  }
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') return ': use a URL whose host name the node\'s certificate holds'
  if (/wrong version number|packet length too long/i.test(err?.message ?? '')) return ' (does the node serve plain http:// rather than https://?)'
  if (/^(http|ws):/.test(url) && (code === 'ECONNRESET' || code === 'UND_ERR_SOCKET' || /socket hang up|other side closed/i.test(err?.message ?? ''))) {
    return ' (if the node serves TLS, use an https:// URL)'
  }
  return ''
}

/**
 * Opens a WebSocket to the node's `/rpc` (base URL `url`). `opened` resolves once it is open, or
 * rejects with the node's own JSON-RPC error when it refused the upgrade (401, 403…), or with a
 * connection error; attach handlers to `ws` before awaiting it.
 */
export function dialRpcSocket (url: string, options: { token?: string, ca?: string | Buffer, timeoutMs?: number } = {}): { ws: WebSocket, opened: Promise<void> } {
  const { token, ca, timeoutMs } = options
  const ws = new WebSocket(wsUrlOf(url), {
    ...(timeoutMs !== undefined ? { handshakeTimeout: timeoutMs } : {}),
    ...(ca !== undefined ? { ca } : {}),
    headers: token !== undefined ? { authorization: `Bearer ${token}` } : {}
  })
  const opened = new Promise<void>((resolve, reject) => {
    ws.once('open', () => { resolve() })
    ws.once('error', (err) => { reject(connectionError(url, err)) })
    ws.once('unexpected-response', (_req, res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () => {
        ws.terminate()
        reject(new ChorusRpcError(refusalOf(res.statusCode, Buffer.concat(chunks).toString('utf8'))))
      })
    })
  })
  return { ws, opened }
}

/** The node's JSON-RPC error from a refused upgrade (401, 403…), or a plain connection error. */
function refusalOf (status: number | undefined, body: string): JSONRPCError {
  try {
    const parsed = JSON.parse(body) as JSONRPCResponse
    if (parsed.error !== undefined) return parsed.error
  } catch {}
  return { code: 0, message: `WebSocket upgrade refused with HTTP ${status ?? '?'}`, data: { code: ERR_CONNECTION } }
}
