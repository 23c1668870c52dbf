/**
 * Key-level expiry for counters and sets (docs/api.md, "Expiring keys"), as a generation:
 *
 * - `gen` names the key's current life: 0 for the first, else the expiry instant that ended the
 *   life before it. `expiresAt` (HLC wall ms) ends the current one; absent: it never ends.
 * - The join orders by generation first: a state of a later generation replaces the contents of
 *   an earlier one whole, so a late copy of an expired life can never bring its contents back.
 *   Within one generation the contents merge as always and `expiresAt` takes the maximum (a ttl
 *   write extends the life; absent is the bottom, so it never shortens it).
 * - The first write after the expiry instant E starts generation E. Every node that starts it
 *   starts the same one (E is in the replicated state), so concurrent restarts merge.
 *
 * (gen, expiresAt) ordered lexicographically is a join semilattice; the types that carry it
 * (pn-counter.ts, or-set.ts) pair it with their contents so that the product stays a join
 * (test/crdt/*.laws.test.ts). Pure.
 */

export interface Lifetime {
  /** 0 for the key's first life, else the expiry instant that started this one. */
  readonly gen: number
  /** When this life ends (HLC wall ms); absent: never. Always > gen. */
  readonly expiresAt?: number
}

/** A key that never expired and never will: what every state without expiry has. */
export const FIRST_LIFE: Lifetime = Object.freeze({ gen: 0 })

/** The life has an end and it has passed at `now` (ms, HLC wall clock). */
export function hasEnded (life: Lifetime, now: number): boolean {
  return life.expiresAt !== undefined && life.expiresAt <= now
}

/** -1, 0 or 1 as a's generation is earlier, the same or later than b's. */
export function compareGen (a: Lifetime, b: Lifetime): number {
  return a.gen === b.gen ? 0 : a.gen < b.gen ? -1 : 1
}

/** Within one generation: the later end wins, and an end beats none. */
export function joinLives (a: Lifetime, b: Lifetime): Lifetime {
  const c = compareGen(a, b)
  if (c !== 0) return c > 0 ? a : b
  if (a.expiresAt === undefined) return b
  if (b.expiresAt === undefined) return a
  return a.expiresAt >= b.expiresAt ? a : b
}

/** The life after a write at `now` with an optional ttl; the caller restarts an ended life first. */
export function extendLife (life: Lifetime, now: number, ttlMs: number | undefined): Lifetime {
  if (ttlMs === undefined) return life
  // Never before the generation began: a node whose clock lags the one that started it still
  // writes an end inside the generation (the decoder refuses expiresAt <= gen).
  const end = Math.max(life.expiresAt ?? 0, now + ttlMs, life.gen + 1)
  return { gen: life.gen, expiresAt: end }
}

/** The generation a write at `now` starts when the life has ended: the instant it ended. */
export function nextLife (life: Lifetime): Lifetime {
  return { gen: life.expiresAt ?? life.gen }
}

export function isFirstLife (life: Lifetime): boolean {
  return life.gen === 0 && life.expiresAt === undefined
}
