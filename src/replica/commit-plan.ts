/**
 * Planning a group commit: for every touched key whose encoding really changed (or that is
 * purged or forgotten), the LevelDB writes — state, Merkle leaf, indexes — and the new bucket
 * hashes, computed from the in-memory tree without moving it (that happens after the commit).
 */
import { hasConflict, type RegisterState, type VersionVector } from '../causal/index.js'
import { bucketOf, leafHash, nextBucketHash, type MerkleTree } from '../merkle/index.js'
import { SPACE_TYPES } from '../model/index.js'
import { bucketPrefix, type Store, type StoreWrite } from '../store/index.js'
import type { OpEnv } from './local-op.js'
import type { Slot } from './slots.js'
import { encodeCollected, encodeTombstoneTime, listedTime } from './tombstones.js'
import type { AppliedChange } from './types.js'

export interface PlanContext {
  store: Store
  tree: MerkleTree
  env: OpEnv
}

export interface CommitPlan {
  writes: StoreWrite[]
  bucketHashes: Map<number, Uint8Array>
  changes: Array<[AppliedChange, unknown]>
  /** Keys added minus keys purged. */
  keyDelta: number
  changedKeys: Set<string>
  purged: Array<[string, VersionVector]>
  dotFloor: number
  forgotten: string[]
  /** The physical time the plan was made at: the tombstone times it writes. */
  now: number
}

/** Everything to write for the touched slots whose encoding really changed. */
export function planCommit (ctx: PlanContext, slots: Map<string, Slot>): CommitPlan {
  const writes: StoreWrite[] = []
  const bucketHashes = new Map<number, Uint8Array>()
  const changes: Array<[AppliedChange, unknown]> = []
  const changedKeys = new Set<string>()
  const purged: Array<[string, VersionVector]> = []
  const forgotten: string[] = []
  let dotFloor = ctx.env.dotFloor
  let keyDelta = 0
  const now = ctx.env.clock.physicalNow()
  /** Swaps a key's leaf in its bucket's hash; the write that keeps the leaf index in step. */
  const moveLeaf = (storeKey: string, oldLeaf: Uint8Array | undefined, newLeaf: Uint8Array | undefined): StoreWrite => {
    const bucket = bucketOf(storeKey)
    bucketHashes.set(bucket, nextBucketHash(bucketHashes.get(bucket) ?? ctx.tree.bucket(bucket), oldLeaf, newLeaf))
    return newLeaf === undefined
      ? { sublevel: 'buckets', key: bucketPrefix(bucket) + storeKey }
      : { sublevel: 'buckets', key: bucketPrefix(bucket) + storeKey, value: Uint8Array.from(newLeaf) }
  }
  for (const [storeKey, slot] of slots) {
    if (slot.purge === true && slot.original !== undefined) {
      const vv = (slot.state as RegisterState).vv
      writes.push(
        { sublevel: 'data', key: storeKey },
        moveLeaf(storeKey, leafHash(storeKey, slot.original), undefined),
        { sublevel: 'tombstones', key: storeKey },
        // Remember what the tombstone had seen: anything it covers is a zombie from now on,
        // and a re-created key continues from it instead of reusing dots (see PurgeItem).
        { sublevel: 'collected', key: storeKey, value: encodeCollected(now, vv) }
      )
      if (slot.originalConflict === true) writes.push({ sublevel: 'conflicts', key: storeKey })
      dotFloor = Math.max(dotFloor, vv[ctx.env.nodeId] ?? 0)
      keyDelta--
      purged.push([storeKey, vv])
      continue
    }
    if (slot.forget === true && !slot.touched) {
      writes.push({ sublevel: 'collected', key: storeKey })
      forgotten.push(storeKey)
      continue
    }
    if (slot.corrupt === true && !slot.touched && slot.original !== undefined) {
      // Untouched but damaged: give it the leaf of the bytes actually stored (see Replica.noticeCorrupt).
      const leaf = leafHash(storeKey, slot.original)
      if (slot.storedLeaf === undefined || Buffer.compare(leaf, slot.storedLeaf) !== 0) writes.push(moveLeaf(storeKey, slot.storedLeaf, leaf))
      continue
    }
    if (!slot.touched) continue
    if (slot.space === 'kv' && slot.original === undefined && (slot.state as RegisterState).siblings.length === 0) continue
    if (slot.collected === true) writes.push({ sublevel: 'collected', key: storeKey })
    const type = SPACE_TYPES[slot.space] as { encode: (s: unknown) => Uint8Array }
    const encoded = slot.encoded !== undefined && slot.encoded.state === slot.state ? slot.encoded.bytes : type.encode(slot.state)
    if (slot.original !== undefined && Buffer.compare(encoded, slot.original) === 0) continue
    changedKeys.add(storeKey)
    const oldLeaf = slot.corrupt === true ? slot.storedLeaf : slot.original === undefined ? undefined : leafHash(storeKey, slot.original)
    if (slot.original === undefined) keyDelta++
    writes.push({ sublevel: 'data', key: storeKey, value: encoded })
    writes.push(moveLeaf(storeKey, oldLeaf, leafHash(storeKey, encoded)))
    if (slot.space === 'kv') {
      const conflict = hasConflict(slot.state as RegisterState)
      if (conflict !== slot.originalConflict) {
        writes.push(conflict
          ? { sublevel: 'conflicts', key: storeKey, value: new Uint8Array(0) }
          : { sublevel: 'conflicts', key: storeKey })
      }
    }
    // Any change to an all-tombstone register restarts its clock towards collection; one whose
    // values all expire, and an expiring counter or set, count from the expiry (listedTime).
    const listed = listedTime(slot.space, slot.state, now)
    if (listed !== undefined) writes.push({ sublevel: 'tombstones', key: storeKey, value: encodeTombstoneTime(listed) })
    else if (slot.originalDeleted !== false) writes.push({ sublevel: 'tombstones', key: storeKey })
    changes.push([{ space: slot.space, key: slot.key, storeKey, state: encoded, origin: slot.origin }, slot.state])
  }
  // The floor outlives the records, which expire: a node never reissues a dot.
  if (dotFloor > ctx.env.dotFloor) writes.push(ctx.store.metaWrite('dotFloor', String(dotFloor)))
  return { writes, bucketHashes, changes, keyDelta, changedKeys, purged, dotFloor, forgotten, now }
}
