/**
 * `cluster.connect`'s dial: a connection counts once the peer has identified itself over it.
 * A peer whose gate refuses us (we were removed, or away longer than the member TTL; or we are
 * banned) closes the connection right after the handshake, while our dial alone would still
 * have reported success: waiting for identify turns that into an error the operator can act on.
 */
import type { Connection } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'
import { DialFailedError, PeerRefusedError } from '../errors.js'
import type { ChorusLibp2p } from './libp2p.js'

export async function dialAndSettle (libp2p: ChorusLibp2p, ma: Multiaddr, peerId: string, timeoutMs: number): Promise<Connection> {
  const deadline = AbortSignal.timeout(timeoutMs)
  const already = libp2p.getConnections().some(c => c.remotePeer.toString() === peerId && c.status === 'open')
  // Listening before the dial: identify may finish before the dial's promise settles.
  const outcome = settled(libp2p, peerId, deadline)
  let conn: Connection
  try {
    conn = await libp2p.dial(ma, { signal: deadline })
  } catch (err) {
    outcome.cancel()
    throw new DialFailedError(`could not connect to ${peerId}: ${(err as Error).message}. Check the address (chorus status on that node prints it), that the node runs, and that both nodes use the same cluster key`, { cause: err, data: { peerId } })
  }
  if (already) { outcome.cancel(); return conn }
  if (conn.remotePeer.toString() !== peerId) {
    outcome.cancel()
    throw new PeerRefusedError(`the node at ${ma.toString()} is ${conn.remotePeer.toString()}, not ${peerId}`, { data: { peerId } })
  }
  const how = await outcome.result
  if (how === 'closed' || conn.status !== 'open') {
    throw new DialFailedError(`${peerId} closed the connection right after the handshake: it refuses this node — removed from its cluster (chorus members remove), away longer than the member TTL, or banned for misbehaviour; its log says which. If this node was removed or away, reset it: stop it, move its data directory aside and start it with an empty --data`, { data: { peerId, refusedByPeer: true } })
  }
  return conn
}

/** Resolves when `peer` identified itself, when every connection to it closed, or at the deadline. */
function settled (libp2p: ChorusLibp2p, peer: string, deadline: AbortSignal): { result: Promise<'identified' | 'closed' | 'timeout'>, cancel: () => void } {
  let finish: (how: 'identified' | 'closed' | 'timeout') => void = () => {}
  const result = new Promise<'identified' | 'closed' | 'timeout'>(resolve => { finish = resolve })
  const onIdentify = (evt: CustomEvent<{ peerId: { toString: () => string } }>): void => {
    if (evt.detail.peerId.toString() === peer) done('identified')
  }
  const onClose = (evt: CustomEvent<Connection>): void => {
    if (evt.detail.remotePeer.toString() !== peer) return
    if (!libp2p.getConnections().some(c => c.remotePeer.toString() === peer && c.status === 'open')) done('closed')
  }
  const onAbort = (): void => { done('timeout') }
  function done (how: 'identified' | 'closed' | 'timeout'): void {
    libp2p.removeEventListener('peer:identify', onIdentify)
    libp2p.removeEventListener('connection:close', onClose)
    deadline.removeEventListener('abort', onAbort)
    finish(how)
  }
  libp2p.addEventListener('peer:identify', onIdentify)
  libp2p.addEventListener('connection:close', onClose)
  deadline.addEventListener('abort', onAbort)
  return { result, cancel: () => { done('timeout') } }
}
