/**
 * JSON-RPC over WebSocket at /rpc: the same methods as HTTP plus kv.watch / kv.unwatch.
 *
 * A slow watcher must never slow the node: events are dropped (and counted) while the
 * socket's send buffer is above a bound, and one `{subscription, missed: N, cursor}`
 * notification is sent once it has drained; `cursor` stands after the last event sent, so
 * kv.watch `{since: cursor}` resumes with the missed events (docs/api.md, "Change feed").
 *
 * A client may keep many requests in flight on one socket; they are handled concurrently and
 * answered as each completes (match answers by id). Past MAX_WS_IN_FLIGHT unanswered messages,
 * or MAX_WS_IN_FLIGHT_BYTES of them, the socket is not read until answers drain. A socket that
 * does not answer a ping within WS_PING_INTERVAL_MS is closed.
 */
import { WebSocketServer, WebSocket } from 'ws'
import { MAX_RPC_BODY_BYTES, MAX_WS_IN_FLIGHT, MAX_WS_IN_FLIGHT_BYTES, WS_PING_INTERVAL_MS } from '../constants.js'
import { LimitExceededError } from '../errors.js'
import { serialiseReply, type RpcHandler, type WatchSession } from './handler.js'
import { toRpcError } from './errors.js'
import { WS_PROTOCOL } from './security.js'
import type { ChangeEvent, ChorusApi } from '../node/api.js'
import type { IncomingMessage } from 'node:http'
import type { Duplex } from 'node:stream'
import type { Logger } from 'pino'

/** Default bound on a socket's unsent bytes before watch events are dropped. */
export const DEFAULT_WS_MAX_BUFFERED_BYTES = 4 * 1024 * 1024
/** Subscriptions one socket may hold. */
export const MAX_WATCHES_PER_SOCKET = 64
/** How often a congested socket is checked for having drained. */
const DRAIN_POLL_MS = 20

export interface WsBindingInit {
  api: ChorusApi
  handler: RpcHandler
  /** Decides whether an upgrade request may proceed: returns an HTTP status and message when not. */
  admit: (req: IncomingMessage) => { status: number, message: string, code: number, stringCode: string } | undefined
  maxBufferedBytes?: number
  logger?: Logger
}

export interface WsBinding {
  handleUpgrade: (req: IncomingMessage, socket: Duplex, head: Buffer) => void
  close: () => Promise<void>
}

interface Subscription {
  unsubscribe: () => void
  missed: number
  /** The change feed cursor after the last event sent: where a watcher that missed events resumes. */
  resume: string
}

function refuseUpgrade (socket: Duplex, status: number, reason: string, body: string): void {
  socket.end(`HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`)
}

/**
 * Answers the socket's requests, concurrently, each as it completes. Answers that complete
 * together (a group commit acknowledges many writes at once) leave in one write to the kernel
 * instead of one each: `writev` was a tenth of the node's CPU with 64 requests in flight. A
 * request is in flight until its answer has left for the kernel, and past MAX_WS_IN_FLIGHT
 * messages or MAX_WS_IN_FLIGHT_BYTES the socket is not read: a client that does not read its
 * answers fills its own socket, not this node's memory.
 */
function serveRequests (ws: WebSocket, handler: RpcHandler, session: WatchSession, logger: Logger | undefined): void {
  // ws's own net.Socket; cork() counts, so ws's cork/uncork per frame nests inside ours.
  const socket = (ws as unknown as { _socket?: Duplex })._socket
  let corked = false
  const sendAnswer = (text: string, sent: () => void): void => {
    if (!corked && socket !== undefined) {
      corked = true
      socket.cork()
      process.nextTick(() => { corked = false; socket.uncork() })
    }
    ws.send(text, sent)
  }
  let inFlight = 0
  let inFlightBytes = 0
  const full = (): boolean => inFlight >= MAX_WS_IN_FLIGHT || inFlightBytes >= MAX_WS_IN_FLIGHT_BYTES
  const settled = (bytes: number): void => {
    inFlight--
    inFlightBytes -= bytes
    if (!full() && ws.isPaused) ws.resume()
  }
  ws.on('message', (data) => {
    const bytes = Array.isArray(data) ? Buffer.concat(data) : data instanceof ArrayBuffer ? new Uint8Array(data) : data
    const size = bytes.byteLength
    inFlight++
    inFlightBytes += size
    if (full() && !ws.isPaused) ws.pause()
    handler.handleBytes(bytes, { session }).then(reply => {
      if (reply !== null && ws.readyState === WebSocket.OPEN) sendAnswer(serialiseReply(reply), () => { settled(size) })
      else settled(size)
    }, (err: unknown) => {
      settled(size)
      logger?.error({ err }, 'websocket request failed')
    })
  })
}

/**
 * Pings the socket every WS_PING_INTERVAL_MS and closes it when the last ping went unanswered:
 * a client that vanished without closing, or never reads, would otherwise hold its answers and
 * a paused socket for good. Returns the function that stops it.
 */
function keepAlive (ws: WebSocket): () => void {
  let alive = true
  ws.on('pong', () => { alive = true })
  const timer = setInterval(() => {
    if (!alive) { ws.terminate(); return }
    alive = false
    ws.ping()
  }, WS_PING_INTERVAL_MS)
  timer.unref()
  return () => { clearInterval(timer) }
}

export function createWsBinding (init: WsBindingInit): WsBinding {
  const { api, handler, admit, logger } = init
  const maxBuffered = init.maxBufferedBytes ?? DEFAULT_WS_MAX_BUFFERED_BYTES
  // Of the subprotocols a client offers, only `chorus` is ever chosen: the token one is never echoed.
  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_RPC_BODY_BYTES, handleProtocols: (offered) => offered.has(WS_PROTOCOL) ? WS_PROTOCOL : false })

  wss.on('connection', (ws: WebSocket) => {
    const subs = new Map<string, Subscription>()
    let nextId = 1
    let drainTimer: NodeJS.Timeout | undefined

    const congested = (): boolean => ws.bufferedAmount > maxBuffered

    const flushMissed = (): void => {
      for (const [id, sub] of subs) {
        if (sub.missed > 0 && !congested()) {
          const missed = sub.missed
          sub.missed = 0
          ws.send(JSON.stringify({ jsonrpc: '2.0', method: 'kv.watch', params: { subscription: id, missed, cursor: sub.resume } }))
        }
      }
    }

    const watchDrain = (): void => {
      if (drainTimer !== undefined) return
      drainTimer = setInterval(() => {
        if (ws.readyState !== WebSocket.OPEN) { clearInterval(drainTimer); drainTimer = undefined; return }
        // Low-water mark: resume at half the bound so a watcher does not flap.
        if (ws.bufferedAmount <= maxBuffered / 2) {
          clearInterval(drainTimer)
          drainTimer = undefined
          flushMissed()
        }
      }, DRAIN_POLL_MS)
      drainTimer.unref()
    }

    const session: WatchSession = {
      watch (prefix, since) {
        if (subs.size >= MAX_WATCHES_PER_SOCKET) {
          throw new LimitExceededError(`a connection holds at most ${MAX_WATCHES_PER_SOCKET} subscriptions`)
        }
        const id = `w${nextId++}`
        const sub: Subscription = { unsubscribe: () => {}, missed: 0, resume: '' }
        // Runs inside the node's apply path: must be cheap and must never throw.
        const send = (event: ChangeEvent): void => {
          try {
            if (ws.readyState !== WebSocket.OPEN || !subs.has(id)) return
            if (congested() || drainTimer !== undefined) {
              sub.missed++
              watchDrain()
              return
            }
            if (sub.missed > 0) flushMissed()
            ws.send(JSON.stringify({ jsonrpc: '2.0', method: 'kv.watch', params: { subscription: id, event } }))
            if (event.cursor !== undefined && sub.missed === 0) sub.resume = event.cursor
          } catch (err) {
            logger?.warn({ err }, 'dropping a watch event')
          }
        }
        // The subscription ended on its own (the history went while it was replayed): say so.
        const ended = (err: unknown): void => {
          if (!subs.delete(id) || ws.readyState !== WebSocket.OPEN) return
          ws.send(JSON.stringify({ jsonrpc: '2.0', method: 'kv.watch', params: { subscription: id, error: toRpcError(err).error } }))
        }
        subs.set(id, sub)
        try {
          const feed = api.watchFeed({ prefix, ...(since !== undefined ? { since } : {}) }, send, ended)
          sub.unsubscribe = feed.unsubscribe
          sub.resume = feed.cursor
        } catch (err) {
          subs.delete(id)
          throw err
        }
        return id
      },
      unwatch (id) {
        const sub = subs.get(id)
        if (sub === undefined) return false
        subs.delete(id)
        sub.unsubscribe()
        return true
      }
    }

    serveRequests(ws, handler, session, logger)
    const stopPinging = keepAlive(ws)
    ws.on('close', () => {
      stopPinging()
      if (drainTimer !== undefined) clearInterval(drainTimer)
      for (const sub of subs.values()) sub.unsubscribe()
      subs.clear()
    })
    ws.on('error', (err) => { logger?.debug({ err }, 'websocket error') })
  })

  return {
    handleUpgrade (req, socket, head) {
      const path = (req.url ?? '/').split('?')[0]
      if (path !== '/rpc') {
        refuseUpgrade(socket, 404, 'Not Found', JSON.stringify({ error: 'WebSocket endpoint is /rpc' }))
        return
      }
      const refusal = admit(req)
      if (refusal !== undefined) {
        const body = JSON.stringify({ jsonrpc: '2.0', id: null, error: { code: refusal.code, message: refusal.message, data: { code: refusal.stringCode } } })
        refuseUpgrade(socket, refusal.status, refusal.status === 401 ? 'Unauthorized' : 'Forbidden', body)
        return
      }
      wss.handleUpgrade(req, socket, head, ws => { wss.emit('connection', ws, req) })
    },
    async close () {
      for (const ws of wss.clients) ws.terminate()
      await new Promise<void>(resolve => { wss.close(() => { resolve() }) })
    }
  }
}
