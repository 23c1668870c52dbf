/**
 * Tombstone garbage collection. A register whose every version is a delete may be removed once
 * (1) it has been a tombstone here for at least the grace period and (2) every live member has
 * completed an anti-entropy exchange with us since it became one — so every member holds the
 * tombstone (causal stability) and no member can bring the deleted value back. Removal goes
 * through the replica's write path (it updates the Merkle tree), and only if the key is still
 * exactly the tombstone the collector saw.
 */
import type { Logger } from 'pino'
import type { Replica, PurgeItem } from '../replica/index.js'
import type { Membership } from './membership.js'

export interface TombstoneCollectorInit {
  replica: Replica
  membership: Membership
  connectedPeers: () => ReadonlySet<string>
  now: () => number
  graceMs: number
  /** Records of collected keys are kept this long (see Replica.forgetCollected). */
  memberTtlMs: number
  intervalMs: number
  /** The clock drift the replica tolerates; see the margin in run(). */
  maxDriftMs: number
  logger: Logger
  /** Persist membership after each sweep. */
  persist: () => Promise<void>
  /** A member unseen for the member TTL was dropped: it is refused from now on (node/refused-peers.ts). */
  onExpired?: (peer: string) => void
}

const PURGE_BATCH = 1000

export class TombstoneCollector {
  private timer?: NodeJS.Timeout
  private sweeping?: Promise<number>
  private held?: number

  /**
   * The time of the oldest tombstone the last sweep left only because a member had not synced
   * since (old enough by the grace period); undefined when there was none, or before the first
   * sweep. A member whose last sync started before it (less the drift margin) is holding it back.
   */
  get heldSinceMs (): number | undefined {
    return this.held
  }

  constructor (private readonly init: TombstoneCollectorInit) {}

  start (): void {
    this.timer = setInterval(() => { void this.sweep().catch(err => { this.init.logger.warn({ err }, 'tombstone sweep failed') }) }, this.init.intervalMs)
    this.timer.unref()
  }

  async stop (): Promise<void> {
    clearInterval(this.timer)
    await this.sweeping?.catch(() => {})
  }

  /** One pass; resolves with the number of tombstones collected. */
  async sweep (): Promise<number> {
    this.sweeping ??= this.run().finally(() => { this.sweeping = undefined })
    return await this.sweeping
  }

  private async run (): Promise<number> {
    const { replica, membership, now: clock } = this.init
    const now = clock()
    const connected = this.init.connectedPeers()
    // Persisted below: the start-up check (node/stale-check.ts) reads the last contact from it.
    membership.touchAll(connected, now)
    const horizon = Math.min(membership.stableTime(now, connected, this.init.onExpired), now - this.init.graceMs)
    // Exchange start times and tombstone times come from clocks that may disagree by up to the
    // allowed drift: keep that margin twice over.
    const collectBefore = horizon - 2 * this.init.maxDriftMs
    let purged = 0
    let batch: string[] = []
    const flush = async (): Promise<void> => {
      // States first, then their tombstone times: a change before the state read shows in the
      // times read after it; a change after it alters the bytes, which the purge checks.
      const states = await replica.readStates(batch)
      const times = await replica.tombstoneTimes(batch)
      const items: PurgeItem[] = []
      batch.forEach((storeKey, i) => {
        const expected = states[i]
        const since = times[i]
        if (expected !== undefined && since !== undefined && since < collectBefore) items.push({ storeKey, expected })
      })
      purged += await replica.purge(items)
      batch = []
    }
    // Old enough by the grace period; if not collected, a member is what holds it.
    const graceLine = now - this.init.graceMs - 2 * this.init.maxDriftMs
    let held: number | undefined
    for await (const [storeKey, since] of replica.tombstones()) {
      if (since >= collectBefore) {
        if (since < graceLine && (held === undefined || since < held)) held = since
        continue
      }
      batch.push(storeKey)
      if (batch.length >= PURGE_BATCH) await flush()
    }
    if (batch.length > 0) await flush()
    this.held = held
    await replica.forgetCollected(now - this.init.memberTtlMs)
    await this.init.persist()
    if (purged > 0) this.init.logger.info({ purged, horizon }, 'collected tombstones')
    return purged
  }
}
