/**
 * One change-feed entry on disk: the key is the seq (16 hex digits, so LevelDB's order is the
 * seq order), the value a flags byte, the local time in ms (6 bytes, big-endian) and the store
 * key (`r/…`, `c/…`, `s/…`, any space's tag) in UTF-8. No value: a consumer reads the key, so an
 * entry stays about 30 bytes plus the key. Pure.
 */
import { isDeleted, type RegisterState } from '../causal/index.js'
import type { OrMapState } from '../crdt/index.js'
import { fromStoreKey, type KeySpace } from '../model/index.js'

export interface FeedEntry {
  seq: number
  space: KeySpace
  key: string
  origin: 'local' | 'remote'
  /** The key read as absent right after this change (a register that is all tombstones). */
  deleted: boolean
  /** Local wall time of the commit, ms. */
  atMs: number
}

const REMOTE = 1
const DELETED = 2
const HEADER = 7
const utf8 = new TextEncoder()
const fromUtf8 = new TextDecoder('utf-8', { fatal: true })

/** The LevelDB key of a seq: fixed-width hex sorts as the numbers do. */
export function seqKey (seq: number): string {
  return seq.toString(16).padStart(16, '0')
}

export function seqOfKey (key: string): number | undefined {
  if (!/^[0-9a-f]{16}$/.test(key)) return undefined
  const seq = Number.parseInt(key, 16)
  return Number.isSafeInteger(seq) ? seq : undefined
}

/**
 * Whether a state reads as absent: registers that hold only tombstones. Counters and sets have
 * no delete (a counter reads 0, a set reads empty), so they never are; a map is once it holds
 * no field; a space without a rule here counts as present.
 */
export function readsAbsent (space: KeySpace, state: unknown): boolean {
  if (space === 'map') return (state as OrMapState).leaves.size === 0 // map.delete, or every field removed
  return space === 'kv' && isDeleted(state as RegisterState)
}

export function encodeEntryValue (storeKey: string, origin: 'local' | 'remote', deleted: boolean, atMs: number): Uint8Array {
  const key = utf8.encode(storeKey)
  const out = new Uint8Array(HEADER + key.length)
  out[0] = (origin === 'remote' ? REMOTE : 0) | (deleted ? DELETED : 0)
  const time = Math.max(0, Math.min(Math.trunc(atMs), 2 ** 48 - 1))
  new DataView(out.buffer).setUint16(1, Math.floor(time / 2 ** 32))
  new DataView(out.buffer).setUint32(3, time % 2 ** 32)
  out.set(key, HEADER)
  return out
}

/** The entry stored under `key`, or undefined when it does not decode (skipped by readers). */
export function decodeEntry (key: string, value: Uint8Array): FeedEntry | undefined {
  const seq = seqOfKey(key)
  if (seq === undefined || value.length <= HEADER) return undefined
  const flags = value[0] as number
  const view = new DataView(value.buffer, value.byteOffset, value.byteLength)
  const atMs = view.getUint16(1) * 2 ** 32 + view.getUint32(3)
  let storeKey: string
  try {
    storeKey = fromUtf8.decode(value.subarray(HEADER))
  } catch {
    return undefined
  }
  const addr = fromStoreKey(storeKey)
  if (addr === undefined) return undefined
  return { seq, space: addr.space, key: addr.key, origin: (flags & REMOTE) !== 0 ? 'remote' : 'local', deleted: (flags & DELETED) !== 0, atMs }
}
