/**
 * The transport-free JSON-RPC handler: a method table over a ChorusApi, zod validation per
 * method, and the mapping of every failure to a JSON-RPC error with a stable `data.code`.
 * HTTP (./http.ts) and WebSocket (./ws.ts) only move bytes in and out of it.
 */
import { JSONRPCServer } from 'json-rpc-2.0'
import type { JSONRPCID, JSONRPCRequest, JSONRPCResponse } from 'json-rpc-2.0'
import { MAX_RPC_BATCH } from '../constants.js'
import {
  ERR_INTERNAL, ERR_INVALID_REQUEST, ERR_METHOD_NOT_FOUND, ERR_PARSE,
  RPC_INTERNAL_ERROR, RPC_INVALID_REQUEST, RPC_METHOD_NOT_FOUND, RPC_PARSE_ERROR,
  errorResponse, toRpcError
} from './errors.js'
import { parseParams } from './schemas.js'
import { SESSION_DATA_METHODS, withSession } from './session-methods.js'
import type { MethodName, MethodParams } from './schemas.js'
import type { ChorusApi, WriteOptions } from '../node/api.js'
import type { Logger } from 'pino'

/** What a WebSocket connection offers kv.watch / kv.unwatch. Absent over HTTP. */
export interface WatchSession {
  /** Starts a subscription (replaying the change feed after `since` first); returns its id. */
  watch: (prefix: string, since?: string) => string
  /** Ends a subscription; false when the id is unknown. */
  unwatch: (subscription: string) => boolean
}

export interface RpcContext {
  session?: WatchSession
}

export type RpcReply = JSONRPCResponse | JSONRPCResponse[] | null

export interface RpcHandler {
  /** Handles a request body (text). Returns null when nothing is to be sent back (notifications). */
  handleText: (text: string, ctx?: RpcContext) => Promise<RpcReply>
  /** Handles a request body (bytes): text that is not valid UTF-8 is a parse error, never replaced. */
  handleBytes: (bytes: Uint8Array, ctx?: RpcContext) => Promise<RpcReply>
  /** Handles an already parsed request or batch. */
  handle: (payload: unknown, ctx?: RpcContext) => Promise<RpcReply>
  /** Names of the methods served (kv.watch/kv.unwatch included: they need a session). */
  readonly methods: readonly string[]
}

export interface RpcHandlerInit {
  api: ChorusApi
  logger?: Logger
}

type Impl<M extends MethodName> = (params: MethodParams<M>, ctx: RpcContext) => Promise<unknown> | unknown

function sessionOf (ctx: RpcContext, method: string): WatchSession {
  if (ctx.session === undefined) {
    throw Object.assign(new Error(`${method} is available over WebSocket only (ws://…/rpc)`), { methodNotFound: true })
  }
  return ctx.session
}

/** Methods that need a WebSocket session. */
const SESSION_METHODS: ReadonlySet<string> = new Set(['kv.watch', 'kv.unwatch'])

function withAfter<T extends { after?: string, timeoutMs?: number }> (p: T): { after?: string, timeoutMs?: number } {
  return {
    ...(p.after !== undefined ? { after: p.after } : {}),
    ...(p.timeoutMs !== undefined ? { timeoutMs: p.timeoutMs } : {})
  }
}

/** The durability params of a write method, passed on only when given (a call without them is unchanged). */
function withDurable<T extends { replicas?: number | 'majority', timeoutMs?: number }> (p: T): WriteOptions | undefined {
  if (p.replicas === undefined && p.timeoutMs === undefined) return undefined
  return {
    ...(p.replicas !== undefined ? { replicas: p.replicas } : {}),
    ...(p.timeoutMs !== undefined ? { timeoutMs: p.timeoutMs } : {})
  }
}

/** Expiring keys: the ttlMs a write carries, if any. */
function withTtl (p: { ttlMs?: number }): { ttlMs?: number } {
  return p.ttlMs !== undefined ? { ttlMs: p.ttlMs } : {}
}

function methodTable (api: ChorusApi): { [M in MethodName]: Impl<M> } {
  return {
    'kv.put': p => api.kvPut(p.key, p.value, p.context, { ...withDurable(p), ...withTtl(p) }),
    'kv.get': p => api.kvGet(p.key, { ...(p.all !== undefined ? { all: p.all } : {}), ...withAfter(p) }),
    'kv.delete': p => api.kvDelete(p.key, p.context, withDurable(p)),
    'kv.batch': p => api.kvBatch(p.ops, withDurable(p)),
    'kv.scan': p => api.kvScan(p),
    'kv.conflicts': p => api.kvConflicts(p),
    'counter.incr': p => api.counterIncr(p.key, p.by ?? 1, { ...withDurable(p), ...withTtl(p) }),
    'counter.get': p => api.counterGet(p.key, withAfter(p)),
    'set.add': p => api.setAdd(p.key, p.members, { ...withDurable(p), ...withTtl(p) }),
    'set.remove': p => api.setRemove(p.key, p.members, withDurable(p)),
    'set.get': p => api.setGet(p.key, withAfter(p)),
    'counter.scan': p => api.counterScan(p),
    'set.scan': p => api.setScan(p),
    'node.export': p => api.exportPage(p),
    'node.import': p => api.importStates(p.items),
    'node.info': () => api.info(),
    'node.errors': () => ({ errors: api.recentErrors() }),
    'cluster.peers': () => api.peers(),
    'cluster.sync': p => api.sync(p.peer),
    'cluster.members': () => api.members(),
    'cluster.forget': p => api.forget(p.peerId),
    'cluster.connect': p => api.connect(p.addr),
    'kv.watch': (p, ctx) => sessionOf(ctx, 'kv.watch').watch(p.prefix ?? '', p.since),
    'kv.changes': p => api.changes({ ...(p.since !== undefined ? { since: p.since } : {}), ...(p.prefix !== undefined ? { prefix: p.prefix } : {}), ...(p.limit !== undefined ? { limit: p.limit } : {}) }),
    'kv.unwatch': (p, ctx) => sessionOf(ctx, 'kv.unwatch').unwatch(p.subscription),
    'map.update': p => api.mapUpdate(p.key, p.ops, p.context, withDurable(p)),
    'map.get': p => api.mapGet(p.key, { ...(p.all !== undefined ? { all: p.all } : {}), ...withAfter(p) }),
    'map.delete': p => api.mapDelete(p.key, p.context, withDurable(p)),
    'map.scan': p => api.mapScan(p)
  }
}

function isId (id: unknown): id is JSONRPCID {
  return typeof id === 'string' || (typeof id === 'number' && Number.isFinite(id)) || id === null
}

/** Stricter than the library's check: method a string, id a valid id, params structured. */
function requestProblem (req: unknown): string | undefined {
  if (typeof req !== 'object' || req === null || Array.isArray(req)) return 'a request must be a JSON object'
  const r = req as Record<string, unknown>
  if (r.jsonrpc !== '2.0') return 'jsonrpc must be "2.0"'
  if (typeof r.method !== 'string') return 'method must be a string'
  if ('id' in r && !isId(r.id)) return 'id must be a string, a number or null'
  if (r.params !== undefined && (typeof r.params !== 'object' || r.params === null)) return 'params must be an object or an array'
  if ('result' in r || 'error' in r) return 'a request has no result or error'
  return undefined
}

export function createRpcHandler (init: RpcHandlerInit): RpcHandler {
  const { api, logger } = init
  const table = methodTable(api)
  const observe = api.rpcObserver?.(Object.keys(table)) ?? (() => {})
  // The library logs every method error with console.warn by default: route to our mapper instead.
  const server = new JSONRPCServer<RpcContext>({ errorListener: () => {} })

  for (const name of Object.keys(table) as MethodName[]) {
    const impl = table[name] as Impl<MethodName>
    server.addMethod(name, async (params: unknown, ctx: RpcContext) => {
      // Over HTTP a WebSocket-only method does not exist, whatever its params: -32601, not -32602.
      if (SESSION_METHODS.has(name)) sessionOf(ctx ?? {}, name)
      const started = performance.now()
      try {
        const parsed = parseParams(name, params)
        const result = SESSION_DATA_METHODS.has(name)
          ? await withSession(api, parsed as Record<string, unknown>, async p => await impl(p as typeof parsed, ctx ?? {}))
          : await impl(parsed, ctx ?? {})
        observe(name, (performance.now() - started) / 1000, true)
        return result
      } catch (err) {
        observe(name, (performance.now() - started) / 1000, false)
        throw err
      }
    })
  }

  server.handleMethodNotFound = async (request: JSONRPCRequest) => {
    if (request.id === undefined) return null
    return errorResponse(request.id, RPC_METHOD_NOT_FOUND, `Method not found: ${request.method}`, ERR_METHOD_NOT_FOUND)
  }

  server.mapErrorToJSONRPCErrorResponse = (id: JSONRPCID, err: unknown) => {
    if (err instanceof Error && (err as { methodNotFound?: boolean }).methodNotFound === true) {
      return errorResponse(id, RPC_METHOD_NOT_FOUND, err.message, ERR_METHOD_NOT_FOUND)
    }
    const { error, internal } = toRpcError(err)
    if (internal) logger?.error({ err }, 'rpc method failed unexpectedly')
    else logger?.debug({ code: (error.data as { code: string }).code, msg: error.message }, 'rpc method refused')
    return { jsonrpc: '2.0', id, error }
  }

  async function handleOne (req: unknown, ctx: RpcContext): Promise<JSONRPCResponse | null> {
    const problem = requestProblem(req)
    if (problem !== undefined) {
      const id = typeof req === 'object' && req !== null && isId((req as { id?: unknown }).id) ? (req as { id: JSONRPCID }).id : null
      return errorResponse(id, RPC_INVALID_REQUEST, `Invalid Request: ${problem}`, ERR_INVALID_REQUEST)
    }
    return await server.receive(req as JSONRPCRequest, ctx)
  }

  async function handle (payload: unknown, ctx: RpcContext = {}): Promise<RpcReply> {
    if (!Array.isArray(payload)) return await handleOne(payload, ctx)
    if (payload.length === 0) {
      return errorResponse(null, RPC_INVALID_REQUEST, 'Invalid Request: empty batch', ERR_INVALID_REQUEST)
    }
    if (payload.length > MAX_RPC_BATCH) {
      return errorResponse(null, RPC_INVALID_REQUEST, `Invalid Request: a batch holds at most ${MAX_RPC_BATCH} requests (got ${payload.length})`, ERR_INVALID_REQUEST)
    }
    const replies = await Promise.all(payload.map(async req => await handleOne(req, ctx)))
    const out = replies.filter((r): r is JSONRPCResponse => r !== null)
    return out.length === 0 ? null : out
  }

  async function handleText (text: string, ctx: RpcContext = {}): Promise<RpcReply> {
    let payload: unknown
    try {
      payload = JSON.parse(text)
    } catch {
      return errorResponse(null, RPC_PARSE_ERROR, 'Parse error: the body is not valid JSON', ERR_PARSE)
    }
    return await handle(payload, ctx)
  }

  async function handleBytes (bytes: Uint8Array, ctx: RpcContext = {}): Promise<RpcReply> {
    let text: string
    try {
      text = STRICT_UTF8.decode(bytes)
    } catch {
      // Decoding leniently would turn the client's key into another one (U+FFFD).
      return errorResponse(null, RPC_PARSE_ERROR, 'Parse error: the body is not valid UTF-8', ERR_PARSE)
    }
    return await handleText(text, ctx)
  }

  return { handle, handleText, handleBytes, methods: Object.keys(table) }
}

const STRICT_UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true })

/**
 * The JSON text of a reply. A result that cannot be serialised (a value stored before nesting
 * was bounded overflows JSON.stringify's stack) becomes an internal error for its own request
 * instead of an exception that would fail the others or, over WebSocket, escape.
 */
export function serialiseReply (reply: JSONRPCResponse | JSONRPCResponse[]): string {
  try {
    return JSON.stringify(reply)
  } catch {
    if (!Array.isArray(reply)) return JSON.stringify(unserialisable(reply))
    return `[${reply.map(r => serialiseReply(r)).join(',')}]`
  }
}

function unserialisable (reply: JSONRPCResponse): JSONRPCResponse {
  return errorResponse(reply.id ?? null, RPC_INTERNAL_ERROR, 'Internal error: the result cannot be serialised as JSON', ERR_INTERNAL)
}
