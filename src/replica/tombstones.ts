/** Tombstone bookkeeping for garbage collection (node/tombstone-gc.ts decides when). */
import { deadFrom, type RegisterState, type VersionVector } from '../causal/index.js'
import { counterLife, hasEnded, restartCounter, restartOrSet, setLife, type CounterState, type Lifetime, type OrSetState } from '../crdt/index.js'
import type { KeySpace } from '../model/index.js'
import { decodeVersionVector, encodeVersionVector } from '../codec/index.js'

/** Every version is a delete: the key reads as absent and holds no value worth keeping. */
export function isAllTombstones (state: RegisterState): boolean {
  return state.siblings.length > 0 && state.siblings.every(s => s.value === undefined)
}

/**
 * Whether the tombstones index lists the register: all its versions are deletes, or deletes and
 * expiring values (deadFrom). An expiring key is listed from its write on, with the time it
 * dies, so the collector needs no second index and no timer per key.
 */
export function isListedDead (state: RegisterState): boolean {
  return deadFrom(state) !== undefined
}

/** The time the index records: the commit's, or the key's death if that is later. */
export function deadTime (state: RegisterState, commitMs: number): number {
  return Math.max(commitMs, deadFrom(state) ?? 0)
}

/** Every version is a delete or has expired at `now`: the key may be collected like a tombstone. */
export function isCollectable (state: RegisterState, now: number): boolean {
  const from = deadFrom(state)
  return from !== undefined && from <= now
}

/** A counter's or a set's lifetime (crdt/lifetime.ts). */
function lifeOf (space: 'counter' | 'set', state: unknown): Lifetime {
  return space === 'counter' ? counterLife(state as CounterState) : setLife(state as OrSetState)
}

/**
 * The time the tombstones index records for a key of any space, or undefined when it is not
 * listed: registers as above; counters and sets that will expire, from their expiry on.
 */
export function listedTime (space: KeySpace, state: unknown, commitMs: number): number | undefined {
  if (space === 'kv') return isListedDead(state as RegisterState) ? deadTime(state as RegisterState, commitMs) : undefined
  if (space === 'map') return undefined // maps neither expire nor are collected (docs/api.md, "Maps")
  const end = lifeOf(space, state).expiresAt
  return end === undefined ? undefined : Math.max(commitMs, end)
}

/**
 * What collection does to a listed key at `now`: a register that is all deletes or expired is
 * removed ('purge'); a counter or set whose life has ended is compacted to its next life with no
 * contents ('compact': compactLife), which dominates every copy of the old life, so it needs no
 * record; otherwise nothing yet.
 */
export function collectAction (space: KeySpace, state: unknown, now: number): 'purge' | 'compact' | undefined {
  if (space === 'kv') return isCollectable(state as RegisterState, now) ? 'purge' : undefined
  if (space === 'map') return undefined
  return hasEnded(lifeOf(space, state), now) ? 'compact' : undefined
}

/** An ended counter or set as its next life: the same as the first write after the end makes it. */
export function compactLife (space: 'counter' | 'set', state: unknown): unknown {
  return space === 'counter' ? restartCounter(state as CounterState) : restartOrSet(state as OrSetState)
}

export function encodeTombstoneTime (ms: number): Uint8Array {
  return new TextEncoder().encode(String(ms))
}

export function tombstoneTime (bytes: Uint8Array): number {
  const ms = Number(new TextDecoder().decode(bytes))
  return Number.isSafeInteger(ms) ? ms : 0
}

/**
 * What remains of a collected key: when it was collected and the version vector its tombstone
 * had seen. Kept for the member TTL (a member away longer must be reset anyway).
 */
export function encodeCollected (atMs: number, vv: VersionVector): Uint8Array {
  return new TextEncoder().encode(`${atMs} ${Buffer.from(encodeVersionVector(vv)).toString('base64url')}`)
}

export function decodeCollected (bytes: Uint8Array): { atMs: number, vv: VersionVector } {
  const [at, vv] = new TextDecoder().decode(bytes).split(' ')
  try {
    return { atMs: Number(at), vv: vv === undefined || vv === '' ? {} : decodeVersionVector(Buffer.from(vv, 'base64url'), 'collected key') }
  } catch {
    return { atMs: 0, vv: {} }
  }
}
