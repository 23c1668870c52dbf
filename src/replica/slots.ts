/**
 * Loading the keys a group commit touches: from the write-through cache, else from LevelDB
 * (one getMany), decoded; an absent register that was garbage-collected starts from the version
 * vector its tombstone had seen.
 */
import type { Logger } from 'pino'
import { hasConflict, type RegisterState } from '../causal/index.js'
import { SPACE_TYPES, type KeySpace } from '../model/index.js'
import { bucketOf } from '../merkle/index.js'
import { bucketPrefix, type Store } from '../store/index.js'
import type { StateCache } from './state-cache.js'
import { decodeCollected, listedTime } from './tombstones.js'

/** One key's state during a group commit. */
export interface Slot {
  space: KeySpace
  key: string
  original: Uint8Array | undefined
  state: unknown
  touched: boolean
  origin: 'local' | 'remote'
  /** Changed in this group by a state received by gossip (fresh for anti-entropy, like a local write). */
  viaGossip?: boolean
  /** Whether the conflicts index lists the key now (registers only); undefined: unknown (corrupt state). */
  originalConflict?: boolean
  /** Whether the tombstones index lists the key now (registers all deletes or expiring, counters and sets that expire: listedTime); undefined: unknown (corrupt state). */
  originalDeleted?: boolean
  /** Remove the key entirely (tombstone GC). */
  purge?: boolean
  /** Absent, but collected before: `state` starts from the remembered version vector. */
  collected?: boolean
  /** The stored bytes did not decode: local writes are refused until a peer repairs the key. */
  corrupt?: boolean
  /** For a corrupt state: the leaf hash the Merkle index holds (of the state before the damage). */
  storedLeaf?: Uint8Array
  /** Drop the collected record (it outlived the member TTL). */
  forget?: boolean
  /** Canonical bytes already known for a state (a remote one taken as is), to skip re-encoding. */
  encoded?: { state: unknown, bytes: Uint8Array }
}

export interface SlotContext {
  store: Store
  cache: StateCache
  logger: Logger
  /**
   * False while the node has never collected a register: then an absent register cannot have a
   * collected record, and the second read (a thread-pool round trip per new key) is skipped.
   */
  collectedMayExist: boolean
}

export async function loadSlots (ctx: SlotContext, wanted: Map<string, { space: KeySpace, key: string }>): Promise<Map<string, Slot>> {
  const slots = new Map<string, Slot>()
  const misses: string[] = []
  for (const [storeKey, { space, key }] of wanted) {
    const hit = ctx.cache.get(storeKey)
    if (hit === undefined) {
      misses.push(storeKey)
      continue
    }
    const original = hit.bytes ?? undefined
    const originalConflict = space === 'kv' && original !== undefined ? hasConflict(hit.state as RegisterState) : false
    const originalDeleted = original !== undefined ? listedTime(space, hit.state, 0) !== undefined : false
    const collectedBase = space === 'kv' && original === undefined && Object.keys((hit.state as RegisterState).vv).length > 0
    slots.set(storeKey, { space, key, original, state: hit.state, touched: false, origin: 'remote', originalConflict, originalDeleted, collected: collectedBase })
  }
  // Both reads at once: the collected records of every register missed, present or not (a
  // record never coexists with data, so for present keys it is just an empty read).
  const missedRegisters = ctx.collectedMayExist ? misses.filter(storeKey => wanted.get(storeKey)?.space === 'kv') : []
  const [originals, records] = await Promise.all([ctx.store.getStates(misses), ctx.store.getMany('collected', missedRegisters)])
  const collected = new Map(missedRegisters.map((storeKey, i) => [storeKey, records[i]]))
  const damaged: string[] = []
  misses.forEach((storeKey, i) => {
    const { space, key } = wanted.get(storeKey) as { space: KeySpace, key: string }
    const original = originals[i]
    const type = SPACE_TYPES[space] as { empty: unknown, decode: (b: Uint8Array) => unknown }
    let state: unknown = type.empty
    let corrupt = false
    if (original !== undefined) {
      try {
        state = type.decode(original)
      } catch (err) {
        // A corrupt stored state must not take the node down: remote merges over an empty base
        // let anti-entropy restore it from peers; local writes are refused meanwhile (they
        // could reuse dots the lost state held).
        corrupt = true
        damaged.push(storeKey)
        ctx.logger.error({ err, storeKey }, 'stored state is corrupt; treating as empty until repaired')
      }
    }
    const record = collected.get(storeKey)
    if (record !== undefined) state = { vv: decodeCollected(record).vv, siblings: [] }
    // What the indexes hold for a corrupt state is unknown: the repair then writes them outright.
    const originalConflict = corrupt ? undefined : space === 'kv' && original !== undefined ? hasConflict(state as RegisterState) : false
    const originalDeleted = corrupt ? undefined : original !== undefined ? listedTime(space, state, 0) !== undefined : false
    slots.set(storeKey, { space, key, original, state, touched: false, origin: 'remote', originalConflict, originalDeleted, collected: record !== undefined, corrupt })
  })
  // The tree holds the leaf of what was written, not of the damaged bytes: a repair must take
  // that one out, or the tree would disagree with the data from then on.
  if (damaged.length > 0) {
    const leaves = await ctx.store.getMany('buckets', damaged.map(storeKey => bucketPrefix(bucketOf(storeKey)) + storeKey))
    damaged.forEach((storeKey, i) => { (slots.get(storeKey) as Slot).storedLeaf = leaves[i] })
  }
  return slots
}
