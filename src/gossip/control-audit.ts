/**
 * Gossip control traffic that no honest gossipsub router sends.
 *
 * gossipsub bounds what it acts on (10 IHAVEs and 5,000 asked-for ids per peer per heartbeat)
 * but goes on reading whatever a peer sends, and its score cannot tell a peer that floods
 * IHAVEs it never honours from an honest one whose promises broke under a one-way partition:
 * both only lower the score, and a ban on a low score kept honest nodes apart after faults
 * (docs/security.md). The shape and the volume of the control messages can tell them apart.
 * Per heartbeat an honest router sends one IHAVE entry per topic of at most 5,000 ids, asks for
 * at most 5,000 ids with IWANT, and every id is a 32-byte SHA-256. A frame past those limits,
 * or a rate past them for longer than a stalled reader could explain, is proof rather than
 * suspicion, so the caller bans the sender at once (node/peer-penalties.ts).
 *
 * Pure logic: the caller supplies the clock (a monotonic one, so a clock jump never looks like
 * a burst).
 */
import {
  GOSSIP_CONTROL_BURST_HEARTBEATS, GOSSIP_HEARTBEAT_MS, GOSSIP_MESSAGE_ID_BYTES,
  MAX_AUDITED_GOSSIP_PEERS, MAX_IHAVE_IDS_PER_TOPIC, MAX_IWANT_IDS_PER_HEARTBEAT
} from '../constants.js'

interface IdList { messageIDs?: readonly Uint8Array[] }

/** The part of a gossipsub RPC's control message that is audited. */
export interface AuditedControl {
  ihave?: readonly IdList[]
  iwant?: readonly IdList[]
  idontwant?: readonly IdList[]
}

export interface ControlAuditInit {
  /** The cluster's gossip topics: an honest router sends at most one IHAVE entry per topic per heartbeat. */
  topics: number
  /** Milliseconds, monotonic. */
  now: () => number
  /** @default GOSSIP_CONTROL_BURST_HEARTBEATS */
  burstHeartbeats?: number
  /** @default MAX_AUDITED_GOSSIP_PEERS */
  maxPeers?: number
}

/** Ids a peer may still send before it exceeds the honest rate, refilled with time. */
interface Allowance { ihave: number, iwant: number, atMs: number }

export class GossipControlAudit {
  private readonly allowances = new Map<string, Allowance>()
  private readonly maxIhavePerFrame: number
  private readonly ihaveBurst: number
  private readonly iwantBurst: number
  private readonly maxPeers: number

  constructor (private readonly init: ControlAuditInit) {
    if (!Number.isInteger(init.topics) || init.topics < 1) throw new RangeError(`gossip control audit needs at least one topic, got ${init.topics}`)
    const burst = init.burstHeartbeats ?? GOSSIP_CONTROL_BURST_HEARTBEATS
    this.maxIhavePerFrame = init.topics * MAX_IHAVE_IDS_PER_TOPIC
    this.ihaveBurst = this.maxIhavePerFrame * burst
    this.iwantBurst = MAX_IWANT_IDS_PER_HEARTBEAT * burst
    this.maxPeers = init.maxPeers ?? MAX_AUDITED_GOSSIP_PEERS
  }

  /**
   * What makes this control message one no honest router sends, or undefined when it is fine.
   * A message that passes is charged against the peer's allowance.
   */
  check (peer: string, control: AuditedControl | undefined): string | undefined {
    if (control === undefined) return undefined
    const ihave = countIds(control.ihave, MAX_IHAVE_IDS_PER_TOPIC)
    if (typeof ihave === 'string') return `IHAVE: ${ihave}`
    if (ihave > this.maxIhavePerFrame) return `IHAVE: ${ihave} ids in one frame (an honest router sends at most ${this.maxIhavePerFrame})`
    const iwant = countIds(control.iwant, MAX_IWANT_IDS_PER_HEARTBEAT)
    if (typeof iwant === 'string') return `IWANT: ${iwant}`
    if (iwant > MAX_IWANT_IDS_PER_HEARTBEAT) return `IWANT: ${iwant} ids in one frame (an honest router asks for at most ${MAX_IWANT_IDS_PER_HEARTBEAT})`
    const idontwant = countIds(control.idontwant, Infinity)
    if (typeof idontwant === 'string') return `IDONTWANT: ${idontwant}`
    if (ihave === 0 && iwant === 0) return undefined
    return this.charge(peer, ihave, iwant)
  }

  /** Peers tracked now (bounded by maxPeers). */
  get size (): number { return this.allowances.size }

  private charge (peer: string, ihave: number, iwant: number): string | undefined {
    const a = this.refilled(peer)
    a.ihave -= ihave
    a.iwant -= iwant
    if (a.ihave < 0) return `IHAVE: more than ${this.ihaveBurst} ids within ${this.burstSeconds()} s (an honest router sends at most ${this.maxIhavePerFrame} per second)`
    if (a.iwant < 0) return `IWANT: more than ${this.iwantBurst} ids within ${this.burstSeconds()} s (an honest router asks for at most ${MAX_IWANT_IDS_PER_HEARTBEAT} per second)`
    return undefined
  }

  private refilled (peer: string): Allowance {
    const now = this.init.now()
    let a = this.allowances.get(peer)
    if (a === undefined) {
      a = { ihave: this.ihaveBurst, iwant: this.iwantBurst, atMs: now }
      this.allowances.set(peer, a)
      if (this.allowances.size > this.maxPeers) this.forgetIdle(now)
      return a
    }
    const heartbeats = Math.max(0, now - a.atMs) / GOSSIP_HEARTBEAT_MS
    a.ihave = Math.min(this.ihaveBurst, a.ihave + heartbeats * this.maxIhavePerFrame)
    a.iwant = Math.min(this.iwantBurst, a.iwant + heartbeats * MAX_IWANT_IDS_PER_HEARTBEAT)
    a.atMs = now
    return a
  }

  /** A peer whose allowance has refilled is the same as one never seen: forget those first, then the oldest. */
  private forgetIdle (now: number): void {
    const refillMs = (this.init.burstHeartbeats ?? GOSSIP_CONTROL_BURST_HEARTBEATS) * GOSSIP_HEARTBEAT_MS
    for (const [peer, a] of this.allowances) {
      if (now - a.atMs >= refillMs) this.allowances.delete(peer)
    }
    for (const peer of this.allowances.keys()) {
      if (this.allowances.size <= this.maxPeers) break
      this.allowances.delete(peer)
    }
  }

  private burstSeconds (): number {
    return (this.init.burstHeartbeats ?? GOSSIP_CONTROL_BURST_HEARTBEATS) * GOSSIP_HEARTBEAT_MS / 1000
  }
}

/** The ids in `lists`, or what is wrong with them: an entry longer than `maxPerEntry`, or an id that is not a message id. */
function countIds (lists: readonly IdList[] | undefined, maxPerEntry: number): number | string {
  if (lists === undefined) return 0
  let total = 0
  for (const list of lists) {
    const ids = list.messageIDs ?? []
    if (ids.length > maxPerEntry) return `an entry of ${ids.length} ids (an honest router sends at most ${maxPerEntry})`
    for (const id of ids) {
      if (id.length !== GOSSIP_MESSAGE_ID_BYTES) return `a message id of ${id.length} bytes (ids are ${GOSSIP_MESSAGE_ID_BYTES}-byte SHA-256 digests)`
    }
    total += ids.length
  }
  return total
}
