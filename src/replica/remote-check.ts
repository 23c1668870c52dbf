/**
 * What a remote state must satisfy before it may be merged. Peers are not trusted: a change
 * that fails here is counted and dropped, never merged, never forwarded.
 */
import type { HybridLogicalClock } from '../clock/index.js'
import type { RegisterState } from '../causal/index.js'
import { MAX_MAP_STATE_BYTES, MAX_VALUE_BYTES } from '../constants.js'
import { counterLife, setLife, type CounterState, type OrMapState, type OrSetState } from '../crdt/index.js'
import { fromStoreKey, jsonDepthProblem, keyProblem, nonFiniteTextProblem, SPACE_TYPES, type KeySpace } from '../model/index.js'
import { valueBoundsProblem } from './state-bounds.js'
import { mapValuesRefusal } from './map-remote-check.js'

/** Why a remote state was refused: the labels of chorus_remote_rejected_total. */
export const REMOTE_REJECT_REASONS: readonly string[] = ['bad-key', 'corrupt', 'too-large', 'out-of-range', 'collected']

export type RemoteVerdict =
  | { ok: true, space: KeySpace, key: string, state: unknown }
  | { ok: false, reason: 'bad-key' | 'corrupt' | 'too-large' | 'out-of-range' }

export function checkRemoteChange (storeKey: string, bytes: Uint8Array, clock: HybridLogicalClock): RemoteVerdict {
  const addr = fromStoreKey(storeKey)
  if (addr === undefined || keyProblem(addr.key) !== undefined) return { ok: false, reason: 'bad-key' }
  // Before decoding: a map's bytes are bounded outright (map-bounds.ts).
  if (addr.space === 'map' && bytes.byteLength > MAX_MAP_STATE_BYTES) return { ok: false, reason: 'too-large' }
  let state: unknown
  try {
    state = SPACE_TYPES[addr.space].decode(bytes)
  } catch {
    return { ok: false, reason: 'corrupt' }
  }
  // Before anything reads it: a forged counter or timestamp at the edge of the safe integers
  // would make this node's next write on the key (or its clock) unencodable.
  if (valueBoundsProblem(addr.space, state) !== undefined) return { ok: false, reason: 'out-of-range' }
  if (addr.space === 'kv') {
    for (const s of (state as RegisterState).siblings) {
      if (s.value !== undefined) {
        if (Buffer.byteLength(s.value, 'utf8') > MAX_VALUE_BYTES) return { ok: false, reason: 'too-large' }
        // Reads parse every sibling: a value that is not JSON would break them for everyone.
        let parsed: unknown
        try { parsed = JSON.parse(s.value) } catch { return { ok: false, reason: 'corrupt' } }
        // A value too deep to serialise would fail every read of it that a client makes.
        if (jsonDepthProblem(s.value) !== undefined) return { ok: false, reason: 'out-of-range' }
        // One holding 1e400 would be read back as null.
        if (nonFiniteTextProblem(s.value, parsed) !== undefined) return { ok: false, reason: 'out-of-range' }
      }
    }
    // A version stamped in our future is taken all the same: it is an acknowledged write of a
    // node whose clock ran ahead, and refusing it would leave it on that node's disk alone until
    // real time caught up. It only may not drag our clock (observe ignores it), so it cannot
    // spread its error to our own writes. See docs/consistency.md, "Clocks".
    for (const s of (state as RegisterState).siblings) clock.observe(s.hlc)
  }
  if (addr.space === 'counter' || addr.space === 'set') {
    // A generation is an expiry instant its writer had already passed (crdt/lifetime.ts): one
    // beyond our clock's drift bound is forged or broken, and would replace the key's contents
    // with a life that never ends.
    const life = addr.space === 'counter' ? counterLife(state as CounterState) : setLife(state as OrSetState)
    if (life.gen > clock.wallNow() + clock.maxDriftMs) return { ok: false, reason: 'out-of-range' }
  }
  if (addr.space === 'map') {
    const refusal = mapValuesRefusal(state as OrMapState, clock)
    if (refusal !== undefined) return { ok: false, reason: refusal }
  }
  return { ok: true, space: addr.space, key: addr.key, state }
}
