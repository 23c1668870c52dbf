/**
 * The shape checks of the addresses `chorus start` takes, shared by the CLI's flag parsers and
 * createNode's option checks: each returns what is wrong, or undefined.
 */

const HOST_PORT = /^(\[[0-9a-fA-F:.]+\]|[^:\s[\]]+):(\d{1,5})$/
const MAX_PORT = 65535

/** What is wrong with a `HOST:PORT` (IPv6 as `[::1]:7070`), or undefined. */
export function hostPortProblem (value: string): string | undefined {
  const m = HOST_PORT.exec(value.trim())
  if (m === null) return 'expected HOST:PORT, e.g. 127.0.0.1:7070 (IPv6 as [::1]:7070)'
  if (Number(m[2]) > MAX_PORT) return `the port must be between 0 and ${MAX_PORT}`
  return undefined
}

/** Splits a checked `HOST:PORT`; the host loses its IPv6 brackets. */
export function splitHostPort (value: string): { host: string, port: number } {
  const v = value.trim()
  const i = v.lastIndexOf(':')
  let host = v.slice(0, i)
  if (host.startsWith('[') && host.endsWith(']')) host = host.slice(1, -1)
  return { host, port: Number(v.slice(i + 1)) }
}

/** What is wrong with a multiaddr's shape (libp2p checks the rest when it listens or dials), or undefined. */
export function multiaddrProblem (value: string): string | undefined {
  const v = value.trim()
  if (!/^\/[^\s]+$/.test(v) || v.split('/').length < 3) {
    return `expected a multiaddr such as /ip4/127.0.0.1/tcp/7071, got ${JSON.stringify(value)}`
  }
  return undefined
}
