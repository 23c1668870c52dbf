/**
 * Peers that speak this cluster's protocols only in other versions (docs/operations.md,
 * "Upgrades and compatibility"). Every protocol id and gossip topic ends with its version
 * (`/chorus/<cluster>/anti-entropy/3.0.0`, `/chorus/<cluster>/changes/1`); a peer that names the
 * same cluster and protocol with another version is a Chorus node of another build, which we
 * can neither repair nor be repaired by on that protocol. It is not an attacker: it is counted
 * and logged (once per peer and interval) so that an operator in a rolling upgrade sees it, and
 * never penalised.
 */
import type { Logger } from 'pino'
import { LogThrottle } from '../util/log-throttle.js'

/** A versioned id without its version: `/chorus/main/anti-entropy/3.0.0` → `/chorus/main/anti-entropy/`. */
export function protocolFamily (id: string): string {
  return id.slice(0, id.lastIndexOf('/') + 1)
}

export interface VersionMismatch {
  /** Our id of the protocol or topic. */
  ours: string
  /** The versions of it the peer speaks, none of which is ours. */
  theirs: string[]
}

/**
 * Of our versioned ids, those the peer speaks only in other versions. A peer that speaks none
 * of a family at all (another cluster, another kind of libp2p host) is no mismatch.
 */
export function versionMismatches (ours: readonly string[], theirs: readonly string[]): VersionMismatch[] {
  const out: VersionMismatch[] = []
  for (const id of ours) {
    if (theirs.includes(id)) continue
    const family = protocolFamily(id)
    const other = theirs.filter(t => t.startsWith(family) && !t.slice(family.length).includes('/'))
    if (other.length > 0) out.push({ ours: id, theirs: other.sort() })
  }
  return out
}

/** One warning per peer in this interval: a peer that reconnects every few seconds logs once. */
export const PEER_VERSION_LOG_INTERVAL_MS = 10 * 60_000

/** Topics of our families remembered per peer (there are two families, one version each in use). */
const MAX_TOPICS_PER_PEER = 16

export interface PeerVersionsInit {
  /** Our protocol ids (identify lists a peer's). */
  protocols: readonly string[]
  /** Our gossip topics (a peer's subscriptions list its). */
  topics: readonly string[]
  logger: Logger
  logIntervalMs?: number
}

/** Connected peers with a version mismatch, from identify and gossip subscriptions. */
export class PeerVersions {
  private readonly mismatched = new Map<string, { protocols: VersionMismatch[], topics: VersionMismatch[] }>()
  private readonly throttle: LogThrottle
  /** Each connected peer's subscriptions among our topic families. */
  private readonly topicsOf = new Map<string, Set<string>>()
  private readonly topicFamilies: Set<string>
  /** Peers found incompatible since start (a peer that reconnects counts again). */
  detected = 0

  constructor (private readonly init: PeerVersionsInit) {
    this.throttle = new LogThrottle(init.logIntervalMs ?? PEER_VERSION_LOG_INTERVAL_MS)
    this.topicFamilies = new Set(init.topics.map(protocolFamily))
  }

  /** Connected peers that speak some protocol or topic of ours only in another version. */
  get count (): number {
    return this.mismatched.size
  }

  /** A peer's identify result: the protocols it serves. */
  identified (peer: string, protocols: readonly string[]): void {
    this.update(peer, 'protocols', versionMismatches(this.init.protocols, protocols))
  }

  /** A change of a peer's gossip subscriptions (gossipsub sends them as deltas). */
  subscriptionChange (peer: string, changes: ReadonlyArray<{ topic: string, subscribe: boolean }>): void {
    const topics = this.topicsOf.get(peer) ?? new Set<string>()
    for (const { topic, subscribe } of changes) {
      // Only topics of our families matter, and a peer cannot make us keep many.
      if (!this.topicFamilies.has(protocolFamily(topic))) continue
      if (!subscribe) topics.delete(topic)
      else if (topics.size < MAX_TOPICS_PER_PEER) topics.add(topic)
    }
    if (topics.size === 0) this.topicsOf.delete(peer)
    else this.topicsOf.set(peer, topics)
    this.update(peer, 'topics', versionMismatches(this.init.topics, [...topics]))
  }

  disconnected (peer: string): void {
    this.mismatched.delete(peer)
    this.topicsOf.delete(peer)
  }

  private update (peer: string, kind: 'protocols' | 'topics', found: VersionMismatch[]): void {
    const before = this.mismatched.get(peer)
    const entry = { protocols: before?.protocols ?? [], topics: before?.topics ?? [], [kind]: found }
    if (entry.protocols.length === 0 && entry.topics.length === 0) {
      this.mismatched.delete(peer)
      return
    }
    this.mismatched.set(peer, entry)
    if (found.length === 0) return
    if (before === undefined) this.detected++
    const turn = this.throttle.take(`${kind} ${peer}`)
    if (!turn.log) return
    const what = kind === 'protocols' ? 'protocol' : 'gossip topic'
    const list = found.map(m => `${m.ours} (it speaks ${m.theirs.join(', ')})`).join('; ')
    this.init.logger.warn({
      peer,
      ours: found.map(m => m.ours),
      theirs: found.flatMap(m => m.theirs),
      ...(turn.held > 0 ? { heldBack: turn.held } : {})
    }, `peer ${peer} runs another Chorus version: it does not speak our ${what} ${list}; no data flows on it between us until both run the same version (docs/operations.md, "Upgrades and compatibility")`)
  }
}
