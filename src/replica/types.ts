/**
 * The replica's faces towards the two replication paths. Gossip and anti-entropy see only
 * these interfaces, never LevelDB.
 */
import type { MerkleTree } from '../merkle/index.js'
import type { KeySpace } from '../model/index.js'
import type { StoreWrite } from '../store/index.js'

/** One key's full replicated state, encoded (codec/), addressed by store key (`r/…`, `c/…`, `s/…`). */
export interface EncodedChange {
  storeKey: string
  state: Uint8Array
}

export interface ApplyReport {
  /** Changes that decoded, validated and were merged. */
  applied: number
  /** Of those, how many changed the local state (the rest we already had). */
  changed: number
  /** Of `changed`, keys this node did not hold before. Absent when none. */
  added?: number
  /** Refused: undecodable, invalid, or superseded by a collected tombstone. */
  rejected: number
  /**
   * Of `rejected`, states already superseded by a tombstone this node collected: refused
   * because we know better, not because we lack them. Absent when none.
   */
  superseded?: number
}

export interface BucketEntry {
  storeKey: string
  /** The key's current leaf hash (merkle/leafHash of store key and encoded state). */
  leaf: Uint8Array
}

/** What anti-entropy needs from the local replica. */
export interface AntiEntropyReplica {
  /** The live in-memory tree; always consistent with what is committed. Read-only for callers. */
  readonly tree: MerkleTree
  /** Every key in one bucket with its leaf hash. */
  bucketEntries: (bucket: number) => Promise<BucketEntry[]>
  /** Encoded current states (undefined where the key is absent). */
  readStates: (storeKeys: string[]) => Promise<Array<Uint8Array | undefined>>
  /** Every key's state in buckets [from, to), in bucket order. */
  statesInBuckets: (fromBucket: number, toBucket: number) => AsyncIterable<EncodedChange>
  /** Merge remote states through the one write path (validated; never throws on bad input). */
  applyRemote: (changes: EncodedChange[], from: string, options?: { viaGossip?: boolean }) => Promise<ApplyReport>
  /** Number of keys stored (all spaces). */
  keyCount: () => number
  /**
   * When the key's current run of changes began (replica/recent-changes.ts), on the clock of
   * `physicalNow`, or undefined if it has not changed lately: anti-entropy leaves such keys to
   * gossip in scheduled exchanges.
   */
  freshSince: (storeKey: string) => number | undefined
}

/** Emitted for every committed change, local or remote. */
export interface AppliedChange {
  space: KeySpace
  key: string
  storeKey: string
  /** Encoded new state. */
  state: Uint8Array
  origin: 'local' | 'remote'
  /** Its change-feed seq (feed/), set by the commit hook before the commit; absent without one. */
  seq?: number
}

/**
 * Told each group commit's changes (with their decoded states) before they are written: the
 * writes `stage` returns join the same LevelDB batch, and `settle` says whether that batch was
 * written. The change feed (feed/change-log.ts) is one; it sets each change's `seq`.
 */
export interface CommitHook {
  stage: (changes: ReadonlyArray<readonly [AppliedChange, unknown]>, atMs: number) => StoreWrite[]
  settle: (committed: boolean) => void
}
