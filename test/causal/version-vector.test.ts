import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  EMPTY_VV, compareDots, dotEquals, isValidVersionVector, vvAdd, vvCovers, vvDescends, vvEquals, vvGet, vvJoin
} from '../../src/causal/index.js'
import type { VersionVector } from '../../src/causal/index.js'

const vvArb: fc.Arbitrary<VersionVector> = fc.dictionary(fc.constantFrom('a', 'b', 'c', 'd'), fc.integer({ min: 1, max: 6 }), { maxKeys: 4 })
const norm = (vv: VersionVector): Array<[string, number]> => Object.entries(vv).sort(([x], [y]) => (x < y ? -1 : 1))

describe('version vectors', () => {
  it('vvGet reads 0 for an unknown node', () => {
    expect(vvGet({ a: 3 }, 'a')).toBe(3)
    expect(vvGet({ a: 3 }, 'b')).toBe(0)
    expect(vvGet(EMPTY_VV, 'a')).toBe(0)
  })

  it('vvJoin is the pointwise maximum and leaves its arguments alone', () => {
    const a = { a: 1, b: 5 }
    const b = { b: 2, c: 4 }
    expect(vvJoin(a, b)).toEqual({ a: 1, b: 5, c: 4 })
    expect(a).toEqual({ a: 1, b: 5 })
    expect(b).toEqual({ b: 2, c: 4 })
  })

  it('vvAdd extends by a dot only when it is new', () => {
    const vv = { a: 2 }
    expect(vvAdd(vv, { node: 'a', counter: 3 })).toEqual({ a: 3 })
    expect(vvAdd(vv, { node: 'b', counter: 1 })).toEqual({ a: 2, b: 1 })
    expect(vvAdd(vv, { node: 'a', counter: 1 })).toBe(vv)
    expect(vv).toEqual({ a: 2 })
  })

  it('vvCovers, vvDescends and vvEquals', () => {
    expect(vvCovers({ a: 2 }, { node: 'a', counter: 2 })).toBe(true)
    expect(vvCovers({ a: 2 }, { node: 'a', counter: 3 })).toBe(false)
    expect(vvCovers({ a: 2 }, { node: 'b', counter: 1 })).toBe(false)
    expect(vvDescends({ a: 2, b: 1 }, { a: 1 })).toBe(true)
    expect(vvDescends({ a: 1 }, { a: 1, b: 1 })).toBe(false)
    expect(vvDescends({}, {})).toBe(true)
    expect(vvEquals({ a: 1, b: 2 }, { b: 2, a: 1 })).toBe(true)
    expect(vvEquals({ a: 1 }, { a: 1, b: 1 })).toBe(false)
  })

  it('dots: equality and a total order by node then counter', () => {
    expect(dotEquals({ node: 'a', counter: 1 }, { node: 'a', counter: 1 })).toBe(true)
    expect(dotEquals({ node: 'a', counter: 1 }, { node: 'b', counter: 1 })).toBe(false)
    expect(compareDots({ node: 'a', counter: 9 }, { node: 'b', counter: 1 })).toBeLessThan(0)
    expect(compareDots({ node: 'b', counter: 1 }, { node: 'a', counter: 9 })).toBeGreaterThan(0)
    expect(compareDots({ node: 'a', counter: 2 }, { node: 'a', counter: 10 })).toBeLessThan(0)
    expect(compareDots({ node: 'a', counter: 2 }, { node: 'a', counter: 2 })).toBe(0)
  })

  it('isValidVersionVector accepts positive safe integers under non-empty ids only', () => {
    expect(isValidVersionVector({})).toBe(true)
    expect(isValidVersionVector({ a: 1, b: Number.MAX_SAFE_INTEGER })).toBe(true)
    for (const bad of [null, undefined, 1, 'a', [], [1], { a: 0 }, { a: -1 }, { a: 1.5 }, { a: '1' }, { '': 1 }, { a: Number.MAX_SAFE_INTEGER + 1 }, { a: Number.NaN }]) {
      expect(isValidVersionVector(bad)).toBe(false)
    }
  })

  it('join is a least upper bound: commutative, associative, idempotent, and descends from both', () => {
    fc.assert(fc.property(vvArb, vvArb, vvArb, (a, b, c) => {
      expect(norm(vvJoin(a, b))).toEqual(norm(vvJoin(b, a)))
      expect(norm(vvJoin(vvJoin(a, b), c))).toEqual(norm(vvJoin(a, vvJoin(b, c))))
      expect(norm(vvJoin(a, a))).toEqual(norm(a))
      const j = vvJoin(a, b)
      expect(vvDescends(j, a) && vvDescends(j, b)).toBe(true)
      // Least: anything that descends from both descends from the join.
      if (vvDescends(c, a) && vvDescends(c, b)) expect(vvDescends(c, j)).toBe(true)
      expect(vvEquals(a, b)).toBe(vvDescends(a, b) && vvDescends(b, a))
      for (const node of ['a', 'b', 'c', 'd']) expect(vvGet(j, node)).toBe(Math.max(vvGet(a, node), vvGet(b, node)))
    }))
  })

  it('covers agrees with descends on single dots', () => {
    fc.assert(fc.property(vvArb, fc.constantFrom('a', 'b', 'c', 'd'), fc.integer({ min: 1, max: 7 }), (vv, node, counter) => {
      expect(vvCovers(vv, { node, counter })).toBe(vvDescends(vv, { [node]: counter }))
      expect(vvCovers(vvAdd(vv, { node, counter }), { node, counter })).toBe(true)
    }))
  })

  it('node ids that are names of Object.prototype members are ordinary ids', () => {
    // Node ids are base58 peer ids: "constructor" and "toString" are valid ones.
    expect(vvGet({}, 'constructor')).toBe(0)
    expect(vvGet({}, 'toString')).toBe(0)
    expect(vvJoin({}, { constructor: 3 })).toEqual({ constructor: 3 })
    expect(vvCovers({}, { node: 'toString', counter: 1 })).toBe(false)
    expect(vvAdd({}, { node: 'constructor', counter: 1 })).toEqual({ constructor: 1 })
    expect(vvDescends({}, { toString: 1 })).toBe(false)
  })
})
