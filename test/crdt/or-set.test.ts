import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { EMPTY_OR_SET, addMembers, mergeOrSets, removeMembers, setMembers } from '../../src/crdt/index.js'
import type { OrSetState } from '../../src/crdt/index.js'
import { encodeOrSet } from '../../src/codec/index.js'
import { crdtLaws, worldArbitrary } from '../helpers/crdt-laws.js'
import { sets } from './subjects.js'

crdtLaws(sets)

const hex = (s: OrSetState): string => Buffer.from(encodeOrSet(s)).toString('hex')
const entriesOf = (s: OrSetState): Array<[string, string[]]> =>
  [...s.entries].sort(([a], [b]) => (a < b ? -1 : 1)).map(([m, ds]) => [m, ds.map(d => `${d.node}${d.counter}`)])

describe('OR-set', () => {
  it('adds give each member one dot from the adding node', () => {
    const s = addMembers(EMPTY_OR_SET, 'a', ['x', 'y'])
    expect(s.vv).toEqual({ a: 2 })
    expect(entriesOf(s)).toEqual([['x', ['a1']], ['y', ['a2']]])
    expect(setMembers(s)).toEqual(['x', 'y'])
  })

  it('re-adding replaces the member\'s observed dots with the new one', () => {
    const a = addMembers(EMPTY_OR_SET, 'a', ['x'])
    const b = addMembers(EMPTY_OR_SET, 'b', ['x'])
    const m = mergeOrSets(a, b)
    expect(entriesOf(m)).toEqual([['x', ['a1', 'b1']]])
    const again = addMembers(m, 'a', ['x'])
    expect(entriesOf(again)).toEqual([['x', ['a2']]])
    expect(again.vv).toEqual({ a: 2, b: 1 })
  })

  it('add wins: a concurrent add and remove of the same member keeps it on both replicas', () => {
    const base = addMembers(EMPTY_OR_SET, 'a', ['x'])
    const atB = mergeOrSets(EMPTY_OR_SET, base)
    const removed = removeMembers(base, ['x']) // on a
    const readded = addMembers(atB, 'b', ['x']) // on b, concurrently
    const m1 = mergeOrSets(removed, readded)
    const m2 = mergeOrSets(readded, removed)
    expect(setMembers(m1)).toEqual(['x'])
    expect(hex(m1)).toBe(hex(m2))
    expect(entriesOf(m1)).toEqual([['x', ['b1']]])
  })

  it('a remove of an observed member propagates to replicas that still have it', () => {
    const a = addMembers(EMPTY_OR_SET, 'a', ['x', 'y'])
    const b = mergeOrSets(EMPTY_OR_SET, a)
    const removed = removeMembers(a, ['x'])
    expect(setMembers(mergeOrSets(b, removed))).toEqual(['y'])
    expect(setMembers(mergeOrSets(removed, b))).toEqual(['y'])
    expect(hex(mergeOrSets(b, removed))).toBe(hex(removed))
  })

  it('removed members leave no state behind, only the version vector advances', () => {
    const before = addMembers(EMPTY_OR_SET, 'a', ['keep'])
    const after = removeMembers(addMembers(before, 'a', ['gone', 'also']), ['gone', 'also'])
    expect([...after.entries.keys()]).toEqual(['keep'])
    expect(entriesOf(after)).toEqual(entriesOf(before))
    expect(after.vv).toEqual({ a: 3 })
    expect(encodeOrSet(after).length).toBe(encodeOrSet({ entries: before.entries, vv: after.vv }).length)
  })

  it('property: after add then remove of fresh members, entries equal those before', () => {
    fc.assert(fc.property(worldArbitrary(sets), fc.nat(), fc.array(fc.string({ maxLength: 3 }), { maxLength: 4 }), (w, i, extra) => {
      const s = w.all[i % w.all.length] as OrSetState
      const fresh = extra.map(m => `fresh:${m}`)
      const after = removeMembers(addMembers(s, 'a', fresh), fresh)
      expect(entriesOf(after)).toEqual(entriesOf(s))
      expect(hex({ entries: after.entries, vv: s.vv })).toBe(hex(s))
    }), { numRuns: 100 })
  })

  it('removing a member that is absent returns the same state', () => {
    const s = addMembers(EMPTY_OR_SET, 'a', ['x'])
    expect(removeMembers(s, ['nope'])).toBe(s)
    expect(removeMembers(EMPTY_OR_SET, ['x'])).toBe(EMPTY_OR_SET)
  })

  it('does not mutate earlier states', () => {
    const s = addMembers(EMPTY_OR_SET, 'a', ['x'])
    const before = hex(s)
    addMembers(s, 'a', ['y'])
    removeMembers(s, ['x'])
    mergeOrSets(s, addMembers(EMPTY_OR_SET, 'b', ['x']))
    expect(hex(s)).toBe(before)
    expect(EMPTY_OR_SET.entries.size).toBe(0)
  })

  it('members are sorted by UTF-16 code units', () => {
    const s = addMembers(EMPTY_OR_SET, 'a', ['b', 'B', 'a', 'é', '', '10', '9'])
    expect(setMembers(s)).toEqual(['', '10', '9', 'B', 'a', 'b', 'é'])
  })

  it('model check: with every state exchanged, membership is add-wins over observed removes', () => {
    // Sequential single-replica runs behave like a plain set.
    fc.assert(fc.property(fc.array(sets.op, { maxLength: 20 }), ops => {
      let s = EMPTY_OR_SET
      const model = new Set<string>()
      for (const op of ops) {
        if (op.kind === 'add') { s = addMembers(s, 'a', op.members); for (const m of op.members) model.add(m) } else { s = removeMembers(s, op.members); for (const m of op.members) model.delete(m) }
      }
      expect(setMembers(s)).toEqual([...model].sort())
    }))
  })

  it('every reachable member has sorted, unique dots covered by the vector', () => {
    fc.assert(fc.property(worldArbitrary(sets), w => {
      for (const s of w.all) {
        for (const dots of s.entries.values()) {
          expect(dots.length).toBeGreaterThan(0)
          const ids = dots.map(d => `${d.node}:${String(d.counter).padStart(6, '0')}`)
          expect(ids).toEqual([...new Set(ids)].sort())
          for (const d of dots) expect(d.counter).toBeLessThanOrEqual(s.vv[d.node] ?? 0)
        }
      }
    }), { numRuns: 100 })
  })
})
