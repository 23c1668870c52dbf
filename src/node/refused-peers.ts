/**
 * Peers this node refuses for good, whatever their cluster key: a member the operator removed
 * (`cluster.forget`) and a member that expired (unseen for the member TTL). Either may hold
 * copies of keys whose tombstones this node has collected since, so no data may come from that
 * identity again; the machine rejoins with a fresh data directory, which gives it a new peer id.
 *
 * Persisted (in the store's meta, beside the members) and bounded: past MAX_REFUSED_PEERS the
 * oldest refusal is dropped. The gate (node/peer-gate.ts) asks `reason()` on every connection.
 */
import { MAX_REFUSED_PEERS, REFUSAL_LOG_INTERVAL_MS } from '../constants.js'
import { LogThrottle } from '../util/log-throttle.js'

export type RefusalReason = 'removed' | 'expired'

export interface Refusal {
  atMs: number
  reason: RefusalReason
}

const REASONS: ReadonlySet<string> = new Set(['removed', 'expired'])

export class RefusedPeers {
  private readonly refusals = new Map<string, Refusal>()
  /** When each refused peer's last attempt was logged (not persisted; bounded by `refusals`). */
  private readonly logTurns = new LogThrottle(REFUSAL_LOG_INTERVAL_MS, MAX_REFUSED_PEERS)

  constructor (private readonly max = MAX_REFUSED_PEERS) {}

  /** Reads the stored record; entries that do not parse are skipped (they are refusals lost, not data). */
  static fromJSON (json: string | undefined, max = MAX_REFUSED_PEERS): RefusedPeers {
    const refused = new RefusedPeers(max)
    if (json === undefined) return refused
    let raw: unknown
    try {
      raw = JSON.parse(json)
    } catch {
      return refused
    }
    if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) return refused
    const entries = Object.entries(raw as Record<string, Partial<Refusal> | null>)
      .filter((e): e is [string, Refusal] => e[1] !== null && typeof e[1] === 'object' && Number.isSafeInteger(e[1].atMs) && REASONS.has(String(e[1].reason)))
      .sort((a, b) => a[1].atMs - b[1].atMs)
    for (const [peer, r] of entries) refused.add(peer, r.reason, r.atMs)
    return refused
  }

  toJSON (): string {
    return JSON.stringify(Object.fromEntries(this.refusals))
  }

  get size (): number {
    return this.refusals.size
  }

  /** Refuse `peer` from now on (a second refusal keeps the first one's time and reason). */
  add (peer: string, reason: RefusalReason, now: number): void {
    if (this.refusals.has(peer)) return
    this.refusals.set(peer, { atMs: now, reason })
    if (this.refusals.size > this.max) {
      // Insertion order is refusal order: the first key is the oldest.
      const oldest = this.refusals.keys().next().value
      if (oldest !== undefined) this.refusals.delete(oldest)
    }
  }

  /** Why `peer` is refused, or undefined when it is not. */
  reason (peer: string): Refusal | undefined {
    return this.refusals.get(peer)
  }

  /** Every refusal, oldest first. */
  list (): Array<{ peer: string } & Refusal> {
    return [...this.refusals].map(([peer, r]) => ({ peer, ...r }))
  }

  /** Whether an attempt by `peer` is worth a log line now (at most one per REFUSAL_LOG_INTERVAL_MS). */
  shouldLog (peer: string, now: number): boolean {
    if (!this.refusals.has(peer)) return false
    return this.logTurns.take(peer, now).log
  }
}

/** The log line for a refused peer: what happened and what its operator must do. */
export function refusalMessage (refusal: Refusal, memberTtlMs: number): string {
  const why = refusal.reason === 'removed'
    ? 'it was removed from this cluster (cluster.forget / chorus members remove)'
    : `it was away longer than the member TTL (${memberTtlMs} ms), and tombstones of keys it may still hold have been collected since`
  return `refused peer: ${why}. No data is taken from it. To bring that machine back, reset it: stop it, move its data directory aside and start it with an empty --data (it gets a new peer id and re-syncs from the cluster)`
}
