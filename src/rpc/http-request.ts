/**
 * One HTTP request from the client, answered as status and text. http:// goes through the
 * global fetch; https:// through node:https, because Node 20's fetch cannot be given a CA
 * (that needs the undici package's Agent): node:https takes `ca` per request, and its agent
 * keeps one pool of connections per CA.
 */
import { request as httpsRequest } from 'node:https'

export interface HttpRequestInit {
  method: 'GET' | 'POST'
  headers: Record<string, string>
  body?: string
  timeoutMs: number
  /** PEM CA certificate(s) trusted for an https:// URL instead of the system's store. */
  ca?: string | Buffer
}

export interface HttpAnswer {
  status: number
  text: string
}

/** Throws the transport's error as is (for connectionError()); a deadline that ran out throws a TimeoutError. */
export async function requestText (url: string, init: HttpRequestInit): Promise<HttpAnswer> {
  if (!url.startsWith('https:')) {
    const res = await fetch(url, {
      method: init.method,
      headers: init.headers,
      ...(init.body !== undefined ? { body: init.body } : {}),
      signal: AbortSignal.timeout(init.timeoutMs)
    })
    return { status: res.status, text: await res.text() }
  }
  const signal = AbortSignal.timeout(init.timeoutMs)
  try {
    return await new Promise<HttpAnswer>((resolve, reject) => {
      const req = httpsRequest(url, {
        method: init.method,
        headers: { ...init.headers, ...(init.body !== undefined ? { 'content-length': String(Buffer.byteLength(init.body)) } : {}) },
        signal,
        ...(init.ca !== undefined ? { ca: init.ca } : {})
      }, (res) => {
        const chunks: Buffer[] = []
        res.on('data', (c: Buffer) => chunks.push(c))
        res.once('end', () => { resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }) })
        res.once('error', reject)
      })
      req.once('error', reject)
      req.end(init.body)
    })
  } catch (err) {
    // node:https reports the deadline as an AbortError: report it as fetch does.
    if (signal.aborted) throw signal.reason as Error
    throw err
  }
}
