/**
 * Expiring register versions (docs/api.md, "Expiring keys"). A version written with `ttlMs`
 * carries its expiry instant in the replicated state (`Sibling.expiresAt`: the write's HLC wall
 * time + ttlMs), so every node holds the same instant and the Merkle tree covers it. Reading
 * compares it with the reading node's clock: from that instant on the version reads as a
 * tombstone — in reads, scans and `all` — so an expired winner hides concurrent siblings exactly
 * as a delete would. Pure: the time is passed in.
 */
import { registerWinner, type RegisterState, type Sibling } from './register.js'

/** The version has an expiry and it has passed at `now` (ms, HLC wall clock). */
export function isExpired (s: Sibling, now: number): boolean {
  return s.expiresAt !== undefined && s.expiresAt <= now
}

/** The version as a read at `now` sees it: an expired value becomes a tombstone (same dot and time). */
export function siblingAt (s: Sibling, now: number): Sibling {
  return isExpired(s, now) ? { node: s.node, counter: s.counter, hlc: s.hlc } : s
}

/** The version a plain read at `now` shows: the LWW winner, a tombstone if deleted or expired. */
export function winnerAt (state: RegisterState, now: number): Sibling | undefined {
  const winner = registerWinner(state)
  return winner === undefined ? undefined : siblingAt(winner, now)
}

/** True when the key reads as absent at `now`: no siblings, or the winner is deleted or expired. */
export function isAbsentAt (state: RegisterState, now: number): boolean {
  return winnerAt(state, now)?.value === undefined
}

/**
 * From when on every version is a tombstone or expired, for good (no write needed): 0 for an
 * all-tombstone state, the latest expiry when some versions expire; undefined when a version
 * lives without expiry (or the state is empty). Tombstone GC keys on it (replica/tombstones.ts).
 */
export function deadFrom (state: RegisterState): number | undefined {
  if (state.siblings.length === 0) return undefined
  let from = 0
  for (const s of state.siblings) {
    if (s.value === undefined) continue
    if (s.expiresAt === undefined) return undefined
    from = Math.max(from, s.expiresAt)
  }
  return from
}
