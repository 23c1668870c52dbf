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
import { SessionCarrier } from './session-carrier.js'
import { SESSION_DATA_METHODS } from './session-methods.js'
import type {
  BatchOp, TtlOptions, ChangeEvent, ChangesOptions, ChangesResult, ConflictsOptions, ConflictsResult, CounterResult, KvGetOptions, KvGetResult,
  BatchResult, ConnectResult, CounterScanResult, ExportItem, ExportOptions, ExportPage, ForgetResult, ImportResult, MemberInfo, NodeInfo, PeerInfo, ReadAfterOptions, ScanItem,
  ScanOptions, ScanResult, SetResult, SetScanResult, SyncReport, WriteOptions, WriteResult,
  MapGetOptions, MapGetResult, MapScanResult, MapUpdateOp
} from '../node/api.js'

export interface ChorusClientOptions {
  /** Sent as `Authorization: Bearer <token>`. */
  token?: string
  /** Per-call deadline; keep it above the `timeoutMs` of writes with `replicas`. @default 30000 */
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
  /**
   * The server dropped `missed` events because this watcher was too slow. `cursor` stands after
   * the last event it sent: watch({ since: cursor }) again to get the missed ones (dedupe by seq).
   */
  onMissed?: (missed: number, cursor?: string) => void
  /**
   * The server ended the subscription: ERR_HISTORY_GONE when the changes after `since` were
   * pruned while they were replayed (re-read, then resume from `err.data.cursor`).
   */
  onEnd?: (err: ChorusRpcError) => void
}

/** What to watch: keys under `prefix` (all by default), resuming after `since` when given. */
export interface WatchOptions {
  prefix?: string
  /** A cursor (from an event, a `missed` notice, kv.changes or ERR_HISTORY_GONE): replay what followed it first. */
  since?: string
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
  /** Set on the views session() returns. */
  private carrier: SessionCarrier | undefined

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

  /**
   * A view of this client (same connection) that carries a causal session: every data call sends
   * the session token and keeps the one its result returns, so that whichever node each call
   * reaches, it never sees older data than the calls before it saw or wrote (docs/api.md
   * "Sessions"). Start from `token` to continue a session (another process's, say).
   *
   * @example
   * ```ts
   * const s = client.session()
   * await s.kvPut('a', 1)
   * const other = new ChorusClient(otherUrl).session(s.sessionToken)
   * await other.kvGet('a') // waits until that node holds the write
   * ```
   */
  session (token?: string): ChorusClient & { readonly sessionToken: string | undefined } {
    const view = Object.create(this) as ChorusClient
    const carrier = new SessionCarrier(token)
    view.carrier = carrier
    Object.defineProperty(view, 'sessionToken', { get: () => carrier.token })
    return view as ChorusClient & { readonly sessionToken: string | undefined }
  }

  /** Calls any method by name. */
  async call<T = unknown>(method: string, params?: Record<string, unknown>): Promise<T> {
    const carrier = SESSION_DATA_METHODS.has(method) ? this.carrier : undefined
    if (carrier !== undefined) {
      const { token, mark } = carrier.begin()
      const sent = params?.session === undefined && token !== undefined ? { ...params, session: token } : params
      const result = await this.callPlain<T>(method, sent)
      carrier.absorb(mark, result)
      return result
    }
    return await this.callPlain<T>(method, params)
  }

  private async callPlain<T>(method: string, params?: Record<string, unknown>): Promise<T> {
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

  async put (key: string, value: unknown, context?: string, options?: WriteOptions & TtlOptions): Promise<WriteResult> {
    return await this.kvPut(key, value, context, options)
  }

  async delete (key: string, context?: string, options?: WriteOptions): Promise<WriteResult> {
    return await this.kvDelete(key, context, options)
  }

  /**
   * `options.replicas`: returns once that many nodes hold the write (ERR_REPLICAS_TIMEOUT otherwise; docs/api.md, "Durable writes").
   * `options.ttlMs`: the key reads as absent everywhere this long after the write (docs/api.md, "Expiring keys").
   */
  async kvPut (key: string, value: unknown, context?: string, options?: WriteOptions & TtlOptions): Promise<WriteResult> {
    return await this.call('kv.put', { key, value, ...(context !== undefined ? { context } : {}), ...durableParams(options), ...ttlParam(options) })
  }

  async kvGet (key: string, options: KvGetOptions = {}): Promise<KvGetResult> {
    return await this.call('kv.get', { key, ...options })
  }

  async kvDelete (key: string, context?: string, options?: WriteOptions): Promise<WriteResult> {
    return await this.call('kv.delete', { key, ...(context !== undefined ? { context } : {}), ...durableParams(options) })
  }

  async kvBatch (ops: BatchOp[], options?: WriteOptions): Promise<BatchResult> {
    return await this.call('kv.batch', { ops, ...durableParams(options) })
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
  async counterIncr (key: string, by?: number, options?: WriteOptions & TtlOptions): Promise<CounterResult> {
    return await this.call('counter.incr', { key, ...(by !== undefined ? { by } : {}), ...durableParams(options), ...ttlParam(options) })
  }

  async counterGet (key: string, options: ReadAfterOptions = {}): Promise<CounterResult> {
    return await this.call('counter.get', { key, ...options })
  }

  async setAdd (key: string, members: string[], options?: WriteOptions & TtlOptions): Promise<SetResult> {
    return await this.call('set.add', { key, members, ...durableParams(options), ...ttlParam(options) })
  }

  async setRemove (key: string, members: string[], options?: WriteOptions): Promise<SetResult> {
    return await this.call('set.remove', { key, members, ...durableParams(options) })
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

  // change feed
  /** One page of the node's change feed (kv.changes): pass the result's `cursor` as `since` next time. */
  async changes (options: ChangesOptions = {}): Promise<ChangesResult> {
    return await this.call('kv.changes', { ...options })
  }

  async kvChanges (options: ChangesOptions = {}): Promise<ChangesResult> {
    return await this.changes(options)
  }

  // maps (docs/api.md, "Maps")
  /** Apply field operations to map `key` atomically; `context` from a map.get supersedes only what it saw. */
  async mapUpdate (key: string, ops: MapUpdateOp[], context?: string, options?: WriteOptions): Promise<WriteResult> {
    return await this.call('map.update', { key, ops, ...(context !== undefined ? { context } : {}), ...durableParams(options) })
  }

  async mapGet (key: string, options: MapGetOptions = {}): Promise<MapGetResult> {
    return await this.call('map.get', { key, ...options })
  }

  async mapDelete (key: string, context?: string, options?: WriteOptions): Promise<WriteResult> {
    return await this.call('map.delete', { key, ...(context !== undefined ? { context } : {}), ...durableParams(options) })
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

  /**
   * Opens a WebSocket, subscribes to changes under a prefix, and calls back for each. With
   * `since` (a cursor), the changes after it are replayed first, then live ones follow, each
   * once; ERR_HISTORY_GONE (thrown here) when the node no longer holds them.
   */
  async watch (what: string | WatchOptions, callbacks: WatchCallbacks): Promise<WatchHandle> {
    const { prefix = '', since } = typeof what === 'string' ? { prefix: what } : what
    const { ws, opened } = dialRpcSocket(this.url, this.socketOptions())
    const rpc = new JSONRPCClient((payload: unknown) => { ws.send(JSON.stringify(payload)) })
    const closed = new Promise<void>(resolve => { ws.once('close', () => { rpc.rejectAllPendingRequests('connection closed'); resolve() }) })
    await opened
    ws.on('error', () => {})
    ws.on('message', (data) => {
      let msg: unknown
      try { msg = JSON.parse(data.toString()) } catch { return }
      const m = msg as { method?: unknown, params?: { subscription?: string, event?: ChangeEvent, missed?: number, cursor?: string, error?: { code: number, message: string, data?: unknown } } }
      if (m.method === 'kv.watch' && m.params !== undefined) {
        if (m.params.event !== undefined) callbacks.onEvent(m.params.event)
        else if (typeof m.params.missed === 'number') callbacks.onMissed?.(m.params.missed, m.params.cursor)
        else if (m.params.error !== undefined) callbacks.onEnd?.(new ChorusRpcError(m.params.error))
        return
      }
      rpc.receive(msg as JSONRPCResponse)
    })
    let subscription: string
    try {
      subscription = await rpc.request('kv.watch', { ...(prefix === '' ? {} : { prefix }), ...(since !== undefined ? { since } : {}) }) as string
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

/** A write's durability params, present only when asked for (a call without them is unchanged). */
function durableParams (options: WriteOptions | undefined): Record<string, unknown> {
  if (options === undefined) return {}
  return {
    ...(options.replicas !== undefined ? { replicas: options.replicas } : {}),
    ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {})
  }
}

/** The ttlMs param of a write, when given (expiring keys). */
function ttlParam (options: TtlOptions | undefined): { ttlMs?: number } {
  return options?.ttlMs !== undefined ? { ttlMs: options.ttlMs } : {}
}
