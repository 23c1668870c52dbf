/**
 * Evidence that another process writes with this node's identity.
 *
 * A node commits each of its writes before anyone else can see it, so no peer can hold a
 * version of this node's that this node does not: every state it receives counts at most as
 * many of its own events per key as it has itself. A state that counts more was written by
 * another process with the same identity — a copied data directory, a backup restored twice —
 * and writing on would reuse those counters (two different writes under one dot: one of them
 * vanishes everywhere). Pure.
 */
import { vvGet, type RegisterState } from '../causal/index.js'
import { compareGen, counterLife, type CounterState, type OrMapState, type OrSetState } from '../crdt/index.js'
import type { KeySpace } from '../model/index.js'

/** How many of `node`'s events on this key the state has seen. */
export function eventsOf (space: KeySpace, state: unknown, node: string): number {
  switch (space) {
    case 'kv': return vvGet((state as RegisterState).vv, node)
    case 'set': return vvGet((state as OrSetState).vv, node)
    case 'map': return vvGet((state as OrMapState).vv, node)
    case 'counter': return Object.hasOwn(state as CounterState, node) ? (state as CounterState)[node]?.ops ?? 0 : 0
  }
}

/**
 * Whether `remote` holds events of `self` that `local` lacks. `floor` is what this node may have
 * forgotten: the highest counter of a register it collected (a key absent here may have been
 * one, and a peer that was away may still send the old state).
 */
export function holdsOurUnknownEvents (space: KeySpace, local: unknown, remote: unknown, self: string, floor: number): boolean {
  if (space === 'counter' && countsMoreOfOurs(local as CounterState, remote as CounterState, self)) return true
  const theirs = eventsOf(space, remote, self)
  if (theirs === 0) return false
  return theirs > Math.max(eventsOf(space, local, self), floor)
}

/**
 * Our own counter totals only grow by our own increments, so no peer can hold a larger total
 * of ours, whatever its operation count says — unless someone else wrote it (a copy, or a
 * forgery that would otherwise make our next increment overflow).
 */
function countsMoreOfOurs (local: CounterState, remote: CounterState, self: string): boolean {
  // Totals are per generation (crdt/lifetime.ts): an earlier one's were dropped here, not
  // exceeded; in a later one we have written nothing yet.
  const byGen = compareGen(counterLife(remote), counterLife(local))
  if (byGen < 0) return false
  const theirs = Object.hasOwn(remote, self) ? remote[self] : undefined
  if (theirs === undefined) return false
  const ours = byGen > 0 ? undefined : Object.hasOwn(local, self) ? local[self] : undefined
  return theirs.p > (ours?.p ?? 0) || theirs.n > (ours?.n ?? 0)
}
