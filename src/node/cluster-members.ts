/**
 * The operator's view of membership (`cluster.members`) and the checks on what
 * `cluster.forget` and `cluster.connect` are given. Pure: the node supplies its state.
 */
import { peerIdFromString } from '@libp2p/peer-id'
import { multiaddr, type Multiaddr } from '@multiformats/multiaddr'
import { MAX_MULTIADDR_LENGTH, MAX_PEER_ID_LENGTH } from '../constants.js'
import { InvalidParamsError, PeerRefusedError } from '../errors.js'
import { isLoopbackMultiaddr } from '../util/loopback.js'
import type { MemberInfo } from './api.js'
import type { MemberRecord } from './membership.js'

export interface MemberView {
  members: Array<{ peer: string } & MemberRecord>
  connected: ReadonlySet<string>
  now: number
  ttlMs: number
  /** The oldest tombstone the last GC sweep left because of a member (TombstoneCollector.heldSinceMs). */
  heldSinceMs: number | undefined
  /** Exchange and tombstone times may disagree by this much (twice the allowed drift, as GC allows). */
  marginMs: number
}

/** One row per remembered member; see MemberInfo for what each field means. */
export function memberInfos (view: MemberView): MemberInfo[] {
  const { now, ttlMs, heldSinceMs, marginMs } = view
  return view.members.map(m => {
    const connected = view.connected.has(m.peer)
    const lastSeenMs = connected ? 0 : Math.max(0, now - m.lastSeenMs)
    const counts = connected || lastSeenMs <= ttlMs
    return {
      peerId: m.peer,
      lastSeenMs,
      lastSyncMs: m.syncedAtMs === 0 ? -1 : Math.max(0, now - m.syncedAtMs),
      // A tombstone is collected once older than every member's last sync (less the margin):
      // a member whose last sync is not past the oldest tombstone left waiting holds it back.
      holdsGc: counts && heldSinceMs !== undefined && m.syncedAtMs - marginMs <= heldSinceMs,
      connected,
      expiresInMs: connected ? null : Math.max(0, ttlMs - lastSeenMs)
    }
  })
}

/** A peer id given by a client: a bounded string that parses as a libp2p peer id. */
export function parsePeerIdParam (value: unknown, field: string): string {
  if (typeof value !== 'string') throw new InvalidParamsError(`${field}: must be a string`, { data: { field } })
  if (value.length === 0) throw new InvalidParamsError(`${field}: must not be empty`, { data: { field } })
  if (value.length > MAX_PEER_ID_LENGTH) throw new InvalidParamsError(`${field}: must be at most ${MAX_PEER_ID_LENGTH} characters`, { data: { field } })
  try {
    return peerIdFromString(value).toString()
  } catch {
    throw new InvalidParamsError(`${field}: is not a peer id (like 12D3KooW…)`, { data: { field } })
  }
}

export interface ConnectRules {
  self: string
  /** A node without a cluster key dials this host only (docs/security.md). */
  loopbackOnly: boolean
  refused: (peer: string) => boolean
}

/**
 * The address `cluster.connect` was given: a bounded multiaddr that names its peer
 * (`…/p2p/12D3KooW…`), which the node's exposure rules allow it to dial.
 */
export function parseConnectAddr (value: unknown, rules: ConnectRules): { ma: Multiaddr, peerId: string } {
  const field = 'addr'
  if (typeof value !== 'string') throw new InvalidParamsError(`${field}: must be a string`, { data: { field } })
  if (value.length === 0) throw new InvalidParamsError(`${field}: must not be empty`, { data: { field } })
  if (value.length > MAX_MULTIADDR_LENGTH) throw new InvalidParamsError(`${field}: must be at most ${MAX_MULTIADDR_LENGTH} characters`, { data: { field } })
  let ma: Multiaddr
  try {
    ma = multiaddr(value)
  } catch (err) {
    throw new InvalidParamsError(`${field}: is not a multiaddr (${(err as Error).message})`, { data: { field } })
  }
  const peerId = ma.getPeerId()
  if (peerId === null) throw new InvalidParamsError(`${field}: must name the peer, ending in /p2p/PEER_ID (chorus status prints a node's addresses)`, { data: { field } })
  if (peerId === rules.self) throw new PeerRefusedError(`${field}: is this node itself`, { data: { peerId } })
  if (rules.loopbackOnly && !isLoopbackMultiaddr(ma)) {
    throw new PeerRefusedError(`${field}: is on another host, and a node without a cluster key talks to this host only: give every node the same cluster key (chorus init, then --cluster-key FILE), or start it with --open`, { data: { peerId } })
  }
  if (rules.refused(peerId)) {
    throw new PeerRefusedError(`${peerId} is refused by this node (removed from the cluster, or away longer than the member TTL): reset that node (an empty --data) and connect to its new peer id`, { data: { peerId } })
  }
  return { ma, peerId }
}
