/**
 * Raw HTTP and WebSocket exchanges with a deadline each: a node that does not answer in time
 * is a finding (a hang), not something to wait out.
 */
import { connect } from 'node:net'
import WebSocket from 'ws'

export const ANSWER_DEADLINE_MS = 30_000

export interface HttpAnswer {
  status: number
  contentType: string | null
  text: string
}

export interface PostOptions {
  /** null: no Content-Type header at all. */
  contentType?: string | null
  method?: string
  path?: string
}

export async function post (baseUrl: string, body: Uint8Array | undefined, opts: PostOptions = {}): Promise<HttpAnswer> {
  const contentType = opts.contentType === undefined ? 'application/json' : opts.contentType
  const headers: Record<string, string> = contentType === null ? {} : { 'content-type': contentType }
  try {
    const res = await fetch(`${baseUrl}${opts.path ?? '/rpc'}`, {
      method: opts.method ?? 'POST',
      headers,
      ...(body !== undefined ? { body: new Uint8Array(body) } : {}),
      signal: AbortSignal.timeout(ANSWER_DEADLINE_MS)
    })
    return { status: res.status, contentType: res.headers.get('content-type'), text: await res.text() }
  } catch (err) {
    if ((err as Error).name === 'TimeoutError') throw new Error(`no HTTP answer within ${ANSWER_DEADLINE_MS} ms`)
    throw new Error(`HTTP request failed (is the node down?): ${String((err as Error).cause ?? err)}`)
  }
}

export async function getStatus (baseUrl: string, path: string): Promise<number> {
  const res = await fetch(`${baseUrl}${path}`, { signal: AbortSignal.timeout(ANSWER_DEADLINE_MS) })
  await res.arrayBuffer()
  return res.status
}

/**
 * One WebSocket to /rpc, used one frame at a time: a frame that is due a reply is answered by
 * the next message that is not a kv.watch notification. Notifications are checked by `onNotification`.
 */
export class WsConnection {
  private readonly inbox: Array<{ text: string, binary: boolean }> = []
  private waiter: (() => void) | undefined
  private closed: { code: number, reason: string } | undefined

  private constructor (private readonly ws: WebSocket, private readonly onNotification: (n: unknown) => void) {
    ws.on('message', (data: WebSocket.RawData, binary: boolean) => {
      const text = Buffer.isBuffer(data) ? data.toString('utf8') : Buffer.from(data as ArrayBuffer).toString('utf8')
      const parsed = safeParse(text)
      if (isNotification(parsed)) { onNotification(parsed); return }
      this.inbox.push({ text, binary })
      this.waiter?.()
    })
    ws.on('close', (code, reason) => { this.closed = { code, reason: reason.toString() }; this.waiter?.() })
    ws.on('error', () => {})
  }

  static async open (baseUrl: string, onNotification: (n: unknown) => void): Promise<WsConnection> {
    const ws = new WebSocket(`${baseUrl.replace(/^http/, 'ws')}/rpc`, { maxPayload: 256 * 1024 * 1024 })
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => { reject(new Error('WebSocket did not open in time')) }, ANSWER_DEADLINE_MS)
      ws.once('open', () => { clearTimeout(timer); resolve() })
      ws.once('error', (err) => { clearTimeout(timer); reject(err) })
    })
    return new WsConnection(ws, onNotification)
  }

  get closeInfo (): { code: number, reason: string } | undefined { return this.closed }

  /** Sends one frame; when a reply is due, resolves with its text (and whether it came as binary). */
  async exchange (frame: Uint8Array | string, binary: boolean, replyDue: boolean): Promise<{ text: string, binary: boolean } | undefined> {
    if (this.closed !== undefined) throw new Error(`the WebSocket is closed (${this.closed.code} ${this.closed.reason})`)
    this.ws.send(frame, { binary })
    if (!replyDue) return undefined
    return await this.next()
  }

  /** The next reply, or an error at the deadline or when the socket closes. */
  async next (deadlineMs = ANSWER_DEADLINE_MS): Promise<{ text: string, binary: boolean }> {
    const deadline = Date.now() + deadlineMs
    while (this.inbox.length === 0) {
      if (this.closed !== undefined) throw new Error(`the WebSocket closed (${this.closed.code} ${this.closed.reason}) before a reply`)
      const left = deadline - Date.now()
      if (left <= 0) throw new Error(`no WebSocket reply within ${deadlineMs} ms`)
      await new Promise<void>(resolve => {
        const timer = setTimeout(resolve, left)
        this.waiter = () => { clearTimeout(timer); resolve() }
      })
      this.waiter = undefined
    }
    return this.inbox.shift() as { text: string, binary: boolean }
  }

  /** Replies that arrived unasked (none should). */
  pending (): number { return this.inbox.length }

  /** Resolves once the server has closed the socket (with its close code), or fails at the deadline. */
  async closedByServer (deadlineMs = ANSWER_DEADLINE_MS): Promise<{ code: number, reason: string }> {
    const deadline = Date.now() + deadlineMs
    while (this.closed === undefined) {
      if (this.inbox.length > 0) throw new Error(`a reply instead of a close: ${this.inbox[0]?.text.slice(0, 200) ?? ''}`)
      const left = deadline - Date.now()
      if (left <= 0) throw new Error(`the server did not close the WebSocket within ${deadlineMs} ms`)
      await new Promise<void>(resolve => {
        const timer = setTimeout(resolve, left)
        this.waiter = () => { clearTimeout(timer); resolve() }
      })
      this.waiter = undefined
    }
    return this.closed
  }

  async close (): Promise<void> {
    if (this.closed !== undefined) return
    const done = new Promise<void>(resolve => { this.ws.once('close', () => { resolve() }) })
    this.ws.close()
    const timer = setTimeout(() => { this.ws.terminate() }, 5_000)
    await done
    clearTimeout(timer)
  }
}

function safeParse (text: string): unknown {
  try { return JSON.parse(text) } catch { return undefined }
}

function isNotification (m: unknown): boolean {
  return typeof m === 'object' && m !== null && !Array.isArray(m) && !('id' in m) && 'method' in m
}

/**
 * A POST written on a bare socket, for bodies the node refuses before reading them all (413):
 * it answers and closes while the body is still being sent, which fetch reports as EPIPE instead
 * of the answer. The body is written with backpressure and no further once the answer has begun
 * (bytes left unread would make the close a reset that loses the answer). With `declareLength`
 * the node can refuse on the header alone, so only the header is sent; else the body goes chunked.
 */
export async function postOversized (baseUrl: string, body: Uint8Array, declareLength: boolean): Promise<{ status: number, text: string }> {
  const { hostname, port } = new URL(baseUrl)
  const socket = connect(Number(port), hostname)
  socket.on('error', () => {})
  const received: Buffer[] = []
  socket.on('data', (b: Buffer) => { received.push(b) })
  const ended = new Promise<void>(resolve => { socket.once('close', () => { resolve() }) })
  const timer = setTimeout(() => { socket.destroy() }, ANSWER_DEADLINE_MS)
  const write = async (b: Uint8Array | string): Promise<void> => {
    if (!socket.write(b)) await new Promise<void>(resolve => { socket.once('drain', resolve); socket.once('close', resolve) })
  }
  await write(`POST /rpc HTTP/1.1\r\nHost: ${hostname}:${port}\r\nContent-Type: application/json\r\n` +
    (declareLength ? `Content-Length: ${body.length}\r\n` : 'Transfer-Encoding: chunked\r\n') + '\r\n')
  const CHUNK = 64 * 1024
  for (let at = 0; !declareLength && at < body.length && received.length === 0 && !socket.destroyed; at += CHUNK) {
    const part = body.subarray(at, at + CHUNK)
    await write(Buffer.concat([Buffer.from(`${part.length.toString(16)}\r\n`), part, Buffer.from('\r\n')]))
  }
  await ended
  clearTimeout(timer)
  const raw = Buffer.concat(received).toString('utf8')
  const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(raw)?.[1] ?? 0)
  return { status, text: raw.slice(raw.indexOf('\r\n\r\n') + 4) }
}
