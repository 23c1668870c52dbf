/**
 * Request admission for the RPC server: bearer token (constant-time comparison), a Host-header
 * allow-list against DNS rebinding, and an Origin check for WebSocket upgrades (browsers do
 * not apply CORS to WebSockets).
 */
import { createHash, timingSafeEqual } from 'node:crypto'
import { isIP } from 'node:net'
import { hostname, networkInterfaces } from 'node:os'
import type { IncomingMessage } from 'node:http'

/** True for 127.0.0.0/8, ::1, ::ffff:127.x and `localhost` (and `*.localhost`). */
export function isLoopbackHost (host: string): boolean {
  const h = stripBrackets(host).toLowerCase()
  if (h === 'localhost' || h.endsWith('.localhost')) return true
  if (isIP(h) === 4) return h.startsWith('127.')
  if (isIP(h) === 6) return h === '::1' || h === '0:0:0:0:0:0:0:1' || h.startsWith('::ffff:127.')
  return false
}

export function isWildcardHost (host: string): boolean {
  const h = stripBrackets(host)
  return h === '0.0.0.0' || h === '::' || h === ''
}

function stripBrackets (h: string): string {
  return h.startsWith('[') && h.endsWith(']') ? h.slice(1, -1) : h
}

/** The hostname part of a Host header value (`[::1]:7070` → `::1`, `a.b:80` → `a.b`). */
export function hostnameOf (hostHeader: string): string {
  const v = hostHeader.trim().toLowerCase()
  if (v.startsWith('[')) {
    const end = v.indexOf(']')
    return end < 0 ? v : v.slice(1, end)
  }
  const colon = v.indexOf(':')
  // More than one colon without brackets: a bare IPv6 address.
  if (colon >= 0 && v.indexOf(':', colon + 1) < 0) return v.slice(0, colon)
  return v
}

/**
 * Builds the Host check. Allowed: loopback names and addresses, the bound host, any extra
 * names given, and — when bound to a wildcard address — this machine's own addresses and name.
 */
export function createHostCheck (boundHost: string, extra: readonly string[] = []): (hostHeader: string | undefined) => boolean {
  const allowed = new Set<string>([stripBrackets(boundHost).toLowerCase(), ...extra.map(h => stripBrackets(h).toLowerCase())])
  if (isWildcardHost(boundHost)) {
    allowed.add(hostname().toLowerCase())
    for (const list of Object.values(networkInterfaces())) {
      for (const a of list ?? []) allowed.add(a.address.toLowerCase())
    }
  }
  return (hostHeader) => {
    // HTTP/1.0 clients may omit Host; browsers (the DNS-rebinding vector) always send it.
    if (hostHeader === undefined) return true
    const h = hostnameOf(hostHeader)
    return isLoopbackHost(h) || allowed.has(h)
  }
}

/**
 * A browser cannot set headers on a WebSocket, so the console sends its token as a subprotocol
 * (`chorus-token.<base64url of the token>`, beside `chorus`): not in the URL, where logs and
 * history would keep it.
 */
export const WS_TOKEN_PROTOCOL_PREFIX = 'chorus-token.'
/** The subprotocol the server answers with when a client offers one. */
export const WS_PROTOCOL = 'chorus'

/** The bearer token a request carries: the Authorization header, or the WebSocket subprotocol. */
function presentedToken (req: IncomingMessage): string | undefined {
  const header = req.headers.authorization
  if (typeof header === 'string') return /^Bearer\s+(.+)$/i.exec(header.trim())?.[1]
  const protocols = req.headers['sec-websocket-protocol']
  if (typeof protocols !== 'string') return undefined
  for (const p of protocols.split(',')) {
    const offered = p.trim()
    if (offered.startsWith(WS_TOKEN_PROTOCOL_PREFIX)) return Buffer.from(offered.slice(WS_TOKEN_PROTOCOL_PREFIX.length), 'base64url').toString('utf8')
  }
  return undefined
}

/** Constant-time bearer-token check (hashing first makes the lengths equal). */
export function createTokenCheck (token: string | undefined): (req: IncomingMessage) => boolean {
  if (token === undefined) return () => true
  const want = createHash('sha256').update(token).digest()
  return (req) => {
    const presented = presentedToken(req)
    const got = createHash('sha256').update(presented ?? '').digest()
    return timingSafeEqual(want, got) && presented !== undefined
  }
}

/** A browser page's Origin must name an allowed host; non-browser clients send none. */
export function originAllowed (origin: string | undefined, hostOk: (h: string | undefined) => boolean): boolean {
  if (origin === undefined) return true
  try {
    const u = new URL(origin)
    return hostOk(u.host)
  } catch {
    return false
  }
}
