/**
 * Who may connect: the node's libp2p connection gater. Two rules, checked before a connection
 * is encrypted (so a refused peer costs us a TCP accept and nothing more):
 *
 * - a node without a cluster key, unless the operator said `--open`, talks to processes on
 *   this host only: nobody else on the network can read or write its data (docs/security.md);
 * - a peer banned for misbehaviour (node/peer-penalties.ts) is refused both ways until its ban
 *   runs out;
 * - a peer refused for good — removed by the operator, or away longer than the member TTL
 *   (node/refused-peers.ts) — is refused both ways, and each attempt is reported.
 */
import type { ConnectionGater, MultiaddrConnection, PeerId } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'
import { MAX_BANNED_PEERS } from '../constants.js'
import { isLoopbackMultiaddr } from '../util/loopback.js'

export interface PeerGateInit {
  /** Refuse every connection, inbound or outbound, with an address off this host. */
  loopbackOnly: boolean
  now?: () => number
  /** Whether `peer` is refused for good (checked on every connection, after the handshake). */
  refused?: (peer: string) => boolean
  /** Called when a connection to or from a peer refused for good is denied. */
  onRefused?: (peer: string) => void
}

export class PeerGate {
  private readonly bans = new Map<string, number>()
  private readonly now: () => number
  readonly loopbackOnly: boolean

  constructor (private readonly init: PeerGateInit) {
    this.loopbackOnly = init.loopbackOnly
    this.now = init.now ?? Date.now
  }

  /** Whether a connection with `peer` is denied: banned for now, or refused for good. */
  denies (peer: string): boolean {
    if (this.isBanned(peer)) return true
    if (this.init.refused?.(peer) !== true) return false
    this.init.onRefused?.(peer)
    return true
  }

  /** Keep `peer` out until `untilMs`. The map is bounded: past it, the ban ending first goes. */
  ban (peer: string, untilMs: number): void {
    this.bans.delete(peer)
    this.bans.set(peer, Math.max(untilMs, this.bans.get(peer) ?? 0))
    if (this.bans.size > MAX_BANNED_PEERS) this.evictOne()
  }

  isBanned (peer: string): boolean {
    const until = this.bans.get(peer)
    if (until === undefined) return false
    if (until > this.now()) return true
    this.bans.delete(peer)
    return false
  }

  /** Bans in force now (ended ones are dropped on the way). */
  bannedCount (): number {
    for (const peer of [...this.bans.keys()]) this.isBanned(peer)
    return this.bans.size
  }

  /** The gater handed to libp2p: every method answers "deny?". */
  gater (): ConnectionGater {
    const offHost = (ma: Multiaddr): boolean => this.loopbackOnly && !isLoopbackMultiaddr(ma)
    return {
      denyDialMultiaddr: (ma: Multiaddr) => offHost(ma),
      denyDialPeer: (peer: PeerId) => this.denies(peer.toString()),
      denyInboundConnection: (conn: MultiaddrConnection) => offHost(conn.remoteAddr),
      denyInboundEncryptedConnection: (peer: PeerId) => this.denies(peer.toString()),
      denyOutboundEncryptedConnection: (peer: PeerId) => this.denies(peer.toString())
    }
  }

  private evictOne (): void {
    let victim: string | undefined
    let earliest = Infinity
    for (const [peer, until] of this.bans) {
      if (until < earliest) { earliest = until; victim = peer }
    }
    if (victim !== undefined) this.bans.delete(victim)
  }
}
