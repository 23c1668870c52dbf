import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { contextOf, type CausalContext } from '../../src/causal/index.js'
import { decodeContext, encodeCbor, encodeContext } from '../../src/codec/index.js'
import { MAX_CONTEXT_DOTS, MAX_EVENT_COUNTER, MAX_VV_ENTRIES } from '../../src/constants.js'
import { worldArbitrary } from '../helpers/crdt-laws.js'
import { registers } from '../causal/register-subject.js'

function codeOf (f: () => unknown): string | undefined {
  try { f() } catch (err) { return (err as { code?: string }).code ?? 'not a ChorusError' }
  return undefined
}

const b64 = (raw: unknown): string => Buffer.from(encodeCbor(raw)).toString('base64url')

describe('context strings', () => {
  it('every reachable version vector, with dots, survives the opaque string for its own key', () => {
    fc.assert(fc.property(worldArbitrary(registers), fc.array(fc.record({ node: fc.constantFrom('a', 'b', 'z'), counter: fc.integer({ min: 1, max: 2 ** 50 }) }), { maxLength: 4 }), (w, extra) => {
      for (const s of w.all) {
        const dots = [...new Map(extra.map(d => [`${d.node}${d.counter}`, d])).values()].sort((x, y) => x.node < y.node ? -1 : x.node > y.node ? 1 : x.counter - y.counter)
        const ctx: CausalContext = { vv: s.vv, dots }
        const text = encodeContext('r/k', ctx)
        expect(text).toMatch(/^[A-Za-z0-9_-]+$/)
        expect(decodeContext('r/k', text)).toEqual({ vv: { ...s.vv }, dots })
      }
    }), { numRuns: 60 })
  })

  it('does not depend on the order the vector was built in', () => {
    expect(encodeContext('r/k', contextOf({ b: 1, a: 2 }))).toBe(encodeContext('r/k', contextOf({ a: 2, b: 1 })))
  })

  it('regression: a context of one key is refused on another key and in another key space', () => {
    const text = encodeContext('r/x', contextOf({ a: 1 }))
    expect(decodeContext('r/x', text)).toEqual({ vv: { a: 1 }, dots: [] })
    for (const other of ['r/y', 'c/x', 's/x', 'r/x ']) {
      expect(codeOf(() => decodeContext(other, text))).toBe('ERR_INVALID_CONTEXT')
    }
    expect(() => decodeContext('r/y', text)).toThrow(/another key/)
  })

  it('refuses the unbound contexts of earlier versions with a message that says what to do', () => {
    const old = b64([['a', 1]])
    expect(codeOf(() => decodeContext('r/k', old))).toBe('ERR_INVALID_CONTEXT')
    expect(() => decodeContext('r/k', old)).toThrow(/read the key again/)
  })

  it('bounds the nodes and dots a context may name', () => {
    const tag = Buffer.from(encodeContext('r/k', contextOf({})), 'base64url')
    // [1, tag, [], []] is 84 01 48 <8 tag bytes> 80 80.
    const keyTag = new Uint8Array(tag.subarray(3, 11))
    const raw = (vv: unknown[], dots: unknown[]): string => b64([1, keyTag, vv, dots])
    // Sanity: the hand-built form is what encodeContext writes.
    expect(raw([], [])).toBe(encodeContext('r/k', contextOf({})))
    const B58 = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz'
    const id = (i: number): string => `n${B58[Math.floor(i / 3364)] ?? ''}${B58[Math.floor(i / 58) % 58] ?? ''}${B58[i % 58] ?? ''}`
    const ids = (n: number): string[] => Array.from({ length: n }, (_, i) => id(i)).sort()
    const dotsOf = (n: number): unknown[] => Array.from({ length: n }, (_, i) => ['a', i + 1])
    expect(codeOf(() => decodeContext('r/k', raw(ids(MAX_VV_ENTRIES).map(id => [id, 1]), [])))).toBeUndefined()
    expect(codeOf(() => decodeContext('r/k', raw(ids(MAX_VV_ENTRIES + 1).map(id => [id, 1]), [])))).toBe('ERR_INVALID_CONTEXT')
    expect(codeOf(() => decodeContext('r/k', raw([], dotsOf(MAX_CONTEXT_DOTS))))).toBeUndefined()
    expect(codeOf(() => decodeContext('r/k', raw([], dotsOf(MAX_CONTEXT_DOTS + 1))))).toBe('ERR_INVALID_CONTEXT')
    // Dots out of order or repeated, counters that are not positive safe integers.
    expect(codeOf(() => decodeContext('r/k', raw([], [['a', 2], ['a', 1]])))).toBe('ERR_INVALID_CONTEXT')
    expect(codeOf(() => decodeContext('r/k', raw([], [['a', 1], ['a', 1]])))).toBe('ERR_INVALID_CONTEXT')
    for (const n of [0, -1, 1.5, 2 ** 53]) expect(codeOf(() => decodeContext('r/k', raw([['a', n]], [])))).toBe('ERR_INVALID_CONTEXT')
    // Counters beyond what any replica may reach (the 2^53-1 that bricked a key, issue 10).
    expect(codeOf(() => decodeContext('r/k', raw([['a', MAX_EVENT_COUNTER]], [['b', MAX_EVENT_COUNTER]])))).toBeUndefined()
    for (const n of [MAX_EVENT_COUNTER + 1, 2 ** 53 - 1]) {
      expect(codeOf(() => decodeContext('r/k', raw([['a', n]], [])))).toBe('ERR_INVALID_CONTEXT')
      expect(codeOf(() => decodeContext('r/k', raw([], [['a', n]])))).toBe('ERR_INVALID_CONTEXT')
    }
  })

  it('anything else is ERR_INVALID_CONTEXT, never another error', () => {
    for (const bad of ['', '!', 'gA==', 'a b', '%%', 'A', b64({ a: 1 }), b64([1]), b64([2, new Uint8Array(8), [], []]), b64([1, 'tag', [], []])]) {
      expect(codeOf(() => decodeContext('r/k', bad))).toBe('ERR_INVALID_CONTEXT')
    }
    fc.assert(fc.property(fc.oneof(fc.string({ maxLength: 40 }), fc.uint8Array({ maxLength: 60 }).map(b => Buffer.from(b).toString('base64url'))), s => {
      const code = codeOf(() => decodeContext('r/k', s))
      expect(code === undefined || code === 'ERR_INVALID_CONTEXT').toBe(true)
    }), { numRuns: 500 })
  })
})
