import { describe, expect, it } from 'vitest'
import { contextOf } from '../../src/causal/index.js'
import { encodeOrMap } from '../../src/codec/index.js'
import { EMPTY_OR_MAP, clearOrMap, leafId, mergeOrMaps, updateOrMap, type MapOp, type MapWrite, type OrMapState } from '../../src/crdt/index.js'
import { mapPlainValue, mapView } from '../../src/node/map-views.js'
import { crdtLaws } from '../helpers/crdt-laws.js'
import { maps } from './map-subject.js'

crdtLaws(maps)

let wall = 0
function w (node: string, extra: Partial<MapWrite> = {}): MapWrite {
  return { node, hlc: () => ({ wall: ++wall, logical: 0 }), maxSiblings: 32, ...extra }
}
const up = (state: OrMapState, node: string, ops: MapOp[], extra: Partial<MapWrite> = {}): OrMapState => updateOrMap(state, ops, w(node, extra)).state
const plain = (s: OrMapState): unknown => JSON.parse(JSON.stringify(mapPlainValue(s).value))
const hex = (s: OrMapState): string => Buffer.from(encodeOrMap(s)).toString('hex')

describe('OR-map', () => {
  const base = up(EMPTY_OR_MAP, 'a', [
    { op: 'set', field: 'title', json: '"draft"' },
    { op: 'incr', field: 'views', by: 2 },
    { op: 'add', field: 'tags', members: ['x', 'y'] },
    { op: 'update', field: 'address', ops: [{ op: 'set', field: 'city', json: '"Oslo"' }] }
  ])

  it('shows its fields as plain JSON, nested maps as objects', () => {
    expect(plain(base)).toEqual({ address: { city: 'Oslo' }, tags: ['x', 'y'], title: 'draft', views: 2 })
    expect(base.vv).toEqual({ a: 5 })
  })

  it('keeps concurrent edits of different fields, on every replica alike', () => {
    const onB = up(base, 'b', [{ op: 'set', field: 'title', json: '"final"' }])
    const onC = up(base, 'c', [{ op: 'incr', field: 'views', by: 1 }, { op: 'update', field: 'address', ops: [{ op: 'set', field: 'zip', json: '"0150"' }] }])
    const bc = mergeOrMaps(onB, onC)
    expect(hex(bc)).toBe(hex(mergeOrMaps(onC, onB)))
    expect(plain(bc)).toEqual({ address: { city: 'Oslo', zip: '0150' }, tags: ['x', 'y'], title: 'final', views: 3 })
    expect(mapView('k', bc, false).conflict).toBe(false)
  })

  it('turns concurrent writes of one register field into siblings, with the LWW winner shown', () => {
    const onB = up(base, 'b', [{ op: 'set', field: 'title', json: '"B"' }])
    const onC = up(base, 'c', [{ op: 'set', field: 'title', json: '"C"' }])
    const view = mapView('k', mergeOrMaps(onB, onC), true)
    expect(view.conflict).toBe(true)
    expect(view.conflicts).toEqual([['title']])
    expect(view.value.title).toBe('C') // written later by the shared test clock
    const title = view.fields?.find(f => f.path[0] === 'title')
    expect(title?.values?.map(v => v.value)).toEqual(['C', 'B'])
    // A write with the read's context resolves them.
    const resolved = up(mergeOrMaps(onB, onC), 'b', [{ op: 'set', field: 'title', json: '"BC"' }], { context: contextOf(mergeOrMaps(onB, onC).vv) })
    expect(mapView('k', resolved, false).conflict).toBe(false)
  })

  it('a write with an older context keeps the sibling it did not see', () => {
    const seen = contextOf(base.vv)
    const onC = up(base, 'c', [{ op: 'set', field: 'title', json: '"C"' }])
    const atB = mergeOrMaps(base, onC)
    const after = up(atB, 'b', [{ op: 'set', field: 'title', json: '"B"' }], { context: seen })
    expect(mapView('k', after, true).fields?.find(f => f.path[0] === 'title')?.values?.map(v => v.value).sort()).toEqual(['B', 'C'])
  })

  it('a field removed on one node and updated concurrently on another survives with the update (update wins)', () => {
    const removed = up(base, 'b', [
      { op: 'delete', field: 'title', type: 'register' },
      { op: 'delete', field: 'tags', type: 'set' },
      { op: 'delete', field: 'address', type: 'map' }
    ])
    expect(plain(removed)).toEqual({ views: 2 })
    const updated = up(base, 'c', [
      { op: 'set', field: 'title', json: '"kept"' },
      { op: 'add', field: 'tags', members: ['z'] },
      { op: 'update', field: 'address', ops: [{ op: 'set', field: 'zip', json: '"1"' }] }
    ])
    const m = mergeOrMaps(removed, updated)
    // Only what the remover had not seen survives: the new title, member z, the new zip (not the old city).
    expect(plain(m)).toEqual({ address: { zip: '1' }, tags: ['z'], title: 'kept', views: 2 })
    expect(hex(m)).toBe(hex(mergeOrMaps(updated, removed)))
  })

  it('a removed counter field concurrently incremented keeps the incrementing node\'s whole share', () => {
    const both = mergeOrMaps(base, up(base, 'b', [{ op: 'incr', field: 'views', by: 10 }])) // a: 2, b: 10
    const removedOnA = up(both, 'a', [{ op: 'delete', field: 'views', type: 'counter' }])
    const incrOnB = up(both, 'b', [{ op: 'incr', field: 'views', by: 1 }])
    const m = mergeOrMaps(removedOnA, incrOnB)
    // a's share is gone; b's share (10 + 1) carries a dot the remover never saw.
    expect(plain(m)).toEqual(expect.objectContaining({ views: 11 }))
    // Incremented after the remove was seen: it starts from zero.
    expect(plain(up(removedOnA, 'a', [{ op: 'incr', field: 'views', by: 1 }]))).toEqual(expect.objectContaining({ views: 1 }))
  })

  it('fields of the same name and different types never collide; `mixed` says so', () => {
    const m = up(EMPTY_OR_MAP, 'a', [
      { op: 'set', field: 'n', json: '"text"' },
      { op: 'incr', field: 'n', by: 4 },
      { op: 'update', field: 'n', ops: [{ op: 'incr', field: 'inner', by: 1 }] }
    ])
    expect(m.leaves.size).toBe(3)
    const view = mapView('k', m, true)
    expect(view.value.n).toBe('text')
    expect(view.mixed).toEqual([['n']])
    expect(view.fields?.map(f => [f.path, f.type, f.value])).toEqual([[['n'], 'register', 'text'], [['n'], 'counter', 4], [['n', 'inner'], 'counter', 1]])
    const noRegister = up(m, 'a', [{ op: 'delete', field: 'n', type: 'register' }])
    expect(noRegister.leaves.has(leafId(['n'], 'register'))).toBe(false)
    expect(mapView('k', noRegister, false).value.n).toBe(4)
  })

  it('applies the ops of one update in order, each seeing those before it', () => {
    const m = up(EMPTY_OR_MAP, 'a', [{ op: 'set', field: 't', json: '1' }, { op: 'set', field: 't', json: '2' }, { op: 'add', field: 's', members: ['x'] }, { op: 'remove', field: 's', members: ['x'] }])
    expect(plain(m)).toEqual({ t: 2 })
    expect(mapView('k', m, false).conflict).toBe(false)
  })

  it('map.delete empties the map but keeps what it has seen; a concurrent update survives', () => {
    const cleared = clearOrMap(base, w('b')).state
    expect(cleared.leaves.size).toBe(0)
    expect(cleared.vv).toEqual(base.vv)
    const concurrent = up(base, 'c', [{ op: 'incr', field: 'views', by: 1 }])
    // c's share (its own increment) survives; a's share, which b saw, is gone.
    expect(plain(mergeOrMaps(cleared, concurrent))).toEqual({ views: 1 })
    expect(mapView('k', mergeOrMaps(cleared, base), false).found).toBe(false)
  })

  it('handles the extremes: empty, deep, wide, a field named __proto__', () => {
    expect(hex(mergeOrMaps(EMPTY_OR_MAP, EMPTY_OR_MAP))).toBe(hex(EMPTY_OR_MAP))
    let deep: MapOp = { op: 'set', field: 'leaf', json: 'true' }
    for (let i = 7; i >= 1; i--) deep = { op: 'update', field: `l${i}`, ops: [deep] }
    const d = up(EMPTY_OR_MAP, 'a', [deep])
    expect([...d.leaves.values()][0]?.path).toHaveLength(8)
    expect(plain(d)).toEqual({ l1: { l2: { l3: { l4: { l5: { l6: { l7: { leaf: true } } } } } } } })
    const wide = up(EMPTY_OR_MAP, 'a', Array.from({ length: 1000 }, (_, i): MapOp => ({ op: 'incr', field: `f${i}`, by: i })))
    expect(wide.leaves.size).toBe(1000)
    expect(hex(mergeOrMaps(wide, up(EMPTY_OR_MAP, 'b', [{ op: 'incr', field: 'f1', by: 1 }])))).toBe(hex(mergeOrMaps(up(EMPTY_OR_MAP, 'b', [{ op: 'incr', field: 'f1', by: 1 }]), wide)))
    const proto = up(EMPTY_OR_MAP, 'a', [{ op: 'set', field: '__proto__', json: '{"polluted":true}' }])
    const value = mapPlainValue(proto).value
    expect(Object.getPrototypeOf(value)).toBe(null)
    expect(JSON.parse(JSON.stringify(value))).toEqual(JSON.parse('{"__proto__":{"polluted":true}}'))
    expect(({} as Record<string, unknown>).polluted).toBeUndefined()
  })
})
