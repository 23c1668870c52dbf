/**
 * Who is in the cluster, as far as tombstone GC is concerned: every peer seen within the member
 * TTL, with the start time of the last anti-entropy exchange completed with it. Persisted,
 * so a restart does not forget a member that is away right now (forgetting it would let GC run
 * before that member has seen the tombstones).
 */
import { MAX_MEMBERS } from '../constants.js'

export interface MemberRecord {
  lastSeenMs: number
  /** Start of the last completed exchange: the member holds everything we held then. */
  syncedAtMs: number
}

export class Membership {
  private readonly members = new Map<string, MemberRecord>()
  /**
   * Set when a member could not be added because the map is full: GC then waits, since it
   * cannot know what that peer has seen. Cleared when expired members make room again.
   */
  private overflowed = false

  /**
   * @param unknownUntilMs set when the stored record could not be read in full: until then
   *   nothing counts as stable, since a member we no longer know of may be away (after the
   *   member TTL it would be dropped anyway).
   */
  constructor (private readonly ttlMs: number, private readonly unknownUntilMs = 0) {}

  static fromJSON (json: string | undefined, ttlMs: number, now: number): Membership {
    if (json === undefined) return new Membership(ttlMs)
    const records = readRecords(json)
    const membership = new Membership(ttlMs, records.complete ? 0 : now + ttlMs)
    for (const [peer, r] of records.members) membership.members.set(peer, r)
    return membership
  }

  /** Whether the stored record was unreadable, in part or whole (GC then waits a member TTL). */
  get incomplete (): boolean {
    return this.unknownUntilMs > 0
  }

  /** Members remembered (some may be past the TTL until the next stableTime). */
  get size (): number {
    return this.members.size
  }

  toJSON (): string {
    return JSON.stringify(Object.fromEntries(this.members))
  }

  /** Whether a peer could not be recorded because MAX_MEMBERS are known (GC holds meanwhile). */
  get full (): boolean {
    return this.overflowed
  }

  /** Returns true for a member not known before (worth persisting at once). */
  seen (peer: string, now: number): boolean {
    const r = this.members.get(peer)
    if (r === undefined && this.members.size >= MAX_MEMBERS) {
      this.overflowed = true
      return false
    }
    this.members.set(peer, { lastSeenMs: now, syncedAtMs: r?.syncedAtMs ?? 0 })
    return r === undefined
  }

  /** Updates the last-seen time of a member; a peer that is not one stays out. */
  touch (peer: string, now: number): void {
    const r = this.members.get(peer)
    if (r !== undefined) r.lastSeenMs = now
  }

  synced (peer: string, startedAtMs: number, now: number): void {
    const r = this.members.get(peer)
    if (r === undefined && this.members.size >= MAX_MEMBERS) {
      this.overflowed = true
      return
    }
    this.members.set(peer, { lastSeenMs: now, syncedAtMs: Math.max(r?.syncedAtMs ?? 0, startedAtMs) })
  }

  /** Marks every connected member as seen now (a connection raises no event while it lasts). */
  touchAll (peers: Iterable<string>, now: number): void {
    for (const peer of peers) this.touch(peer, now)
  }

  /** Drops a member (`cluster.forget`); GC no longer waits for it. False when it was none. */
  forget (peer: string): boolean {
    return this.members.delete(peer)
  }

  /** Every remembered member and its record (copies), in peer id order. */
  list (): Array<{ peer: string } & MemberRecord> {
    return [...this.members].map(([peer, r]) => ({ peer, ...r })).sort((a, b) => a.peer < b.peer ? -1 : a.peer > b.peer ? 1 : 0)
  }

  /** Whether a member with this record no longer counts (not connected, unseen for the TTL). */
  expired (r: MemberRecord, now: number): boolean {
    return r.lastSeenMs < now - this.ttlMs
  }

  /**
   * The last time any member was seen (0 with no members): what the start-up check compares
   * with the TTL (node/stale-check.ts).
   */
  lastContactMs (): number {
    let last = 0
    for (const r of this.members.values()) last = Math.max(last, r.lastSeenMs)
    return last
  }

  /** Counts every member as seen now (the operator vouched that nobody collected meanwhile). */
  vouchAll (now: number): void {
    for (const r of this.members.values()) r.lastSeenMs = now
  }

  /** Forgets every member (a node that was away with no data starts afresh). */
  clear (): void {
    this.members.clear()
  }

  /**
   * The time before which every live member has everything we had: the earliest last-sync
   * among members seen within the TTL. Members away longer are dropped and handed to
   * `onExpired` (they must be reset before rejoining: docs/consistency.md). With no members
   * at all, `now`.
   */
  stableTime (now: number, connected: ReadonlySet<string>, onExpired?: (peer: string) => void): number {
    let stable = now
    for (const [peer, r] of this.members) {
      if (!connected.has(peer) && this.expired(r, now)) {
        this.members.delete(peer)
        onExpired?.(peer)
        continue
      }
      stable = Math.min(stable, r.syncedAtMs)
    }
    if (this.overflowed && this.members.size < MAX_MEMBERS) this.overflowed = false
    if (now < this.unknownUntilMs || this.overflowed) return 0
    return stable
  }
}

function readRecords (json: string): { members: Map<string, MemberRecord>, complete: boolean } {
  const members = new Map<string, MemberRecord>()
  let raw: unknown
  try {
    raw = JSON.parse(json)
  } catch {
    return { members, complete: false }
  }
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) return { members, complete: false }
  let complete = true
  for (const [peer, r] of Object.entries(raw as Record<string, Partial<MemberRecord> | null>)) {
    if (r !== null && typeof r === 'object' && Number.isSafeInteger(r.lastSeenMs) && Number.isSafeInteger(r.syncedAtMs)) {
      members.set(peer, { lastSeenMs: r.lastSeenMs as number, syncedAtMs: r.syncedAtMs as number })
    } else {
      complete = false
    }
  }
  return { members, complete }
}
