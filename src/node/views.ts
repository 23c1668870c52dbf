/** Turning replicated states into what clients see. */
import { formatHlc } from '../clock/index.js'
import { compareSiblings, contextOf, hasConflict, registerWinner, type RegisterState, type VersionVector } from '../causal/index.js'
import { encodeContext } from '../codec/index.js'
import { counterContext, counterValue, setMembers, type CounterState, type OrSetState } from '../crdt/index.js'
import { toStoreKey, type KeySpace } from '../model/index.js'
import type { ChangeEvent, CounterResult, KvGetResult, SetResult, SiblingView } from './api.js'
import type { OrMapState } from '../crdt/index.js'
import { mapHasConflict, mapPlainValue } from './map-views.js'

/** A read's context: everything the state has seen, bound to its key. */
function readContext (space: KeySpace, key: string, vv: VersionVector): string {
  return encodeContext(toStoreKey(space, key), contextOf(vv))
}

export function counterView (key: string, state: CounterState): CounterResult {
  return { value: counterValue(state), context: readContext('counter', key, counterContext(state)) }
}

export function setView (key: string, state: OrSetState): SetResult {
  return { members: setMembers(state), context: readContext('set', key, state.vv) }
}

export function registerView (key: string, state: RegisterState, all: boolean): KvGetResult {
  const winner = registerWinner(state)
  const found = winner?.value !== undefined
  const result: KvGetResult = {
    found,
    value: found ? JSON.parse(winner.value as string) : null,
    conflict: hasConflict(state),
    context: readContext('kv', key, state.vv)
  }
  if (all) {
    // Winner first, then the rest in descending LWW order.
    result.values = [...state.siblings].sort(compareSiblings).reverse().map(s => {
      const view: SiblingView = { value: s.value === undefined ? null : JSON.parse(s.value), node: s.node, hlc: formatHlc(s.hlc) }
      if (s.value === undefined) view.deleted = true
      return view
    })
  }
  return result
}

export function changeEvent (space: KeySpace, key: string, state: unknown, origin: 'local' | 'remote'): ChangeEvent {
  switch (space) {
    case 'kv': {
      // Not registerView: a change event carries no context, and encoding one per change was
      // measurable under write load.
      const winner = registerWinner(state as RegisterState)
      const found = winner?.value !== undefined
      return { space, key, found, value: found ? JSON.parse(winner.value as string) : null, conflict: hasConflict(state as RegisterState), origin }
    }
    case 'counter':
      return { space, key, found: true, value: counterValue(state as CounterState), conflict: false, origin }
    case 'set':
      return { space, key, found: true, value: setMembers(state as OrSetState), conflict: false, origin }
    case 'map': {
      const map = state as OrMapState
      return { space, key, found: map.leaves.size > 0, value: mapPlainValue(map).value, conflict: mapHasConflict(map), origin }
    }
  }
}
