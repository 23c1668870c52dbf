/**
 * A multi-value register with dotted version vectors (a "DVV set", after Almeida et al. and
 * Riak's dvvset): per key, the set of concurrent versions (siblings), each identified by a
 * dot, plus a version vector of every dot seen for that key.
 *
 * A version disappears only when a write or a merge has seen its dot without keeping it, so
 * nothing concurrent is silently thrown away. Merging is a join: commutative, associative and
 * idempotent (test/causal/register.laws.test.ts).
 */
import { compareHlc, type Hlc } from '../clock/index.js'
import { MAX_SIBLINGS } from '../constants.js'
import { contextCovers, type CausalContext } from './context.js'
import { compareDots, vvAdd, vvCovers, vvGet, vvJoin, EMPTY_VV, type Dot, type VersionVector } from './version-vector.js'

export interface Sibling extends Dot {
  /** When it was written, on the writer's hybrid logical clock. */
  readonly hlc: Hlc
  /** The value as JSON text, kept verbatim so every node hashes the same bytes; absent for a delete (tombstone). */
  readonly value?: string
  /**
   * When the version expires (ms, on the HLC wall clock: the write's wall time + its ttlMs);
   * from then on it reads as a tombstone (causal/expiry.ts). Absent: never. Only values carry one.
   */
  readonly expiresAt?: number
}

export interface RegisterState {
  /** Every dot seen for this key, including those of the current siblings. */
  readonly vv: VersionVector
  /** Concurrent versions, sorted by dot (canonical form, so equal states encode equally). */
  readonly siblings: readonly Sibling[]
}

export const EMPTY_REGISTER: RegisterState = Object.freeze({ vv: EMPTY_VV, siblings: Object.freeze([]) as readonly Sibling[] })

export interface RegisterWrite {
  /** The writing node's id. */
  node: string
  hlc: Hlc
  /** JSON text of the new value; omit to write a tombstone. */
  value?: string
  /** Expire the new value this long after `hlc.wall` (ms); ignored for a tombstone. */
  ttlMs?: number
  /**
   * What the writer had seen. Omitted: everything this replica has seen, i.e. a blind
   * overwrite of all current siblings. It only selects which current siblings are superseded:
   * it never enters the state (see context.ts).
   */
  context?: CausalContext
  /**
   * The writer's counters for this key must exceed this: a node that garbage-collected keys may
   * not reuse a dot it issued before, which a peer may still hold (replica/ keeps the floor).
   * @default 0
   */
  floor?: number
}

/** LWW order of siblings: HLC, then node id, then counter — the same on every node. */
export function compareSiblings (a: Sibling, b: Sibling): number {
  return compareHlc(a.hlc, b.hlc) || (a.node < b.node ? -1 : a.node > b.node ? 1 : a.counter - b.counter)
}

/** Apply a local write (or delete) and return the new state. */
export function writeRegister (state: RegisterState, write: RegisterWrite, maxSiblings = MAX_SIBLINGS): RegisterState {
  const counter = Math.max(vvGet(state.vv, write.node), write.floor ?? 0) + 1
  const sibling: Sibling = write.value === undefined
    ? { node: write.node, counter, hlc: write.hlc }
    : write.ttlMs === undefined
      ? { node: write.node, counter, hlc: write.hlc, value: write.value }
      : { node: write.node, counter, hlc: write.hlc, value: write.value, expiresAt: write.hlc.wall + write.ttlMs }
  const context = write.context
  const survivors = context === undefined ? [] : state.siblings.filter(s => !contextCovers(context, s))
  return capSiblings({
    vv: vvAdd(state.vv, sibling),
    siblings: [...survivors, sibling].sort(compareDots)
  }, maxSiblings)
}

/**
 * The join of two replicas' states for the same key. It never applies the sibling cap: dropping
 * by LWW order during a merge is not a join (a sibling dropped for one that a third replica later
 * supersedes is lost on some replicas only, so they diverge). The cap is applied by writes, which
 * are causal events; a merged state therefore holds at most MAX_SIBLINGS per writing node.
 */
export function mergeRegisters (a: RegisterState, b: RegisterState): RegisterState {
  if (a.siblings.length === 0 && b.siblings.length === 0 && Object.keys(b.vv).length === 0) return a
  const byDot = new Map<string, Sibling>()
  const keep = (s: Sibling): void => {
    const id = `${s.counter}@${s.node}`
    const existing = byDot.get(id)
    // Honest nodes never reuse a dot; if a faulty one did, pick deterministically so all replicas agree.
    if (existing === undefined || compareSiblingContent(s, existing) > 0) byDot.set(id, s)
  }
  const inB = new Set(b.siblings.map(s => `${s.counter}@${s.node}`))
  const inA = new Set(a.siblings.map(s => `${s.counter}@${s.node}`))
  for (const s of a.siblings) if (inB.has(`${s.counter}@${s.node}`) || !vvCovers(b.vv, s)) keep(s)
  for (const s of b.siblings) if (inA.has(`${s.counter}@${s.node}`) || !vvCovers(a.vv, s)) keep(s)
  return {
    vv: vvJoin(a.vv, b.vv),
    siblings: [...byDot.values()].sort(compareDots)
  }
}

/** The version a plain read shows: the greatest sibling in LWW order, possibly a tombstone. */
export function registerWinner (state: RegisterState): Sibling | undefined {
  let best: Sibling | undefined
  for (const s of state.siblings) if (best === undefined || compareSiblings(s, best) > 0) best = s
  return best
}

export function hasConflict (state: RegisterState): boolean {
  return state.siblings.length > 1
}

/** True when the key reads as absent: no siblings, or the winner is a tombstone. */
export function isDeleted (state: RegisterState): boolean {
  return registerWinner(state)?.value === undefined
}

/**
 * Past the cap, drop the oldest siblings (LWW order). Their dots stay in the version vector,
 * so every replica treats them as superseded and the drop propagates instead of reviving.
 */
function capSiblings (state: RegisterState, maxSiblings: number): RegisterState {
  if (state.siblings.length <= maxSiblings) return state
  const newest = [...state.siblings].sort(compareSiblings).slice(-maxSiblings)
  return { vv: state.vv, siblings: newest.sort(compareDots) }
}

function compareSiblingContent (a: Sibling, b: Sibling): number {
  const byTime = compareHlc(a.hlc, b.hlc)
  if (byTime !== 0) return byTime
  // A tombstone orders before any value (even ""), so the choice never depends on argument order.
  if (a.value === undefined || b.value === undefined) return (a.value === undefined ? 0 : 1) - (b.value === undefined ? 0 : 1)
  if (a.value !== b.value) return a.value < b.value ? -1 : 1
  // Then no expiry before any expiry, earlier before later: again independent of argument order.
  return (a.expiresAt ?? -1) - (b.expiresAt ?? -1)
}
