/**
 * Who is in the cluster, as far as tombstone GC is concerned: every peer seen within the member
 * TTL, with the start time of the last anti-entropy exchange completed with it. Persisted,
 * so a restart does not forget a member that is away right now (forgetting it would let GC run
 * before that member has seen the tombstones).
 */
export interface MemberRecord {
  lastSeenMs: number
  /** Start of the last completed exchange: the member holds everything we held then. */
  syncedAtMs: number
}

export class Membership {
  private readonly members = new Map<string, MemberRecord>()

  constructor (private readonly ttlMs: number) {}

  static fromJSON (json: string | undefined, ttlMs: number): Membership {
    const membership = new Membership(ttlMs)
    if (json === undefined) return membership
    try {
      const raw = JSON.parse(json) as Record<string, MemberRecord>
      for (const [peer, r] of Object.entries(raw)) {
        if (Number.isSafeInteger(r.lastSeenMs) && Number.isSafeInteger(r.syncedAtMs)) membership.members.set(peer, { lastSeenMs: r.lastSeenMs, syncedAtMs: r.syncedAtMs })
      }
    } catch {
      // An unreadable record only delays GC: with no members known, see stableTime.
    }
    return membership
  }

  /** Members remembered (some may be past the TTL until the next stableTime). */
  get size (): number {
    return this.members.size
  }

  toJSON (): string {
    return JSON.stringify(Object.fromEntries(this.members))
  }

  /** Returns true for a member not known before (worth persisting at once). */
  seen (peer: string, now: number): boolean {
    const r = this.members.get(peer)
    this.members.set(peer, { lastSeenMs: now, syncedAtMs: r?.syncedAtMs ?? 0 })
    return r === undefined
  }

  synced (peer: string, startedAtMs: number, now: number): void {
    const r = this.members.get(peer)
    this.members.set(peer, { lastSeenMs: now, syncedAtMs: Math.max(r?.syncedAtMs ?? 0, startedAtMs) })
  }

  /**
   * The time before which every live member has everything we had: the earliest last-sync
   * among members seen within the TTL. Members away longer are dropped (they must be
   * reset before rejoining: docs/consistency.md). With no members at all, `now`.
   */
  stableTime (now: number, connected: ReadonlySet<string>): number {
    let stable = now
    for (const [peer, r] of this.members) {
      if (!connected.has(peer) && r.lastSeenMs < now - this.ttlMs) {
        this.members.delete(peer)
        continue
      }
      stable = Math.min(stable, r.syncedAtMs)
    }
    return stable
  }
}
