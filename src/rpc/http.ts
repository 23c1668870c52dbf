/**
 * The RPC server: node:http (node:https when given a certificate and key) with POST /rpc
 * (JSON-RPC), GET /health, GET /metrics, GET / (status page), and WebSocket upgrades at /rpc
 * (wss:// with TLS).
 */
import { createServer as createHttpServer, type Server } from 'node:http'
import { createServer as createHttpsServer } from 'node:https'
import { MAX_RPC_BODY_BYTES } from '../constants.js'
import { ConfigError } from '../errors.js'
import {
  ERR_BODY_TOO_LARGE, ERR_FORBIDDEN_HOST, ERR_INVALID_REQUEST, ERR_UNAUTHORIZED, ERR_UNSUPPORTED_MEDIA_TYPE,
  RPC_INVALID_REQUEST, RPC_UNAUTHORIZED, errorResponse
} from './errors.js'
import { createRpcHandler, serialiseReply } from './handler.js'
import { createHostCheck, createTokenCheck, isLoopbackHost, originAllowed } from './security.js'
import { CONSOLE_ASSETS, CONSOLE_CSP, renderConsolePage } from './console-page.js'
import { createWsBinding } from './ws.js'
import type { ChorusApi, ChorusApiExtras } from '../node/api.js'
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Logger } from 'pino'

export interface RpcServerInit {
  api: ChorusApi & ChorusApiExtras
  /** Address to bind; a non-loopback address requires `token`. */
  host: string
  /** 0 picks a free port. */
  port: number
  /** When set, every request but GET /health needs `Authorization: Bearer <token>`. */
  token?: string
  logger?: Logger
  /** More Host-header names to accept (a DNS name the node is reached by). */
  allowedHosts?: string[]
  /** Largest request body. @default MAX_RPC_BODY_BYTES */
  maxBodyBytes?: number
  /** Unsent WebSocket bytes past which watch events are dropped. @default 4 MiB */
  wsMaxBufferedBytes?: number
  /**
   * Serve HTTPS and WSS instead of HTTP and WS: the PEM certificate (chain, the server's first)
   * and its private key. Without it the bearer token crosses the network in clear text.
   */
  tls?: { cert: string | Buffer, key: string | Buffer }
}

export interface RpcServer {
  /** Base URL, e.g. `http://127.0.0.1:7070`, `https://…` with TLS (JSON-RPC is at `${url}/rpc`). */
  readonly url: string
  readonly port: number
  /** Stops accepting, closes every connection. Idempotent. */
  close: () => Promise<void>
}

const METRICS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8'
const CONSOLE_HEADERS = { 'content-security-policy': CONSOLE_CSP, 'x-content-type-options': 'nosniff', 'x-frame-options': 'DENY', 'referrer-policy': 'no-referrer' }

function sendJson (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  sendJsonText(res, status, JSON.stringify(body), headers)
}

function sendJsonText (res: ServerResponse, status: number, text: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text), ...headers })
  res.end(text)
}

function sendRpcError (res: ServerResponse, status: number, code: number, message: string, stringCode: string, headers: Record<string, string> = {}): void {
  sendJson(res, status, errorResponse(null, code, message, stringCode), headers)
}

function isJsonContentType (value: string | undefined): boolean {
  if (value === undefined) return false
  const type = value.split(';')[0]?.trim().toLowerCase()
  return type === 'application/json'
}

function urlHost (host: string): string {
  return host.includes(':') && !host.startsWith('[') ? `[${host}]` : host
}

const SERVER_OPTIONS = { keepAlive: true, requestTimeout: 120_000, headersTimeout: 30_000 }

/** node:http, or node:https with `tls`; a certificate and key that do not fit are a ConfigError. */
function createServer (listener: (req: IncomingMessage, res: ServerResponse) => void, tls: RpcServerInit['tls']): Server {
  if (tls === undefined) return createHttpServer(SERVER_OPTIONS, listener)
  try {
    return createHttpsServer({ ...SERVER_OPTIONS, cert: tls.cert, key: tls.key }, listener)
  } catch (err) {
    throw new ConfigError(`the RPC TLS certificate and key cannot be used: ${(err as Error).message}`, { cause: err })
  }
}

export async function startRpcServer (init: RpcServerInit): Promise<RpcServer> {
  const { api, host, port, token, logger } = init
  if (token !== undefined && token.length === 0) throw new ConfigError('the RPC token must not be empty')
  if (!isLoopbackHost(host) && token === undefined) {
    throw new ConfigError(`refusing to serve RPC on non-loopback address ${host} without a token (set --rpc-token / CHORUS_RPC_TOKEN)`)
  }
  const maxBody = init.maxBodyBytes ?? MAX_RPC_BODY_BYTES
  const handler = createRpcHandler({ api, ...(logger !== undefined ? { logger } : {}) })
  const hostOk = createHostCheck(host, init.allowedHosts)
  const tokenOk = createTokenCheck(token)

  /** Host check first (403), then the token (401). */
  const refusal = (req: IncomingMessage, needsToken: boolean): { status: number, message: string, code: number, stringCode: string } | undefined => {
    if (!hostOk(req.headers.host)) {
      return { status: 403, code: RPC_UNAUTHORIZED, stringCode: ERR_FORBIDDEN_HOST, message: `Forbidden: Host ${JSON.stringify(req.headers.host)} is not allowed` }
    }
    if (needsToken && !tokenOk(req)) {
      return { status: 401, code: RPC_UNAUTHORIZED, stringCode: ERR_UNAUTHORIZED, message: 'Unauthorized: send Authorization: Bearer <token>' }
    }
    return undefined
  }

  async function serveRpc (req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (!isJsonContentType(req.headers['content-type'])) {
      req.resume()
      sendRpcError(res, 415, RPC_INVALID_REQUEST, 'Unsupported Media Type: Content-Type must be application/json', ERR_UNSUPPORTED_MEDIA_TYPE)
      return
    }
    const tooLarge = (): void => {
      // Do not read the rest: answer and close the connection.
      sendRpcError(res, 413, RPC_INVALID_REQUEST, `Payload Too Large: the body exceeds ${maxBody} bytes`, ERR_BODY_TOO_LARGE, { connection: 'close' })
      req.unpipe()
      req.resume()
    }
    const declared = Number(req.headers['content-length'] ?? NaN)
    if (Number.isFinite(declared) && declared > maxBody) { tooLarge(); return }

    const body = await new Promise<Buffer | undefined>((resolve, reject) => {
      const chunks: Buffer[] = []
      let size = 0
      const onData = (b: Buffer): void => {
        size += b.length
        if (size > maxBody) {
          // Keep the stream flowing (discarding) so the 413 can be written.
          req.off('data', onData)
          resolve(undefined)
          return
        }
        chunks.push(b)
      }
      req.on('data', onData)
      req.once('end', () => { resolve(Buffer.concat(chunks)) })
      req.once('error', reject)
    })
    if (body === undefined) { tooLarge(); return }
    const reply = await handler.handleBytes(body)
    if (reply === null) {
      res.writeHead(204)
      res.end()
      return
    }
    sendJsonText(res, 200, serialiseReply(reply))
  }

  async function onRequest (req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0] ?? '/'
    const method = req.method ?? 'GET'
    const isRead = method === 'GET' || method === 'HEAD'
    // Health, the console's shell and its static files hold no data: they need no token.
    const open = isRead && (path === '/health' || path === '/' || CONSOLE_ASSETS.has(path))
    const refused = refusal(req, !open)
    if (refused !== undefined) {
      req.resume()
      sendRpcError(res, refused.status, refused.code, refused.message, refused.stringCode,
        refused.status === 401 ? { 'www-authenticate': 'Bearer realm="chorus"' } : {})
      return
    }
    if (path === '/rpc') {
      if (method !== 'POST') {
        req.resume()
        sendRpcError(res, 405, RPC_INVALID_REQUEST, 'Method Not Allowed: POST JSON-RPC to /rpc (or open a WebSocket)', ERR_INVALID_REQUEST, { allow: 'POST' })
        return
      }
      await serveRpc(req, res)
      return
    }
    req.resume()
    if (method !== 'GET' && method !== 'HEAD') {
      sendJson(res, 405, { error: 'method not allowed' }, { allow: 'GET, HEAD' })
      return
    }
    if (path === '/health') {
      const ready = api.isReady()
      sendJson(res, ready ? 200 : 503, { status: ready ? 'ok' : 'unavailable' })
      return
    }
    if (path === '/metrics') {
      const text = await api.metricsText()
      res.writeHead(200, { 'content-type': METRICS_CONTENT_TYPE, 'content-length': Buffer.byteLength(text) })
      res.end(text)
      return
    }
    if (path === '/') {
      // The summary only for a request that may read the node; a browser never sends the token here.
      const view = tokenOk(req) ? await Promise.all([api.info(), api.peers()]).then(([info, peers]) => ({ info, peers }), () => undefined) : undefined
      const html = renderConsolePage(view)
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'content-length': Buffer.byteLength(html), 'cache-control': 'no-store', ...CONSOLE_HEADERS })
      res.end(html)
      return
    }
    const asset = CONSOLE_ASSETS.get(path)
    if (asset !== undefined) {
      res.writeHead(200, { 'content-type': asset.type, 'content-length': asset.body.length, 'cache-control': 'no-cache', ...CONSOLE_HEADERS })
      res.end(method === 'HEAD' ? undefined : asset.body)
      return
    }
    sendJson(res, 404, { error: 'not found', paths: ['/rpc', '/health', '/metrics', '/', ...CONSOLE_ASSETS.keys()] })
  }

  const listener = (req: IncomingMessage, res: ServerResponse): void => {
    onRequest(req, res).catch((err: unknown) => {
      logger?.error({ err }, 'rpc http request failed')
      if (!res.headersSent) sendRpcError(res, 500, -32603, 'Internal error', 'ERR_INTERNAL')
      else res.destroy()
    })
  }
  const server = createServer(listener, init.tls)
  server.keepAliveTimeout = 5_000

  const ws = createWsBinding({
    api,
    handler,
    admit: (req) => {
      const r = refusal(req, true)
      if (r !== undefined) return r
      if (!originAllowed(req.headers.origin, hostOk)) {
        return { status: 403, code: RPC_UNAUTHORIZED, stringCode: ERR_FORBIDDEN_HOST, message: `Forbidden: Origin ${JSON.stringify(req.headers.origin)} is not allowed` }
      }
      return undefined
    },
    ...(init.wsMaxBufferedBytes !== undefined ? { maxBufferedBytes: init.wsMaxBufferedBytes } : {}),
    ...(logger !== undefined ? { logger } : {})
  })
  server.on('upgrade', (req: IncomingMessage, socket, head: Buffer) => {
    socket.on('error', () => {})
    ws.handleUpgrade(req, socket, head)
  })
  // A client that does not trust the certificate, or speaks plain HTTP to the TLS port.
  server.on('tlsClientError', (err: Error) => { logger?.debug({ err }, 'rpc tls handshake failed') })
  server.on('clientError', (err, socket) => {
    logger?.debug({ err }, 'rpc client error')
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n')
    else socket.destroy()
  })

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, host, () => {
      server.off('error', reject)
      resolve()
    })
  })
  const bound = (server.address() as AddressInfo).port
  const url = `${init.tls !== undefined ? 'https' : 'http'}://${urlHost(host)}:${bound}`
  logger?.info({ url }, 'rpc server listening')

  let closing: Promise<void> | undefined
  return {
    url,
    port: bound,
    close: async () => {
      closing ??= (async () => {
        await ws.close()
        await new Promise<void>(resolve => {
          server.close(() => { resolve() })
          server.closeAllConnections()
        })
      })()
      return await closing
    }
  }
}
