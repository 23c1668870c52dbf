/**
 * ChorusClient: a typed JSON-RPC client with one method per RPC method, over HTTP (one fetch per
 * call, the default) or over one WebSocket that carries many calls at once (`transport: 'ws'`,
 * or a `ws://` URL), plus a WebSocket `watch()`. Every failure is a ChorusRpcError (`code` the
 * JSON-RPC number, `data.code` the stable string code).
 *
 * @example
 * ```ts
 * const client = new ChorusClient('http://127.0.0.1:7070')
 * const { context } = await client.kvPut('greeting', { hello: 'world' })
 * const read = await client.kvGet('greeting') // or client.get / client.put / client.delete
 *
 * // Many writes in flight on one socket: start them all, then await them.
 * const fast = new ChorusClient('ws://127.0.0.1:7070')
 * await Promise.all(keys.map(k => fast.kvPut(k, 1)))
 * await fast.close()
 *
 * // A node serving TLS with a certificate from a private CA.
 * const safe = new ChorusClient('https://db.internal:7070', { token, ca: readFileSync('ca.pem') })
 * ```
 */
import { JSONRPCClient, JSONRPCErrorException } from 'json-rpc-2.0'
import type { JSONRPCRequest, JSONRPCResponse } from 'json-rpc-2.0'
import WebSocket from 'ws'
import { MAX_RPC_BATCH } from '../constants.js'
import { ChorusRpcError, ERR_CONNECTION, ERR_INTERNAL, ERR_INVALID_REQUEST, RPC_INVALID_REQUEST } from './errors.js'
import { connectionError, dialRpcSocket, WsConnection } from './ws-connection.js'
import { requestText, type HttpAnswer } from './http-request.js'
import type {
  BatchOp, ChangeEvent, ConflictsOptions, ConflictsResult, CounterResult, KvGetOptions, KvGetResult,
  BatchResult, ConnectResult, CounterScanResult, ExportItem, ExportOptions, ExportPage, ForgetResult, ImportResult, MemberInfo, NodeInfo, PeerInfo, ReadAfterOptions, ScanItem,
  ScanOptions, ScanResult, SetResult, SetScanResult, SyncReport, WriteResult,
  MapGetOptions, MapGetResult, MapScanResult, MapUpdateOp
} from '../node/api.js'

export interface ChorusClientOptions {
  /** Sent as `Authorization: Bearer <token>`. */
  token?: string
  /** Per-call deadline. @default 30000 */
  timeoutMs?: number
  /**
   * 'http': one HTTP request per call (nothing held open). 'ws': one WebSocket, opened on the
   * first call and kept, carrying every call at once; the faster path for many concurrent calls.
   * Call close() when done. @default 'ws' for a ws:// or wss:// URL, else 'http'
   */
  transport?: 'http' | 'ws'
  /**
   * For an https:// or wss:// URL: the PEM certificate(s) of the CA that signed the node's
   * certificate (a private CA, or the self-signed certificate itself), trusted instead of the
   * system's store. @default the system's trust store
   */
  ca?: string | Buffer
}

export interface WatchHandle {
  /** The subscription id the server assigned. */
  readonly subscription: string
  /** Resolves when the socket closes (by close() or by the server). */
  readonly closed: Promise<void>
  close: () => Promise<void>
}

export interface WatchCallbacks {
  onEvent: (event: ChangeEvent) => void
  /** The server dropped `missed` events because this watcher was too slow. */
  onMissed?: (missed: number) => void
}

interface CallParams { transportError?: unknown }

/** Accepts `http://h:p`, `http://h:p/` or `http://h:p/rpc` (or ws://…); returns the http(s) base without /rpc. */
export function baseUrl (url: string): string {
  return url.replace(/\/+$/, '').replace(/\/rpc$/, '').replace(/^ws(s?):/, 'http$1:')
}

export class ChorusClient {
  readonly url: string
  private readonly token?: string
  private readonly timeoutMs: number
  private readonly ca?: string | Buffer
  private readonly rpc: JSONRPCClient<CallParams>
  private readonly socket: WsConnection | undefined
  private batches = 0

  constructor (url: string, options: ChorusClientOptions = {}) {
    this.url = baseUrl(url)
    if (options.token !== undefined) this.token = options.token
    this.timeoutMs = options.timeoutMs ?? 30_000
    if (options.ca !== undefined) this.ca = options.ca
    const transport = options.transport ?? (/^wss?:/.test(url) ? 'ws' : 'http')
    const socket = transport === 'ws'
      ? new WsConnection({ url: this.url, timeoutMs: this.timeoutMs, ...this.socketOptions() })
      : undefined
    this.socket = socket
    this.rpc = new JSONRPCClient<CallParams>(async (payload: JSONRPCRequest | JSONRPCRequest[], params: CallParams) => {
      if (socket === undefined) await this.post(payload, params)
      else await this.overSocket(socket, payload, params)
    })
  }

  /** Closes the WebSocket the 'ws' transport holds open (nothing to do over HTTP). */
  async close (): Promise<void> {
    await this.socket?.close()
  }

  private async overSocket (socket: WsConnection, payload: JSONRPCRequest | JSONRPCRequest[], params: CallParams): Promise<void> {
    let reply: JSONRPCResponse | JSONRPCResponse[]
    try {
      reply = await socket.exchange(payload)
    } catch (err) {
      params.transportError = err
      throw err
    }
    this.receiveReply(payload, reply)
  }

  /** Hands answers to the waiting calls; an error about the whole request (id null) goes to every one of them. */
  private receiveReply (payload: JSONRPCRequest | JSONRPCRequest[], body: JSONRPCResponse | JSONRPCResponse[]): void {
    const requests = Array.isArray(payload) ? payload : [payload]
    if (!Array.isArray(body) && body.id === null && body.error !== undefined) {
      this.rpc.receive(requests.filter(r => r.id !== undefined && r.id !== null).map(r => ({ ...body, id: r.id ?? null }) as JSONRPCResponse))
      return
    }
    this.rpc.receive(body)
  }

  /** What every WebSocket to the node is dialled with. */
  private socketOptions (): { token?: string, ca?: string | Buffer } {
    return { ...(this.token !== undefined ? { token: this.token } : {}), ...(this.ca !== undefined ? { ca: this.ca } : {}) }
  }

  /** One HTTP request to `path` (e.g. '/rpc'); a transport failure becomes ERR_CONNECTION or ERR_TIMEOUT. */
  private async request (path: string, init: { method: 'GET' | 'POST', headers: Record<string, string>, body?: string }): Promise<HttpAnswer> {
    try {
      return await requestText(`${this.url}${path}`, { ...init, timeoutMs: this.timeoutMs, ...(this.ca !== undefined ? { ca: this.ca } : {}) })
    } catch (err) {
      throw connectionError(this.url, err)
    }
  }

  private headers (): Record<string, string> {
    return {
      'content-type': 'application/json',
      ...(this.token !== undefined ? { authorization: `Bearer ${this.token}` } : {})
    }
  }

  private async post (payload: JSONRPCRequest | JSONRPCRequest[], params: CallParams): Promise<void> {
    let res: HttpAnswer
    try {
      res = await this.request('/rpc', { method: 'POST', headers: this.headers(), body: JSON.stringify(payload) })
    } catch (err) {
      params.transportError = err
      throw err
    }
    const { text } = res
    if (res.status === 204) return
    let body: unknown
    try {
      body = JSON.parse(text)
    } catch (err) {
      params.transportError = new ChorusRpcError({ code: 0, message: `unexpected HTTP ${res.status} answer from ${this.url}`, data: { code: ERR_CONNECTION } })
      throw err
    }
    // Errors about the whole request (401, 403, 413, parse…) carry id null: given to every call.
    this.receiveReply(payload, body as JSONRPCResponse | JSONRPCResponse[])
  }

  /** Calls any method by name. */
  async call<T = unknown>(method: string, params?: Record<string, unknown>): Promise<T> {
    const cp: CallParams = {}
    try {
      return await this.rpc.timeout(this.timeoutMs + 1000).request(method, params, cp) as T
    } catch (err) {
      if (cp.transportError !== undefined) throw cp.transportError as Error
      if (err instanceof JSONRPCErrorException) throw new ChorusRpcError({ code: err.code, message: err.message, data: err.data })
      throw new ChorusRpcError({ code: 0, message: err instanceof Error ? err.message : String(err), data: { code: ERR_INTERNAL } }, { cause: err })
    }
  }

  /**
   * Sends several calls as one JSON-RPC batch. Each entry settles on its own: the value, or a
   * ChorusRpcError.
   */
  async batch (calls: Array<{ method: string, params?: Record<string, unknown> }>): Promise<unknown[]> {
    // What the node would refuse whole (with id null, which names no call): refused here instead.
    if (calls.length === 0 || calls.length > MAX_RPC_BATCH) {
      throw new ChorusRpcError({ code: RPC_INVALID_REQUEST, message: `a batch holds 1 to ${MAX_RPC_BATCH} calls (got ${calls.length})`, data: { code: ERR_INVALID_REQUEST } })
    }
    const cp: CallParams = {}
    const tag = `b${++this.batches}`
    const requests: JSONRPCRequest[] = calls.map((c, i) => ({ jsonrpc: '2.0', id: `${tag}-${i}`, method: c.method, ...(c.params !== undefined ? { params: c.params } : {}) }))
    const responses = await this.rpc.timeout(this.timeoutMs + 1000).requestAdvanced(requests, cp)
    if (cp.transportError !== undefined) throw cp.transportError as Error
    return responses.map(r => r.error !== undefined ? new ChorusRpcError(r.error) : r.result as unknown)
  }

  // kv: get/put/delete are the short names (the CLI's) of kvGet/kvPut/kvDelete
  async get (key: string, options: KvGetOptions = {}): Promise<KvGetResult> {
    return await this.kvGet(key, options)
  }

  async put (key: string, value: unknown, context?: string): Promise<WriteResult> {
    return await this.kvPut(key, value, context)
  }

  async delete (key: string, context?: string): Promise<WriteResult> {
    return await this.kvDelete(key, context)
  }

  async kvPut (key: string, value: unknown, context?: string): Promise<WriteResult> {
    return await this.call('kv.put', { key, value, ...(context !== undefined ? { context } : {}) })
  }

  async kvGet (key: string, options: KvGetOptions = {}): Promise<KvGetResult> {
    return await this.call('kv.get', { key, ...options })
  }

  async kvDelete (key: string, context?: string): Promise<WriteResult> {
    return await this.call('kv.delete', { key, ...(context !== undefined ? { context } : {}) })
  }

  async kvBatch (ops: BatchOp[]): Promise<BatchResult> {
    return await this.call('kv.batch', { ops })
  }

  async kvScan (options: ScanOptions = {}): Promise<ScanResult> {
    return await this.call('kv.scan', { ...options })
  }

  /** Every item of a scan, following cursors; stops after `max` items when given. */
  async * kvScanAll (options: Omit<ScanOptions, 'cursor'> & { max?: number } = {}): AsyncGenerator<ScanItem> {
    const { max, ...scan } = options
    let cursor: string | undefined
    let n = 0
    do {
      const left = max === undefined ? undefined : max - n
      const page = await this.kvScan({ ...scan, ...(left !== undefined ? { limit: Math.min(left, scan.limit ?? 1000) } : {}), ...(cursor !== undefined ? { cursor } : {}) })
      for (const item of page.items) {
        yield item
        n++
        if (max !== undefined && n >= max) return
      }
      cursor = page.cursor
    } while (cursor !== undefined)
  }

  async kvConflicts (options: ConflictsOptions = {}): Promise<ConflictsResult> {
    return await this.call('kv.conflicts', { ...options })
  }

  // counters and sets
  async counterIncr (key: string, by?: number): Promise<CounterResult> {
    return await this.call('counter.incr', { key, ...(by !== undefined ? { by } : {}) })
  }

  async counterGet (key: string, options: ReadAfterOptions = {}): Promise<CounterResult> {
    return await this.call('counter.get', { key, ...options })
  }

  async setAdd (key: string, members: string[]): Promise<SetResult> {
    return await this.call('set.add', { key, members })
  }

  async setRemove (key: string, members: string[]): Promise<SetResult> {
    return await this.call('set.remove', { key, members })
  }

  async setGet (key: string, options: ReadAfterOptions = {}): Promise<SetResult> {
    return await this.call('set.get', { key, ...options })
  }

  async counterScan (options: ScanOptions = {}): Promise<CounterScanResult> {
    return await this.call('counter.scan', { ...options })
  }

  async setScan (options: ScanOptions = {}): Promise<SetScanResult> {
    return await this.call('set.scan', { ...options })
  }

  // maps (docs/api.md, "Maps")
  /** Apply field operations to map `key` atomically; `context` from a map.get supersedes only what it saw. */
  async mapUpdate (key: string, ops: MapUpdateOp[], context?: string): Promise<WriteResult> {
    return await this.call('map.update', { key, ops, ...(context !== undefined ? { context } : {}) })
  }

  async mapGet (key: string, options: MapGetOptions = {}): Promise<MapGetResult> {
    return await this.call('map.get', { key, ...options })
  }

  async mapDelete (key: string, context?: string): Promise<WriteResult> {
    return await this.call('map.delete', { key, ...(context !== undefined ? { context } : {}) })
  }

  async mapScan (options: ScanOptions = {}): Promise<MapScanResult> {
    return await this.call('map.scan', { ...options })
  }

  // backup
  /** One page of an export; without `cursor` a new export (a new snapshot) starts. */
  async nodeExport (options: ExportOptions = {}): Promise<ExportPage> {
    return await this.call('node.export', { ...options })
  }

  /** Merges exported states into the node (as a peer's states). */
  async nodeImport (items: ExportItem[]): Promise<ImportResult> {
    return await this.call('node.import', { items })
  }

  // node and cluster
  async info (): Promise<NodeInfo> {
    return await this.call('node.info', {})
  }

  async peers (): Promise<PeerInfo[]> {
    return await this.call('cluster.peers', {})
  }

  async sync (peer?: string): Promise<SyncReport> {
    return await this.call('cluster.sync', peer !== undefined ? { peer } : {})
  }

  /** GET /health: true when the node answers 200. */
  async members (): Promise<MemberInfo[]> {
    return await this.call('cluster.members', {})
  }

  async forget (peerId: string): Promise<ForgetResult> {
    return await this.call('cluster.forget', { peerId })
  }

  async connect (addr: string): Promise<ConnectResult> {
    return await this.call('cluster.connect', { addr })
  }

  async health (): Promise<boolean> {
    const res = await this.request('/health', { method: 'GET', headers: {} })
    return res.status === 200
  }

  /** GET /metrics (Prometheus text). */
  async metrics (): Promise<string> {
    const { status, text } = await this.request('/metrics', { method: 'GET', headers: this.headers() })
    if (status !== 200) throw new ChorusRpcError({ code: 0, message: `GET /metrics answered ${status}: ${text}`, data: { code: ERR_CONNECTION } })
    return text
  }

  /** Opens a WebSocket, subscribes to changes under `prefix`, and calls back for each. */
  async watch (prefix: string, callbacks: WatchCallbacks): Promise<WatchHandle> {
    const { ws, opened } = dialRpcSocket(this.url, this.socketOptions())
    const rpc = new JSONRPCClient((payload: unknown) => { ws.send(JSON.stringify(payload)) })
    const closed = new Promise<void>(resolve => { ws.once('close', () => { rpc.rejectAllPendingRequests('connection closed'); resolve() }) })
    await opened
    ws.on('error', () => {})
    ws.on('message', (data) => {
      let msg: unknown
      try { msg = JSON.parse(data.toString()) } catch { return }
      const m = msg as { method?: unknown, params?: { subscription?: string, event?: ChangeEvent, missed?: number } }
      if (m.method === 'kv.watch' && m.params !== undefined) {
        if (m.params.event !== undefined) callbacks.onEvent(m.params.event)
        else if (typeof m.params.missed === 'number') callbacks.onMissed?.(m.params.missed)
        return
      }
      rpc.receive(msg as JSONRPCResponse)
    })
    let subscription: string
    try {
      subscription = await rpc.request('kv.watch', prefix === '' ? {} : { prefix }) as string
    } catch (err) {
      ws.close()
      if (err instanceof JSONRPCErrorException) throw new ChorusRpcError({ code: err.code, message: err.message, data: err.data })
      throw err
    }
    return {
      subscription,
      closed,
      close: async () => {
        if (ws.readyState !== WebSocket.CLOSED) ws.close()
        await closed
      }
    }
  }
}
