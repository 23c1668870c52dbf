/**
 * Gossip control traffic that no honest gossipsub router sends.
 *
 * gossipsub bounds what it acts on (10 IHAVEs and 5,000 asked-for ids per peer per heartbeat)
 * but goes on reading whatever a peer sends, and its score cannot tell a peer that floods
 * IHAVEs it never honours from an honest one whose promises broke under a one-way partition:
 * both only lower the score, and a ban on a low score kept honest nodes apart after faults
 * (docs/security.md). The shape and the volume of the control messages can tell them apart.
 * Per heartbeat an honest router sends one IHAVE entry per topic of at most 5,000 ids, asks for
 * at most 5,000 ids with IWANT, and every id is a 32-byte SHA-256. A frame of another shape is
 * proof rather than suspicion, so the caller bans the sender at once (node/peer-penalties.ts).
 * A rate past the honest one for longer than the burst allowance is dropped too, but only
 * penalised, once per burst window: an honest node that stalled for longer than the allowance
 * (a paused process) reads the backlog its peers queued at wire speed, which looks the same for
 * a moment, while a flooder keeps it up window after window.
 *
 * Pure logic: the caller supplies the clock (a monotonic one, so a clock jump never looks like
 * a burst).
 */
import {
  GOSSIP_CONTROL_BURST_HEARTBEATS, GOSSIP_HEARTBEAT_MS, GOSSIP_MESSAGE_ID_BYTES, MAX_AUDITED_GOSSIP_PEERS,
  MAX_GOSSIP_CONTROL_ENTRIES, MAX_IHAVE_IDS_PER_TOPIC, MAX_IWANT_IDS_PER_HEARTBEAT
} from '../constants.js'

interface IdList { messageIDs?: readonly Uint8Array[] }

/** The part of a gossipsub RPC's control message that is audited. */
export interface AuditedControl {
  ihave?: readonly IdList[]
  iwant?: readonly IdList[]
  idontwant?: readonly IdList[]
  graft?: readonly unknown[]
  prune?: ReadonlyArray<{ peers?: readonly unknown[] }>
}

/** Why an RPC is dropped before gossipsub sees it. */
export interface AuditFinding {
  why: string
  /**
   * 'shape': no honest router ever sends this RPC. 'rate': more than an honest router sends,
   * past the burst allowance.
   */
  kind: 'shape' | 'rate'
  /** Whether to penalise: always for a shape, once per burst window for a rate. */
  report: boolean
}

const shape = (why: string): AuditFinding => ({ why, kind: 'shape', report: true })

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
interface Allowance { ihave: number, iwant: number, atMs: number, reportedAtMs: number }

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
   * A message that passes is charged against the peer's allowance; one that is dropped is not.
   */
  check (peer: string, control: AuditedControl | undefined): AuditFinding | undefined {
    if (control === undefined) return undefined
    const entries = entriesProblem(control)
    if (entries !== undefined) return shape(entries)
    const ihave = countIds(control.ihave, MAX_IHAVE_IDS_PER_TOPIC)
    if (typeof ihave === 'string') return shape(`IHAVE: ${ihave}`)
    if (ihave > this.maxIhavePerFrame) return shape(`IHAVE: ${ihave} ids in one frame (an honest router sends at most ${this.maxIhavePerFrame})`)
    const iwant = countIds(control.iwant, MAX_IWANT_IDS_PER_HEARTBEAT)
    if (typeof iwant === 'string') return shape(`IWANT: ${iwant}`)
    if (iwant > MAX_IWANT_IDS_PER_HEARTBEAT) return shape(`IWANT: ${iwant} ids in one frame (an honest router asks for at most ${MAX_IWANT_IDS_PER_HEARTBEAT})`)
    const idontwant = countIds(control.idontwant, MAX_IWANT_IDS_PER_HEARTBEAT)
    if (typeof idontwant === 'string') return shape(`IDONTWANT: ${idontwant}`)
    if (idontwant > MAX_IWANT_IDS_PER_HEARTBEAT) return shape(`IDONTWANT: ${idontwant} ids in one frame (an honest router sends one per message it received)`)
    if (ihave === 0 && iwant === 0) return undefined
    return this.charge(peer, ihave, iwant)
  }

  /** Peers tracked now (bounded by maxPeers). */
  get size (): number { return this.allowances.size }

  private charge (peer: string, ihave: number, iwant: number): AuditFinding | undefined {
    const a = this.refilled(peer)
    let why: string | undefined
    if (a.ihave < ihave) why = `IHAVE: more than ${this.ihaveBurst} ids within ${this.burstSeconds()} s (an honest router sends at most ${this.maxIhavePerFrame} per second)`
    else if (a.iwant < iwant) why = `IWANT: more than ${this.iwantBurst} ids within ${this.burstSeconds()} s (an honest router asks for at most ${MAX_IWANT_IDS_PER_HEARTBEAT} per second)`
    if (why === undefined) {
      a.ihave -= ihave
      a.iwant -= iwant
      return undefined
    }
    const now = a.atMs
    const report = now - a.reportedAtMs >= this.burstMs()
    if (report) a.reportedAtMs = now
    return { why, kind: 'rate', report }
  }

  private refilled (peer: string): Allowance {
    const now = this.init.now()
    let a = this.allowances.get(peer)
    if (a === undefined) {
      a = { ihave: this.ihaveBurst, iwant: this.iwantBurst, atMs: now, reportedAtMs: -Infinity }
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
    const refillMs = this.burstMs()
    for (const [peer, a] of this.allowances) {
      if (now - a.atMs >= refillMs) this.allowances.delete(peer)
    }
    for (const peer of this.allowances.keys()) {
      if (this.allowances.size <= this.maxPeers) break
      this.allowances.delete(peer)
    }
  }

  private burstMs (): number {
    return (this.init.burstHeartbeats ?? GOSSIP_CONTROL_BURST_HEARTBEATS) * GOSSIP_HEARTBEAT_MS
  }

  private burstSeconds (): number {
    return this.burstMs() / 1000
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

/** Too many entries of one kind, or peers in a PRUNE: cheap to send empty, and each costs the router work. */
function entriesProblem (control: AuditedControl): string | undefined {
  const kinds = [['IHAVE', control.ihave], ['IWANT', control.iwant], ['IDONTWANT', control.idontwant], ['GRAFT', control.graft], ['PRUNE', control.prune]] as const
  for (const [name, list] of kinds) {
    if (list !== undefined && list.length > MAX_GOSSIP_CONTROL_ENTRIES) return `${name}: ${list.length} entries in one frame (an honest router sends one per topic)`
  }
  for (const p of control.prune ?? []) {
    if ((p.peers?.length ?? 0) > MAX_GOSSIP_CONTROL_ENTRIES) return `PRUNE: ${p.peers?.length ?? 0} peers offered in one entry (at most ${MAX_GOSSIP_CONTROL_ENTRIES})`
  }
  return undefined
}
