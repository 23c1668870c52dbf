/** Turning replicated states into what clients see. */
import { formatHlc } from '../clock/index.js'
import { compareSiblings, contextOf, hasConflict, siblingAt, winnerAt, type RegisterState, type VersionVector } from '../causal/index.js'
import { encodeContext } from '../codec/index.js'
import { counterContext, counterEnded, counterLife, counterValueAt, setEnded, setLife, setMembersAt, type CounterState, type Lifetime, type OrSetState } from '../crdt/index.js'
import { toStoreKey, type KeySpace } from '../model/index.js'
import type { ChangeEvent, CounterResult, KvGetResult, SetResult, SiblingView } from './api.js'
import type { OrMapState } from '../crdt/index.js'
import { mapHasConflict, mapPlainValue } from './map-views.js'

/** A read's context: everything the state has seen, bound to its key. */
function readContext (space: KeySpace, key: string, vv: VersionVector): string {
  return encodeContext(toStoreKey(space, key), contextOf(vv))
}

/** When the key's current life ends, for a result: only while it lives and has an end. */
function lifeEnd (life: Lifetime, now: number): { expiresAt?: number } {
  return life.expiresAt !== undefined && life.expiresAt > now ? { expiresAt: life.expiresAt } : {}
}

/** @param now the reading node's HLC wall time: an ended life reads as absent (crdt/expiring.ts). */
export function counterView (key: string, state: CounterState, now = -Infinity): CounterResult {
  return { value: counterValueAt(state, now), context: readContext('counter', key, counterContext(state)), ...lifeEnd(counterLife(state), now) }
}

export function setView (key: string, state: OrSetState, now = -Infinity): SetResult {
  return { members: setMembersAt(state, now), context: readContext('set', key, state.vv), ...lifeEnd(setLife(state), now) }
}

/**
 * @param now the reading node's HLC wall time: versions whose expiry has passed read as
 *   tombstones (causal/expiry.ts). Absent (-Infinity): nothing has expired.
 */
export function registerView (key: string, state: RegisterState, all: boolean, now = -Infinity): KvGetResult {
  const winner = winnerAt(state, now)
  const found = winner?.value !== undefined
  const result: KvGetResult = {
    found,
    value: found ? JSON.parse(winner.value as string) : null,
    conflict: hasConflict(state),
    context: readContext('kv', key, state.vv)
  }
  if (found && winner.expiresAt !== undefined) result.expiresAt = winner.expiresAt
  if (all) {
    // Winner first, then the rest in descending LWW order.
    result.values = [...state.siblings].sort(compareSiblings).reverse().map(original => {
      const s = siblingAt(original, now)
      const view: SiblingView = { value: s.value === undefined ? null : JSON.parse(s.value), node: s.node, hlc: formatHlc(s.hlc) }
      if (s.value === undefined) view.deleted = true
      if (original.expiresAt !== undefined) view.expiresAt = original.expiresAt
      return view
    })
  }
  return result
}

/** @param now as in registerView: a change that arrives already expired reads as absent. */
export function changeEvent (space: KeySpace, key: string, state: unknown, origin: 'local' | 'remote', now = -Infinity): ChangeEvent {
  switch (space) {
    case 'kv': {
      // Not registerView: a change event carries no context, and encoding one per change was
      // measurable under write load.
      const winner = winnerAt(state as RegisterState, now)
      const found = winner?.value !== undefined
      return { space, key, found, value: found ? JSON.parse(winner.value as string) : null, conflict: hasConflict(state as RegisterState), origin }
    }
    case 'counter':
      return { space, key, found: !counterEnded(state as CounterState, now), value: counterValueAt(state as CounterState, now), conflict: false, origin }
    case 'set':
      return { space, key, found: !setEnded(state as OrSetState, now), value: setMembersAt(state as OrSetState, now), conflict: false, origin }
    case 'map': {
      const map = state as OrMapState
      return { space, key, found: map.leaves.size > 0, value: mapPlainValue(map).value, conflict: mapHasConflict(map), origin }
    }
  }
}
