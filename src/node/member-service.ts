/**
 * The membership methods of the API: `cluster.members`, `cluster.forget`, `cluster.connect`.
 * Built by the node once its parts exist; it owns no state of its own (membership and the
 * refused peers are the node's, persisted by `persist`).
 */
import { peerIdFromString } from '@libp2p/peer-id'
import type { Logger } from 'pino'
import { CONNECT_TIMEOUT_MS, MAX_CONNECT_TARGETS } from '../constants.js'
import { InvalidParamsError } from '../errors.js'
import type { ConnectResult, ForgetResult, MemberInfo } from './api.js'
import { memberInfos, parseConnectAddr, parsePeerIdParam } from './cluster-members.js'
import { dialAndSettle } from './dial-peer.js'
import type { ChorusLibp2p } from './libp2p.js'
import type { Membership } from './membership.js'
import type { Redialer } from './redialer.js'
import type { RefusedPeers } from './refused-peers.js'

export interface MemberServiceInit {
  libp2p: ChorusLibp2p
  membership: Membership
  refused: RefusedPeers
  redialer: Redialer
  /** A node without a cluster key dials this host only. */
  loopbackOnly: boolean
  memberTtlMs: number
  /** See TombstoneCollector.heldSinceMs. */
  heldSinceMs: () => number | undefined
  /** The clock drift GC allows for (twice it is the margin between exchange and tombstone times). */
  maxDriftMs: number
  /** The clock membership times are measured with. */
  now: () => number
  connectedPeers: () => Set<string>
  /** Writes members and refusals in one commit. */
  persist: () => Promise<void>
  logger: Logger
}

export class MemberService {
  constructor (private readonly init: MemberServiceInit) {}

  members (): MemberInfo[] {
    const { membership, memberTtlMs, maxDriftMs } = this.init
    return memberInfos({ members: membership.list(), connected: this.init.connectedPeers(), now: this.init.now(), ttlMs: memberTtlMs, heldSinceMs: this.init.heldSinceMs(), marginMs: 2 * maxDriftMs })
  }

  async forget (peerIdParam: unknown): Promise<ForgetResult> {
    const { libp2p, membership, refused } = this.init
    const peerId = parsePeerIdParam(peerIdParam, 'peerId')
    if (peerId === libp2p.peerId.toString()) throw new InvalidParamsError('peerId: is this node itself (to retire this node, stop it)', { data: { field: 'peerId' } })
    const wasMember = membership.forget(peerId)
    refused.add(peerId, 'removed', this.init.now())
    this.init.redialer.remove(peerId)
    // Durable before we answer: a restart must not forget the refusal.
    await this.init.persist()
    const disconnected = this.init.connectedPeers().has(peerId)
    if (disconnected) await libp2p.hangUp(peerIdFromString(peerId)).catch(() => {})
    this.init.logger.warn({ peer: peerId, wasMember, disconnected }, 'member removed: tombstone collection no longer waits for it, and it is refused from now on')
    return { peerId, wasMember, disconnected }
  }

  async connect (addr: unknown): Promise<ConnectResult> {
    const { libp2p, refused } = this.init
    const { ma, peerId } = parseConnectAddr(addr, { self: libp2p.peerId.toString(), loopbackOnly: this.init.loopbackOnly, refused: peer => refused.reason(peer) !== undefined })
    const conn = await dialAndSettle(libp2p, ma, peerId, CONNECT_TIMEOUT_MS)
    this.init.redialer.add(ma, MAX_CONNECT_TARGETS)
    return { peerId, connected: conn.status === 'open', addr: conn.remoteAddr.toString() }
  }
}
