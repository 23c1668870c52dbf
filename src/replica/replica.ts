/**
 * The one write path. Local operations, gossip and anti-entropy all enqueue here; a single
 * loop takes everything queued, reads the affected keys once, applies the jobs in order, and
 * commits the new states together with their Merkle index and tree updates in ONE LevelDB
 * batch (group commit). Only after the commit do the in-memory tree move, the callers resolve
 * and the change listeners fire — so nothing is ever observable that is not durable, and the
 * data and the tree never interleave.
 */
import type { Logger } from 'pino'
import type { RegisterState } from '../causal/index.js'
import type { HybridLogicalClock } from '../clock/index.js'
import { AE_FRESH_MS, DEFAULT_AE_INTERVAL_MS, MAX_COMMIT_BYTES, MAX_FRESH_KEY_BYTES, MAX_FRESH_KEYS, MAX_QUEUED_REMOTE_BYTES, MAX_SIBLINGS } from '../constants.js'
import { CorruptDataError, IdentityConflictError, LimitExceededError } from '../errors.js'
import type { MerkleTree } from '../merkle/index.js'
import { fromStoreKey, SPACE_TYPES, toStoreKey, type KeySpace, type StateBySpace } from '../model/index.js'
import type { Store, StoreSnapshot } from '../store/index.js'
import { planCommit } from './commit-plan.js'
import { applyLocalOp, spaceOf, type LocalOp, type OpEnv } from './local-op.js'
import { localBytes, remoteBytes } from './job-bytes.js'
import { holdsOurUnknownEvents } from './identity-check.js'
import { sizeGrowthProblem, valueBoundsProblem } from './state-bounds.js'
import { checkRemoteChange } from './remote-check.js'
import { loadSlots, type Slot } from './slots.js'
import { StateCache } from './state-cache.js'
import { LogThrottle } from '../util/log-throttle.js'
import { freshRunGapMs, RecentChanges } from './recent-changes.js'
import { collectAction, compactLife, decodeCollected, tombstoneTime } from './tombstones.js'
import type { AntiEntropyReplica, ApplyReport, AppliedChange, BucketEntry, CommitHook, EncodedChange } from './types.js'

/** Refused remote states are logged at info at most this often per peer and reason. */
const REFUSAL_LOG_INTERVAL_MS = 60_000

export interface ReplicaInit {
  store: Store
  nodeId: string
  clock: HybridLogicalClock
  logger: Logger
  /** @default MAX_SIBLINGS */
  maxSiblings?: number
  /** Most jobs folded into one commit. @default 512 */
  maxJobsPerCommit?: number
  /** Recently written states kept in memory. @default 20000 */
  cacheEntries?: number
  /**
   * How long a key counts as freshly changed, for anti-entropy to leave to gossip
   * (recent-changes.ts); 0 records nothing. @default AE_FRESH_MS
   */
  freshWindowMs?: number
  /** The quiet spell that ends a key's run of changes. @default freshRunGapMs(freshWindowMs, 3000) */
  freshRunGapMs?: number
  /** Told the duration of every group commit, in seconds (a metrics histogram). */
  onCommit?: (seconds: number) => void
  /**
   * Told before every commit that writes data; what it returns is called once that commit has
   * ended (stored, with the tree moved, or failed). Session positions count commits with it.
   */
  onCommitting?: () => () => void
  /** Told once when a peer shows writes of our identity that we never made (identity-check.ts). */
  onIdentityConflict?: (conflict: IdentityConflict) => void
  /** Adds its writes to every commit that changes keys (the change feed, feed/). */
  commitHook?: CommitHook
}

/** The first state that showed another writer with our identity. */
export interface IdentityConflict {
  storeKey: string
  /** The peer it came from. */
  from: string
}

function identityConflictError (conflict: IdentityConflict): IdentityConflictError {
  return new IdentityConflictError(`another process writes with this node's identity (peer ${conflict.from} sent writes of ours that this node never made): writing on would reuse its version counters. Restart this node; it then takes a new identity. See docs/consistency.md`, { data: { from: conflict.from } })
}

/** Counters the node exposes as metrics. */
export interface ReplicaStats {
  commits: number
  localOps: number
  remoteApplied: number
  remoteChanged: number
  remoteRejected: Record<string, number>
  /** Tombstones collected. */
  purged: number
}

/**
 * Every state committed up to one moment, with the Merkle root and key count of that same
 * moment (taken between two group commits). Close `snapshot` when done.
 */
export interface ReplicaSnapshot {
  snapshot: StoreSnapshot
  /** Hex root of the tree over exactly the states the snapshot holds. */
  digest: string
  keys: number
  /** Local wall time (ms) it was taken. */
  atMs: number
}

/** A tombstone-only register to remove, if it still has exactly these bytes. */
export interface PurgeItem { storeKey: string, expected: Uint8Array }

type Job = QueuedJob & { bytes?: number }

type QueuedJob =
  | { kind: 'local', ops: LocalOp[], resolve: (states: unknown[]) => void, reject: (err: unknown) => void }
  | { kind: 'purge', items: PurgeItem[], resolve: (purged: number) => void, reject: (err: unknown) => void }
  | { kind: 'forget', storeKeys: string[], resolve: (forgotten: number) => void, reject: (err: unknown) => void }
  | { kind: 'rehash', storeKeys: string[], resolve: () => void, reject: (err: unknown) => void }
  | { kind: 'remote', changes: EncodedChange[], from: string, viaGossip: boolean, resolve: (report: ApplyReport) => void, reject: (err: unknown) => void }
  | { kind: 'snapshot', resolve: (snapshot: ReplicaSnapshot) => void, reject: (err: unknown) => void }


export type ChangeListener = (change: AppliedChange, decoded: unknown) => void

export class Replica implements AntiEntropyReplica {
  readonly tree: MerkleTree
  readonly stats: ReplicaStats = { commits: 0, localOps: 0, remoteApplied: 0, remoteChanged: 0, remoteRejected: {}, purged: 0 }

  private readonly store: Store
  private readonly env: OpEnv
  private readonly logger: Logger
  private readonly maxJobs: number
  private readonly queue: Job[] = []
  /** Bytes of the jobs queued and not yet committed (job-bytes.ts). */
  private queuedBytes = 0
  /** Remote merges waiting for the queue to fall under MAX_QUEUED_REMOTE_BYTES. */
  private readonly roomWaiters: Array<() => void> = []
  private draining = false
  private keys: number
  private readonly listeners = new Set<ChangeListener>()
  private readonly cache: StateCache
  private readonly recent: RecentChanges
  private readonly refusals = new LogThrottle(REFUSAL_LOG_INTERVAL_MS)
  /** Corrupt keys already re-hashed in this run (see noticeCorrupt). */
  private readonly rehashed = new Set<string>()

  /** Set for good once a peer showed us writes of our own identity that we never made. */
  private identityConflict: IdentityConflict | undefined
  private readonly onIdentityConflict: (conflict: IdentityConflict) => void
  private readonly onCommit: (seconds: number) => void
  private readonly onCommitting: () => () => void
  private readonly commitHook: CommitHook | undefined

  /** See SlotContext.collectedMayExist; set for good by the first collection. */
  private collectedMayExist: boolean

  private constructor (init: ReplicaInit, tree: MerkleTree, keys: number, dotFloor: number, collectedMayExist: boolean) {
    this.collectedMayExist = collectedMayExist
    this.store = init.store
    this.tree = tree
    this.keys = keys
    this.logger = init.logger
    this.maxJobs = init.maxJobsPerCommit ?? 512
    this.cache = new StateCache(init.cacheEntries ?? 20_000)
    const freshWindowMs = init.freshWindowMs ?? AE_FRESH_MS
    this.recent = new RecentChanges({ windowMs: freshWindowMs, runGapMs: init.freshRunGapMs ?? freshRunGapMs(freshWindowMs, DEFAULT_AE_INTERVAL_MS), maxKeys: MAX_FRESH_KEYS, maxKeyBytes: MAX_FRESH_KEY_BYTES })
    this.env = { nodeId: init.nodeId, clock: init.clock, maxSiblings: init.maxSiblings ?? MAX_SIBLINGS, dotFloor }
    this.onIdentityConflict = init.onIdentityConflict ?? (() => {})
    this.onCommit = init.onCommit ?? (() => {})
    this.onCommitting = init.onCommitting ?? (() => () => {})
    this.commitHook = init.commitHook
  }

  /** At info, once a minute per peer and reason (a peer can send thousands); the rest at debug. */
  private logRefusal (peer: string, storeKey: string, reason: string): void {
    const fields = { peer, storeKey: storeKey.slice(0, 64), reason }
    const turn = this.refusals.take(`${reason} ${peer}`)
    if (turn.log) this.logger.info({ ...fields, heldBack: turn.held }, 'refused a state from a peer (chorus_remote_rejected_total counts them all; this peer\'s next ones for this reason are logged at debug for a minute)')
    else this.logger.debug(fields, 'refused a state from a peer')
  }

  private noticeIdentityConflict (conflict: IdentityConflict): void {
    this.identityConflict = conflict
    this.logger.error({ ...conflict, storeKey: conflict.storeKey.slice(0, 64) }, 'another process writes with this node\'s identity (a copied data directory?): local writes are refused from now on. Restart this node: it then takes a new identity')
    this.onIdentityConflict(conflict)
  }

  /** Rebuilds the tree from the persisted leaf hashes; no read of the data itself. */
  static async open (init: ReplicaInit): Promise<Replica> {
    const { tree, keys } = await init.store.takeTreeSnapshot() ?? await init.store.loadTree()
    const dotFloor = Number(await init.store.getMeta('dotFloor') ?? '0')
    const collectedMayExist = !await init.store.isEmpty('collected')
    return new Replica(init, tree, keys, Number.isSafeInteger(dotFloor) ? dotFloor : 0, collectedMayExist)
  }

  /** The identity this replica writes its own versions under. */
  get nodeId (): string {
    return this.env.nodeId
  }

  keyCount (): number {
    return this.keys
  }

  /** The time reads compare expiry instants with: this node's HLC wall clock (causal/expiry.ts). */
  readTime (): number {
    return this.env.clock.wallNow()
  }

  /** Jobs and bytes waiting for the write path. */
  queueDepth (): { jobs: number, bytes: number } {
    return { jobs: this.queue.length, bytes: this.queuedBytes }
  }

  /** Registers with siblings now (a scan of the conflicts index). */
  async conflictCount (): Promise<number> {
    return await this.store.count('conflicts')
  }

  /** Registers that are all tombstones, waiting for collection (a scan of their index). */
  async tombstoneCount (): Promise<number> {
    return await this.store.count('tombstones')
  }

  freshSince (storeKey: string): number | undefined {
    return this.recent.runStart(storeKey, this.env.clock.physicalNow())
  }

  onChange (listener: ChangeListener): () => void {
    this.listeners.add(listener)
    return () => { this.listeners.delete(listener) }
  }

  /** Apply local operations atomically; resolves with each op's resulting state once durable. */
  async applyLocal (ops: LocalOp[]): Promise<unknown[]> {
    return await new Promise((resolve, reject) => { this.enqueue({ kind: 'local', ops, resolve, reject, bytes: localBytes(ops) }) })
  }

  /** Remove tombstone-only registers that are unchanged since the collector looked at them. */
  async purge (items: PurgeItem[]): Promise<number> {
    if (items.length === 0) return 0
    return await new Promise((resolve, reject) => { this.enqueue({ kind: 'purge', items, resolve, reject }) })
  }

  /** Drop the records of keys collected before `beforeMs` (after the member TTL). */
  async forgetCollected (beforeMs: number): Promise<number> {
    const storeKeys: string[] = []
    for await (const [storeKey, record] of this.store.entriesOf('collected', {})) {
      if (decodeCollected(record).atMs < beforeMs) storeKeys.push(storeKey)
    }
    if (storeKeys.length === 0) return 0
    return await new Promise((resolve, reject) => { this.enqueue({ kind: 'forget', storeKeys, resolve, reject }) })
  }

  /** The current tombstone times of some keys (undefined where the key is no longer one). */
  async tombstoneTimes (storeKeys: string[]): Promise<Array<number | undefined>> {
    const raw = await this.store.getMany('tombstones', storeKeys)
    return raw.map(bytes => bytes === undefined ? undefined : tombstoneTime(bytes))
  }

  /** Registers that are all tombstones, with the local time they became so. */
  async * tombstones (): AsyncGenerator<[string, number]> {
    for await (const [storeKey, at] of this.store.entriesOf('tombstones', {})) yield [storeKey, tombstoneTime(at)]
  }

  /**
   * Merge states from a peer. When the queue already holds MAX_QUEUED_REMOTE_BYTES, this waits
   * for room first: gossip's validator and anti-entropy await it, so peers that send faster
   * than the disk commits are slowed down instead of growing the queue without bound.
   */
  /**
   * @param options.viaGossip the changes came by gossip, which delivers them to every node: they
   *   count as fresh for anti-entropy (recent-changes.ts). Anti-entropy's and imports' do not.
   */
  async applyRemote (changes: EncodedChange[], from: string, options: { viaGossip?: boolean } = {}): Promise<ApplyReport> {
    if (changes.length === 0) return { applied: 0, changed: 0, rejected: 0 }
    while (this.queuedBytes > MAX_QUEUED_REMOTE_BYTES) await new Promise<void>(resolve => { this.roomWaiters.push(resolve) })
    const bytes = remoteBytes(changes)
    return await new Promise((resolve, reject) => { this.enqueue({ kind: 'remote', changes, from, viaGossip: options.viaGossip === true, resolve, reject, bytes }) })
  }

  /**
   * A snapshot of every committed state with the tree's root and key count at the same moment:
   * taken by the write loop between two commits, where the data and the tree agree.
   */
  async snapshot (): Promise<ReplicaSnapshot> {
    return await new Promise((resolve, reject) => { this.enqueue({ kind: 'snapshot', resolve, reject }) })
  }

  /** Store keys and encoded states of a snapshot, in store-key order, after `gt` when given. */
  async * snapshotStates (snapshot: StoreSnapshot, gt?: string): AsyncGenerator<EncodedChange> {
    const range = gt === undefined ? { snapshot } : { gt, snapshot }
    for await (const [storeKey, state] of this.store.entriesOf('data', range)) yield { storeKey, state }
  }

  async read<S extends KeySpace> (space: S, key: string): Promise<StateBySpace[S]> {
    const storeKey = toStoreKey(space, key)
    const bytes = await this.store.getState(storeKey)
    const type = SPACE_TYPES[space]
    if (bytes === undefined) return type.empty
    try {
      return type.decode(bytes)
    } catch (err) {
      this.noticeCorrupt(storeKey)
      throw err
    }
  }

  /**
   * A stored state that no longer decodes gets the Merkle leaf of its damaged bytes (once per
   * key and run): its leaf then differs from every peer's, so anti-entropy fetches the key and
   * the peer's state replaces the damage, without anyone running `chorus verify --repair`.
   */
  private noticeCorrupt (storeKey: string): void {
    if (this.rehashed.has(storeKey)) return
    this.rehashed.add(storeKey)
    this.enqueue({
      kind: 'rehash',
      storeKeys: [storeKey],
      resolve: () => {},
      reject: (err) => { this.logger.error({ err, storeKey }, 'could not re-hash a corrupt state') }
    })
  }

  async readStates (storeKeys: string[]): Promise<Array<Uint8Array | undefined>> {
    return await this.store.getStates(storeKeys)
  }

  async bucketEntries (bucket: number): Promise<BucketEntry[]> {
    return await this.store.bucketEntries(bucket)
  }

  async * statesInBuckets (fromBucket: number, toBucket: number): AsyncIterable<EncodedChange> {
    let batch: string[] = []
    const flush = async function * (this: Replica): AsyncGenerator<EncodedChange> {
      const states = await this.store.getStates(batch)
      for (let i = 0; i < batch.length; i++) {
        const state = states[i]
        if (state !== undefined) yield { storeKey: batch[i] as string, state }
      }
      batch = []
    }
    for await (const storeKey of this.store.storeKeysInBuckets(fromBucket, toBucket)) {
      batch.push(storeKey)
      if (batch.length >= 256) yield * flush.call(this)
    }
    yield * flush.call(this)
  }

  /** Keys of one space with their decoded states, in key order, from `gt`/`gte` up to `lt`. */
  async * states<S extends KeySpace> (space: S, range: { gte?: string, gt?: string, lt?: string }): AsyncGenerator<[string, StateBySpace[S]]> {
    const prefix = toStoreKey(space, '')
    const type = SPACE_TYPES[space]
    for await (const [storeKey, bytes] of this.store.entriesOf('data', spaceRange(space, range))) {
      yield [storeKey.slice(prefix.length), type.decode(bytes) as StateBySpace[S]]
    }
  }

  /** Keys of registers that have siblings now (an index, not a scan). */
  async * conflictKeys (range: { gte?: string, gt?: string, lt?: string }): AsyncGenerator<string> {
    const prefix = toStoreKey('kv', '')
    for await (const storeKey of this.store.keysOf('conflicts', spaceRange('kv', range))) yield storeKey.slice(prefix.length)
  }

  /** At a clean shutdown, once nothing else will be written: lets the next start skip the rebuild. */
  async saveSnapshot (): Promise<void> {
    await this.flush()
    await this.store.saveTreeSnapshot(this.tree, this.keys)
  }

  /** Resolves once everything queued before the call is committed. */
  async flush (): Promise<void> {
    await this.applyLocal([])
  }

  private enqueue (job: Job): void {
    this.queue.push(job)
    this.queuedBytes += job.bytes ?? 0
    if (!this.draining) {
      this.draining = true
      // Let callers that arrive in the same tick join this commit.
      setImmediate(() => { void this.drain() })
    }
  }

  private async drain (): Promise<void> {
    try {
      while (this.queue.length > 0) {
        const jobs = this.takeGroup()
        try {
          await this.commitGroup(jobs)
        } catch (err) {
          this.logger.error({ err }, 'commit failed')
          for (const job of jobs) job.reject(err)
        }
        this.wakeRoomWaiters()
      }
    } finally {
      this.draining = false
    }
  }

  /** The next group commit: at most maxJobs jobs and MAX_COMMIT_BYTES (but always one job). */
  private takeGroup (): Job[] {
    let count = 0
    let bytes = 0
    while (count < this.queue.length && count < this.maxJobs) {
      const next = this.queue[count]?.bytes ?? 0
      if (count > 0 && bytes + next > MAX_COMMIT_BYTES) break
      bytes += next
      count++
    }
    this.queuedBytes -= bytes
    return this.queue.splice(0, count)
  }

  private wakeRoomWaiters (): void {
    if (this.queuedBytes > MAX_QUEUED_REMOTE_BYTES) return
    for (const wake of this.roomWaiters.splice(0)) wake()
  }

  private async commitGroup (jobs: Job[]): Promise<void> {
    const started = performance.now()
    // Before this group writes anything: the data and the tree are those of the last commit.
    for (const job of jobs) if (job.kind === 'snapshot') this.takeSnapshot(job)
    const slots = await this.loadSlots(jobs)
    const settle: Array<() => void> = []

    for (const job of jobs) {
      if (job.kind === 'snapshot') continue
      if (job.kind === 'local') {
        const staged = new Map<string, unknown>()
        try {
          const results: unknown[] = []
          if (this.identityConflict !== undefined) throw identityConflictError(this.identityConflict)
          for (const op of job.ops) {
            const storeKey = toStoreKey(spaceOf(op), op.key)
            if (slots.get(storeKey)?.corrupt === true && !staged.has(storeKey)) {
              throw new CorruptDataError(`the stored state of ${JSON.stringify(op.key)} is corrupt; it is refused until anti-entropy repairs it from a peer (see chorus verify)`)
            }
            const current = staged.has(storeKey) ? staged.get(storeKey) : slots.get(storeKey)?.state
            const next = applyLocalOp(current, op, this.env)
            // The invariant behind "never store what cannot be read back or what peers refuse".
            const space = spaceOf(op)
            const problem = valueBoundsProblem(space, next) ?? sizeGrowthProblem(space, current ?? SPACE_TYPES[space].empty, next)
            if (problem !== undefined) throw new LimitExceededError(`${JSON.stringify(op.key)}: the write would leave the documented bounds (${problem}); nothing was written`)
            staged.set(storeKey, next)
            results.push(next)
          }
          for (const [storeKey, state] of staged) {
            const slot = slots.get(storeKey) as Slot
            slot.state = state
            slot.touched = true
            slot.purge = false
            slot.origin = 'local'
          }
          this.stats.localOps += job.ops.length
          settle.push(() => { job.resolve(results) })
        } catch (err) {
          job.reject(err)
        }
      } else if (job.kind === 'rehash') {
        // Nothing to apply: loading the slots found them corrupt, and the plan re-hashes them.
        settle.push(() => { job.resolve() })
      } else if (job.kind === 'forget') {
        let forgotten = 0
        for (const storeKey of job.storeKeys) {
          const slot = slots.get(storeKey)
          if (slot === undefined || slot.touched || slot.original !== undefined || slot.collected !== true) continue
          slot.forget = true
          forgotten++
        }
        settle.push(() => { job.resolve(forgotten) })
      } else if (job.kind === 'purge') {
        let purged = 0
        for (const item of job.items) {
          const slot = slots.get(item.storeKey)
          // Anything that touched the key since the collector looked makes it not collectable.
          if (slot === undefined || slot.touched || slot.corrupt === true || slot.original === undefined || Buffer.compare(slot.original, item.expected) !== 0) continue
          const action = collectAction(slot.space, slot.state, this.env.clock.physicalNow())
          if (action === undefined) continue
          if (action === 'purge') {
            slot.purge = true
          } else {
            // An ended counter or set: its next life, written and gossiped like a local write.
            slot.state = compactLife(slot.space as 'counter' | 'set', slot.state)
            slot.touched = true
            slot.origin = 'local'
          }
          purged++
        }
        settle.push(() => { job.resolve(purged) })
      } else {
        const report: ApplyReport = { applied: 0, changed: 0, rejected: 0 }
        for (const change of job.changes) {
          const known = slots.get(change.storeKey)
          if (known !== undefined && !known.touched && known.original !== undefined && Buffer.compare(known.original, change.state) === 0) {
            // Exactly what we hold (anti-entropy and gossip crossing): nothing to decode or merge.
            report.applied++
            continue
          }
          const verdict = checkRemoteChange(change.storeKey, change.state, this.env.clock)
          if (!verdict.ok) {
            report.rejected++
            this.stats.remoteRejected[verdict.reason] = (this.stats.remoteRejected[verdict.reason] ?? 0) + 1
            this.logRefusal(job.from, change.storeKey, verdict.reason)
            continue
          }
          const slot = slots.get(change.storeKey) as Slot
          // A damaged key's state reads as empty: its repair from a peer is no evidence.
          if (this.identityConflict === undefined && slot.corrupt !== true && holdsOurUnknownEvents(verdict.space, slot.state, verdict.state, this.env.nodeId, verdict.space === 'kv' ? this.env.dotFloor : 0)) {
            this.noticeIdentityConflict({ storeKey: change.storeKey, from: job.from })
          }
          const type = SPACE_TYPES[verdict.space] as { empty: unknown, merge: (a: unknown, b: unknown) => unknown }
          let merged: unknown
          if (slot.state === type.empty && slot.original === undefined) {
            // A key new to us: the remote state as it is, and its bytes (already checked to be
            // canonical) need no re-encoding.
            slot.state = verdict.state
            slot.encoded = { state: verdict.state, bytes: change.state }
            slot.touched = true
            slot.purge = false
            if (job.viaGossip) slot.viaGossip = true
            report.applied++
            continue
          }
          try {
            merged = type.merge(slot.state, verdict.state)
          } catch (err) {
            report.rejected++
            this.stats.remoteRejected.corrupt = (this.stats.remoteRejected.corrupt ?? 0) + 1
            this.logger.warn({ err, peer: job.from, storeKey: change.storeKey.slice(0, 64) }, 'remote state failed to merge')
            continue
          }
          if (valueBoundsProblem(verdict.space, merged) !== undefined) {
            // Cannot happen for in-bound sides (a merge takes maxima); if it does, keep ours.
            report.rejected++
            this.stats.remoteRejected['out-of-range'] = (this.stats.remoteRejected['out-of-range'] ?? 0) + 1
            continue
          }
          if (slot.collected === true && slot.original === undefined && (merged as RegisterState).siblings.length === 0) {
            // Every version it carries was superseded by a tombstone we collected: a zombie.
            report.rejected++
            report.superseded = (report.superseded ?? 0) + 1
            this.stats.remoteRejected.collected = (this.stats.remoteRejected.collected ?? 0) + 1
            continue
          }
          slot.state = merged
          slot.touched = true
          slot.purge = false
          if (job.viaGossip) slot.viaGossip = true
          // A local write to the same key in this group keeps the change 'local', or gossip
          // would never publish it.
          report.applied++
        }
        settle.push(() => { job.resolve(report) })
        // `changed` is filled in below once we know which keys really moved.
        ;(job as { report?: ApplyReport }).report = report
      }
    }

    const { writes, bucketHashes, changes, keyDelta, changedKeys, purged, dotFloor, forgotten, now } = planCommit({ store: this.store, tree: this.tree, env: this.env }, slots)
    if (writes.length > 0) {
      // From the batch that writes the first collected records on, absent registers must be
      // looked up there.
      if (purged.length > 0) this.collectedMayExist = true
      // The feed's entries commit with the changes they record (feed/change-log.ts).
      if (this.commitHook !== undefined && changes.length > 0) writes.push(...this.commitHook.stage(changes, now))
      const ended = this.onCommitting()
      let committed = false
      try {
        await this.store.commit(writes)
        committed = true
      } finally {
        this.commitHook?.settle(committed)
        if (!committed) ended()
      }
      this.stats.commits++
      this.onCommit((performance.now() - started) / 1000)
      this.keys += keyDelta
      this.stats.purged += purged.length
      this.env.dotFloor = dotFloor
      for (const [storeKey, vv] of purged) this.cache.set(storeKey, { bytes: null, state: { vv, siblings: [] } })
      for (const storeKey of forgotten) this.cache.set(storeKey, { bytes: null, state: SPACE_TYPES.kv.empty })
      for (const [bucket, hash] of bucketHashes) this.tree.setBucket(bucket, hash)
      ended()
      for (const [change, decoded] of changes) {
        this.cache.set(change.storeKey, { bytes: change.state, state: decoded })
        // Fresh for anti-entropy: what gossip carries to every node (recent-changes.ts).
        if (change.origin === 'local' || slots.get(change.storeKey)?.viaGossip === true) this.recent.touch(change.storeKey, now)
      }
    }
    for (const job of jobs) {
      if (job.kind !== 'remote') continue
      const report = (job as { report?: ApplyReport }).report
      if (report === undefined) continue
      for (const change of job.changes) {
        if (!changedKeys.has(change.storeKey)) continue
        report.changed++
        if (slots.get(change.storeKey)?.original === undefined) report.added = (report.added ?? 0) + 1
      }
      this.stats.remoteApplied += report.applied
      this.stats.remoteChanged += report.changed
    }
    for (const done of settle) done()
    for (const [change, decoded] of changes) {
      for (const listener of this.listeners) {
        try {
          listener(change, decoded)
        } catch (err) {
          this.logger.error({ err }, 'change listener failed')
        }
      }
    }
  }

  /** Resolves a snapshot job at once (synchronously: no commit can slip in between). */
  private takeSnapshot (job: Extract<Job, { kind: 'snapshot' }>): void {
    try {
      const snapshot = this.store.snapshot()
      job.resolve({ snapshot, digest: Buffer.from(this.tree.root()).toString('hex'), keys: this.keys, atMs: Date.now() })
    } catch (err) {
      job.reject(err)
    }
  }

  private async loadSlots (jobs: Job[]): Promise<Map<string, Slot>> {
    const wanted = new Map<string, { space: KeySpace, key: string }>()
    for (const job of jobs) {
      if (job.kind === 'snapshot') continue
      if (job.kind === 'local') {
        for (const op of job.ops) {
          const space = spaceOf(op)
          wanted.set(toStoreKey(space, op.key), { space, key: op.key })
        }
      } else {
        const keys = job.kind === 'purge' ? job.items.map(i => i.storeKey) : job.kind === 'forget' || job.kind === 'rehash' ? job.storeKeys : job.changes.map(c => c.storeKey)
        for (const storeKey of keys) {
          const addr = fromStoreKey(storeKey)
          if (addr !== undefined) wanted.set(storeKey, addr)
        }
      }
    }
    return await loadSlots({ store: this.store, cache: this.cache, logger: this.logger, collectedMayExist: this.collectedMayExist }, wanted)
  }
}

/** Store-key bounds of a range of names in one space; without an upper bound, the end of the space. */
function spaceRange (space: KeySpace, range: { gte?: string, gt?: string, lt?: string }): { gte?: string, gt?: string, lt: string } {
  const prefix = toStoreKey(space, '') // e.g. 'r/'; 'r0' follows every key in the space
  return {
    ...(range.gt !== undefined ? { gt: prefix + range.gt } : { gte: prefix + (range.gte ?? '') }),
    lt: range.lt !== undefined ? prefix + range.lt : prefix.slice(0, -1) + String.fromCharCode(prefix.charCodeAt(prefix.length - 1) + 1)
  }
}
