/**
 * Whether an address is on this host. Used by the secure default (a node without a cluster
 * key talks to this host only: config.ts, node/peer-gate.ts).
 */
import { multiaddr, type Multiaddr } from '@multiformats/multiaddr'

/** Multiaddr protocol codes of the address families we can judge. */
const IP4 = 4
const IP6 = 41
const DNS_CODES = new Set([53, 54, 55, 56])

/** Whether a multiaddr points at this host: 127.0.0.0/8, ::1, or the name localhost. */
export function isLoopbackMultiaddr (ma: Multiaddr): boolean {
  const first = ma.stringTuples()[0]
  if (first === undefined) return false
  const [code, value = ''] = first
  if (code === IP4) return value.startsWith('127.')
  if (code === IP6) return value === '::1' || value === '0:0:0:0:0:0:0:1' || value.startsWith('::ffff:127.')
  if (DNS_CODES.has(code)) return value === 'localhost'
  return false
}

/** The same for a multiaddr in text; an address that does not parse is not loopback. */
export function isLoopbackAddress (text: string): boolean {
  try {
    return isLoopbackMultiaddr(multiaddr(text))
  } catch {
    return false
  }
}
