/** Tombstone bookkeeping for garbage collection (node/tombstone-gc.ts decides when). */
import type { RegisterState } from '../causal/index.js'

/** Every version is a delete: the key reads as absent and holds no value worth keeping. */
export function isAllTombstones (state: RegisterState): boolean {
  return state.siblings.length > 0 && state.siblings.every(s => s.value === undefined)
}

export function encodeTombstoneTime (ms: number): Uint8Array {
  return new TextEncoder().encode(String(ms))
}

export function tombstoneTime (bytes: Uint8Array): number {
  const ms = Number(new TextDecoder().decode(bytes))
  return Number.isSafeInteger(ms) ? ms : 0
}
