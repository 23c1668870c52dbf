import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { decodeOrMap, encodeCanonical, encodeOrMap } from '../../src/codec/index.js'
import { MAX_MAP_DEPTH, MAX_MAP_FIELD_NAME_BYTES, MAX_MAP_STATE_FIELDS } from '../../src/constants.js'
import { worldArbitrary } from '../helpers/crdt-laws.js'
import { maps } from '../crdt/map-subject.js'

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex')
const corrupt = expect.objectContaining({ code: 'ERR_CORRUPT_DATA' })

describe('map codec', () => {
  it('decodes every reachable state to one that encodes to the same bytes', () => {
    fc.assert(fc.property(worldArbitrary(maps), w => {
      for (const s of w.all) {
        const bytes = encodeOrMap(s)
        expect(hex(encodeOrMap(decodeOrMap(bytes)))).toBe(hex(bytes))
      }
    }), { numRuns: 100 })
  })

  const vv = [['a', 3]]
  const ok = (leaves: unknown[]): Uint8Array => encodeCanonical([vv, leaves] as never)

  it('accepts a hand-written canonical state', () => {
    const s = decodeOrMap(ok([[['a'], 'c', [['a', 1, 2, 0]]], [['a'], 'r', [['a', 2, 5, 0, '1']]], [['a', 'b'], 's', [['m', [['a', 3]]]]]]))
    expect(s.leaves.size).toBe(3)
  })

  it.each([
    ['leaves out of order', [[['b'], 'c', [['a', 1, 1, 0]]], [['a'], 'c', [['a', 2, 1, 0]]]]],
    ['a nested leaf before its prefix', [[['a', 'b'], 'c', [['a', 1, 1, 0]]], [['a'], 'c', [['a', 2, 1, 0]]]]],
    ['the same field twice', [[['a'], 'c', [['a', 1, 1, 0]]], [['a'], 'c', [['a', 2, 1, 0]]]]],
    ['an unknown type', [[['a'], 'm', [['a', 1, 1, 0]]]]],
    ['an empty field', [[['a'], 'c', []]]],
    ['an empty path', [[[], 'c', [['a', 1, 1, 0]]]]],
    ['an empty name', [[[''], 'c', [['a', 1, 1, 0]]]]],
    ['a name too long', [[['x'.repeat(MAX_MAP_FIELD_NAME_BYTES + 1)], 'c', [['a', 1, 1, 0]]]]],
    ['a path too deep', [[Array.from({ length: MAX_MAP_DEPTH + 1 }, (_, i) => `n${i}`), 'c', [['a', 1, 1, 0]]]]],
    ['a dot beyond the vector', [[['a'], 'c', [['a', 4, 1, 0]]]]],
    ['a dot in two fields', [[['a'], 'c', [['a', 1, 1, 0]]], [['b'], 'c', [['a', 1, 1, 0]]]]],
    ['two shares of one node', [[['a'], 'c', [['a', 1, 1, 0], ['a', 2, 1, 0]]]]],
    ['siblings out of order', [[['a'], 'r', [['a', 2, 1, 0, '1'], ['a', 1, 1, 0, '2']]]]],
    ['a sibling without a value', [[['a'], 'r', [['a', 1, 1, 0]]]]],
    ['members out of order', [[['a'], 's', [['y', [['a', 1]]], ['x', [['a', 2]]]]]]],
    ['a member without dots', [[['a'], 's', [['x', []]]]]]
  ])('refuses %s', (_what, leaves) => {
    expect(() => decodeOrMap(ok(leaves))).toThrow(corrupt)
  })

  it(`refuses more than ${MAX_MAP_STATE_FIELDS} fields`, () => {
    const n = MAX_MAP_STATE_FIELDS + 1
    const leaves = Array.from({ length: n }, (_, i) => [[`f${String(i).padStart(6, '0')}`], 'c', [['a', i + 1, 1, 0]]])
    expect(() => decodeOrMap(encodeCanonical([[['a', n]], leaves] as never))).toThrow(corrupt)
    expect(decodeOrMap(encodeCanonical([[['a', n]], leaves.slice(1)] as never)).leaves.size).toBe(MAX_MAP_STATE_FIELDS)
  })

  it('refuses other types\' states', () => {
    expect(() => decodeOrMap(encodeCanonical([['a', 1, 1, 1]]))).toThrow(corrupt)
  })
})
