/**
 * Turning a map state into what clients see: `value`, the fields as plain JSON (a register's
 * winner by LWW as `kv.get` shows it, a counter's number, a set's sorted members, a nested map's
 * object), the register fields in conflict, and with `all` every field with its type and siblings.
 */
import { contextOf } from '../causal/index.js'
import { compareHlc, formatHlc } from '../clock/index.js'
import { encodeContext } from '../codec/index.js'
import type { MapLeaf, MapSibling, OrMapState, RegisterLeaf } from '../crdt/index.js'
import { toStoreKey } from '../model/index.js'
import type { MapFieldView, MapGetResult, SiblingView } from './api.js'

/** LWW order, the same as kv's (causal/register.ts compareSiblings). */
function compareLww (a: MapSibling, b: MapSibling): number {
  return compareHlc(a.hlc, b.hlc) || (a.node < b.node ? -1 : a.node > b.node ? 1 : a.counter - b.counter)
}

function winner (leaf: RegisterLeaf): MapSibling {
  return leaf.siblings.reduce((best, s) => compareLww(s, best) > 0 ? s : best)
}

function plainOf (leaf: MapLeaf): unknown {
  switch (leaf.type) {
    case 'register': return JSON.parse(winner(leaf).value)
    case 'counter': return leaf.shares.reduce((sum, s) => sum + s.p - s.n, 0)
    case 'set': return [...leaf.members.keys()].sort()
  }
}

/** One level of the map: per name, the leaves of each type and the nested map. */
interface Level { names: Map<string, { leaves: MapLeaf[], nested?: Level }> }

function levelsOf (state: OrMapState): Level {
  const top: Level = { names: new Map() }
  for (const leaf of state.leaves.values()) {
    let level = top
    leaf.path.forEach((name, i) => {
      let entry = level.names.get(name)
      if (entry === undefined) {
        entry = { leaves: [] }
        level.names.set(name, entry)
      }
      if (i === leaf.path.length - 1) {
        entry.leaves.push(leaf)
      } else {
        entry.nested ??= { names: new Map() }
        level = entry.nested
      }
    })
  }
  return top
}

const TYPE_ORDER = { register: 0, counter: 1, set: 2 } as const

/** A null-prototype object, so that a field named `__proto__` is just a field. */
function plainLevel (level: Level, path: string[], mixed: string[][]): Record<string, unknown> {
  const out = Object.create(null) as Record<string, unknown>
  for (const name of [...level.names.keys()].sort()) {
    const entry = level.names.get(name) as { leaves: MapLeaf[], nested?: Level }
    const leaves = [...entry.leaves].sort((a, b) => TYPE_ORDER[a.type] - TYPE_ORDER[b.type])
    if (leaves.length + (entry.nested === undefined ? 0 : 1) > 1) mixed.push([...path, name])
    const first = leaves[0]
    out[name] = first !== undefined ? plainOf(first) : plainLevel(entry.nested as Level, [...path, name], mixed)
  }
  return out
}

/** The map's plain JSON value and the paths of names holding several types. */
export function mapPlainValue (state: OrMapState): { value: Record<string, unknown>, mixed: string[][] } {
  const mixed: string[][] = []
  return { value: plainLevel(levelsOf(state), [], mixed), mixed }
}

/** Path name by name (a prefix first), then register, counter, set. */
function compareFields (a: MapLeaf, b: MapLeaf): number {
  const n = Math.min(a.path.length, b.path.length)
  for (let i = 0; i < n; i++) {
    const x = a.path[i] as string
    const y = b.path[i] as string
    if (x !== y) return x < y ? -1 : 1
  }
  return a.path.length - b.path.length || TYPE_ORDER[a.type] - TYPE_ORDER[b.type]
}

function conflictPaths (state: OrMapState): string[][] {
  return [...state.leaves.values()]
    .filter(leaf => leaf.type === 'register' && leaf.siblings.length > 1)
    .sort(compareFields)
    .map(leaf => [...leaf.path])
}

function fieldView (leaf: MapLeaf): MapFieldView {
  const view: MapFieldView = { path: [...leaf.path], type: leaf.type, value: plainOf(leaf) }
  if (leaf.type === 'register') {
    view.conflict = leaf.siblings.length > 1
    view.values = [...leaf.siblings].sort(compareLww).reverse()
      .map((s): SiblingView => ({ value: JSON.parse(s.value), node: s.node, hlc: formatHlc(s.hlc) }))
  }
  return view
}

export function mapView (key: string, state: OrMapState, all: boolean): MapGetResult {
  const { value, mixed } = mapPlainValue(state)
  const conflicts = conflictPaths(state)
  const result: MapGetResult = {
    found: state.leaves.size > 0,
    value,
    conflict: conflicts.length > 0,
    conflicts,
    context: encodeContext(toStoreKey('map', key), contextOf(state.vv))
  }
  if (mixed.length > 0) result.mixed = mixed
  if (all) {
    result.fields = [...state.leaves.values()].sort(compareFields).map(fieldView)
  }
  return result
}

/** Whether some register field has siblings. */
export function mapHasConflict (state: OrMapState): boolean {
  for (const leaf of state.leaves.values()) if (leaf.type === 'register' && leaf.siblings.length > 1) return true
  return false
}
