import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { mergeRegisters } from '../../src/causal/index.js'
import type { RegisterState, VersionVector } from '../../src/causal/index.js'
import {
  decodeVersionVector, decodeCounter, decodeOrSet, decodeRegister, encodeVersionVector, encodeCounter, encodeCbor, encodeOrSet, encodeRegister, decodeCbor
} from '../../src/codec/index.js'
import { EMPTY_COUNTER, EMPTY_OR_SET, addMembers, counterValue, incrementCounter, mergeCounters, mergeOrSets, setMembers } from '../../src/crdt/index.js'
import type { CounterState, OrSetState } from '../../src/crdt/index.js'
import { EMPTY_REGISTER, writeRegister } from '../../src/causal/index.js'
import { worldArbitrary } from '../helpers/crdt-laws.js'
import { registers } from '../causal/register-subject.js'
import { counters, sets } from '../crdt/subjects.js'

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex')

interface Codec<S> { name: string, encode: (s: S) => Uint8Array, decode: (b: Uint8Array) => S }
const codecs: Array<Codec<unknown>> = [
  { name: 'register', encode: encodeRegister as (s: unknown) => Uint8Array, decode: decodeRegister },
  { name: 'counter', encode: encodeCounter as (s: unknown) => Uint8Array, decode: decodeCounter },
  { name: 'set', encode: encodeOrSet as (s: unknown) => Uint8Array, decode: decodeOrSet }
]

/** Decodes, or throws an error with exactly `code`; anything else fails the test. */
function decodesOrThrows<T> (decode: () => T, code: string): T | undefined {
  try {
    return decode()
  } catch (err) {
    expect((err as { code?: unknown }).code).toBe(code)
    return undefined
  }
}

function expectCode (fn: () => unknown, code: string): void {
  let thrown: unknown
  try { fn() } catch (err) { thrown = err }
  expect(thrown, 'expected a throw').toBeDefined()
  expect((thrown as { code?: unknown }).code).toBe(code)
}

const corrupt = (fn: () => unknown): void => expectCode(fn, 'ERR_CORRUPT_DATA')

describe('round trips of reachable states', () => {
  it('registers: decode(encode(s)) equals s and encode(decode(bytes)) equals bytes', () => {
    fc.assert(fc.property(worldArbitrary(registers), w => {
      for (const s of w.all) {
        const bytes = encodeRegister(s)
        const back = decodeRegister(bytes)
        expect(back).toEqual(s)
        expect(hex(encodeRegister(back))).toBe(hex(bytes))
      }
    }), { numRuns: 60 })
  })

  it('counters', () => {
    fc.assert(fc.property(worldArbitrary(counters), w => {
      for (const s of w.all) {
        const bytes = encodeCounter(s)
        const back = decodeCounter(bytes)
        expect(back).toEqual(s)
        expect(counterValue(back)).toBe(counterValue(s))
        expect(hex(encodeCounter(back))).toBe(hex(bytes))
      }
    }), { numRuns: 60 })
  })

  it('sets', () => {
    fc.assert(fc.property(worldArbitrary(sets), w => {
      for (const s of w.all) {
        const bytes = encodeOrSet(s)
        const back = decodeOrSet(bytes)
        expect(back.vv).toEqual(s.vv)
        expect([...back.entries].sort()).toEqual([...s.entries].sort())
        expect(hex(encodeOrSet(back))).toBe(hex(bytes))
      }
    }), { numRuns: 60 })
  })

  it('the encoding of equal states does not depend on insertion order', () => {
    const x = mergeCounters(incrementCounter(EMPTY_COUNTER, 'b', 1), incrementCounter(EMPTY_COUNTER, 'a', 2))
    const y = mergeCounters(incrementCounter(EMPTY_COUNTER, 'a', 2), incrementCounter(EMPTY_COUNTER, 'b', 1))
    expect(Object.keys(x)).not.toEqual(Object.keys(y))
    expect(hex(encodeCounter(x))).toBe(hex(encodeCounter(y)))
    const s1 = mergeOrSets(addMembers(EMPTY_OR_SET, 'b', ['y']), addMembers(EMPTY_OR_SET, 'a', ['x']))
    const s2 = mergeOrSets(addMembers(EMPTY_OR_SET, 'a', ['x']), addMembers(EMPTY_OR_SET, 'b', ['y']))
    expect(hex(encodeOrSet(s1))).toBe(hex(encodeOrSet(s2)))
  })

  it('exact layouts', () => {
    const reg = writeRegister(EMPTY_REGISTER, { node: 'a', hlc: { wall: 5, logical: 1 }, value: '"v"' })
    expect(decodeCbor(encodeRegister(reg), 't')).toEqual([[['a', 1]], [['a', 1, 5, 1, '"v"']]])
    const del = writeRegister(reg, { node: 'a', hlc: { wall: 6, logical: 0 } })
    expect(decodeCbor(encodeRegister(del), 't')).toEqual([[['a', 2]], [['a', 2, 6, 0]]])
    expect(decodeCbor(encodeCounter(incrementCounter(EMPTY_COUNTER, 'a', -3)), 't')).toEqual([['a', 0, 3, 1]])
    expect(decodeCbor(encodeOrSet(addMembers(EMPTY_OR_SET, 'a', ['m'])), 't')).toEqual([[['a', 1]], [['m', [['a', 1]]]]])
    expect(hex(encodeRegister(EMPTY_REGISTER))).toBe('828080')
    expect(hex(encodeCounter(EMPTY_COUNTER))).toBe('80')
    expect(hex(encodeOrSet(EMPTY_OR_SET))).toBe('828080')
    expect(hex(encodeVersionVector({}))).toBe('80')
  })

  it('values are kept verbatim, including any Unicode', () => {
    const value = JSON.stringify({ s: 'é😀\u0000', n: 1.5 })
    const reg = writeRegister(EMPTY_REGISTER, { node: 'a', hlc: { wall: 1, logical: 0 }, value })
    expect(decodeRegister(encodeRegister(reg)).siblings[0]?.value).toBe(value)
  })

  it('node ids that are names of Object.prototype members decode into working states', () => {
    const reg = mergeRegisters(
      writeRegister(EMPTY_REGISTER, { node: 'constructor', hlc: { wall: 1, logical: 0 }, value: '1' }),
      writeRegister(EMPTY_REGISTER, { node: 'toString', hlc: { wall: 1, logical: 0 }, value: '2' }))
    const back = decodeRegister(encodeRegister(reg))
    expect(back).toEqual(reg)
    expect(hex(encodeRegister(mergeRegisters(back, back)))).toBe(hex(encodeRegister(reg)))
    const counter = decodeCounter(encodeCounter(incrementCounter(EMPTY_COUNTER, 'constructor', 4)))
    expect(counterValue(mergeCounters(EMPTY_COUNTER, counter))).toBe(4)
    const set = decodeOrSet(encodeOrSet(addMembers(EMPTY_OR_SET, 'constructor', ['toString'])))
    expect(setMembers(mergeOrSets(EMPTY_OR_SET, set))).toEqual(['toString'])
    expect(decodeVersionVector(encodeVersionVector({ constructor: 2 }), 't')).toEqual({ constructor: 2 })
  })
})

describe('strict decoding', () => {
  const reg = (raw: unknown): RegisterState => decodeRegister(encodeCbor(raw))
  const ctr = (raw: unknown): CounterState => decodeCounter(encodeCbor(raw))
  const set = (raw: unknown): OrSetState => decodeOrSet(encodeCbor(raw))

  it('rejects bytes that are not CBOR, trailing bytes, and undefined', () => {
    for (const { decode } of codecs) {
      corrupt(() => decode(new Uint8Array([])))
      corrupt(() => decode(new Uint8Array([0xff])))
      corrupt(() => decode(new Uint8Array([0x82, 0x80]))) // truncated
      corrupt(() => decode(new Uint8Array([0x80, 0x80]))) // trailing
      corrupt(() => decode(new Uint8Array([0xf7]))) // undefined
    }
  })

  it('registers: rejects wrong shapes and values', () => {
    for (const bad of [
      null, 1, 'x', [], [[]], [[], [], []], [{}, []], [[], {}],
      [[['a', 1]], [['a', 1, 0]]], // sibling too short
      [[['a', 1]], [['a', 1, 0, 0, '1', 'extra']]], // too long
      [[['a', 1]], [['a', 0, 0, 0]]], // dot counter 0
      [[['a', 1]], [['a', 1, -1, 0]]], // negative wall
      [[['a', 1]], [['a', 1, 0, 1.5]]], // fractional logical
      [[['a', 1]], [['a', 1, 0, 0, 7]]], // value not a string
      [[['a', 1]], [['a', 1, 0, 0, null]]],
      [[['a', 1]], [['a', 2, 0, 0]]], // sibling not covered by vv
      [[['a', 1]], [['b', 1, 0, 0]]],
      [[], [['constructor', 1, 0, 0]]], // not covered, whatever the node id
      [[], [['toString', 1, 0, 0, '1']]],
      [[['a', 0]], []], // vv counter 0
      [[['a', 1.5]], []],
      [[['', 1]], []], // empty node id
      [[['a/b', 1]], []], // not base58
      [[['0OIl', 1]], []],
      [[[1, 1]], []],
      [[['a', 1, 2]], []],
      [[['a', Number.MAX_SAFE_INTEGER + 2]], []]
    ]) corrupt(() => reg(bad))
  })

  it('registers: rejects non-canonical orderings and duplicates', () => {
    corrupt(() => reg([[['b', 1], ['a', 1]], []])) // vv unsorted
    corrupt(() => reg([[['a', 1], ['a', 2]], []])) // vv duplicate
    corrupt(() => reg([[['a', 2], ['b', 1]], [['b', 1, 0, 0], ['a', 1, 0, 0]]])) // siblings unsorted by node
    corrupt(() => reg([[['a', 2]], [['a', 2, 0, 0], ['a', 1, 0, 0]]])) // by counter
    corrupt(() => reg([[['a', 2]], [['a', 1, 0, 0], ['a', 1, 0, 0]]])) // duplicate dot
    corrupt(() => reg([[['a', 2]], [['a', 1, 0, 0, '1'], ['a', 1, 0, 0, '2']]]))
    expect(reg([[['a', 2], ['b', 1]], [['a', 1, 0, 0], ['a', 2, 3, 4, '"x"'], ['b', 1, 0, 0]]]).siblings).toHaveLength(3)
  })

  it('counters: rejects wrong shapes, bad totals and non-canonical order', () => {
    for (const bad of [
      null, {}, [[]], [['a', 1, 0]], [['a', 1, 0, 1, 0]], [['a', -1, 0, 1]], [['a', 0, 1.5, 1]], [['a', 0, 0, '1']],
      [['', 1, 0, 1]], [['a_b', 1, 0, 1]], [[7, 1, 0, 1]],
      [['b', 1, 0, 1], ['a', 1, 0, 1]], // unsorted
      [['a', 1, 0, 1], ['a', 2, 0, 2]] // duplicate
    ]) corrupt(() => ctr(bad))
    expect(ctr([['a', 1, 0, 1], ['b', 0, 2, 1]])).toEqual({ a: { p: 1, n: 0, ops: 1 }, b: { p: 0, n: 2, ops: 1 } })
  })

  it('sets: rejects wrong shapes, uncovered dots, members without dots and non-canonical order', () => {
    for (const bad of [
      null, [], [[]], [[], {}], [[], [], []],
      [[['a', 1]], [['x']]],
      [[['a', 1]], [[1, [['a', 1]]]]], // member not a string
      [[['a', 1]], [['x', []]]], // no dots
      [[['a', 1]], [['x', [['a', 2]]]]], // dot not covered
      [[], [['x', [['constructor', 1]]]]],
      [[['a', 1]], [['x', [['a', 0]]]]],
      [[['a', 1]], [['x', [['a']]]]],
      [[['a', 2]], [['y', [['a', 1]]], ['x', [['a', 2]]]]], // members unsorted
      [[['a', 2]], [['x', [['a', 1]]], ['x', [['a', 2]]]]], // duplicate member
      [[['a', 2], ['b', 1]], [['x', [['b', 1], ['a', 1]]]]], // dots unsorted
      [[['a', 2]], [['x', [['a', 2], ['a', 1]]]]],
      [[['a', 2]], [['x', [['a', 1], ['a', 1]]]]] // duplicate dot
    ]) corrupt(() => set(bad))
    const ok = set([[['a', 2], ['b', 1]], [['', [['a', 2]]], ['x', [['a', 1], ['b', 1]]]]])
    expect(setMembers(ok)).toEqual(['', 'x'])
  })

  it('rejects encodings that are not the canonical one for the same data', () => {
    const canonical = encodeCounter(incrementCounter(EMPTY_COUNTER, 'a', 1)) // [["a", 1, 0, 1]]
    expect(hex(canonical)).toBe('81846161010001')
    expect(decodeCounter(canonical)).toEqual({ a: { p: 1, n: 0, ops: 1 } })
    corrupt(() => decodeCounter(Buffer.from('8184616118010001', 'hex'))) // 1 as a one-byte uint
    corrupt(() => decodeCounter(Buffer.from('818461610100f93c00', 'hex'))) // 1 as a half float
    corrupt(() => decodeCounter(Buffer.from('9f846161010001ff', 'hex'))) // indefinite-length array
    corrupt(() => decodeCounter(Buffer.from('81847f6161ff010001', 'hex'))) // indefinite-length string
    corrupt(() => decodeCounter(Buffer.from('81846180010001', 'hex'))) // invalid UTF-8 node id
    const reg = encodeRegister(writeRegister(EMPTY_REGISTER, { node: 'a', hlc: { wall: 0, logical: 0 }, value: '1' }))
    expect(hex(reg)).toBe('8281826161018185616101000061' + '31')
    corrupt(() => decodeRegister(Buffer.from('8281826161018185616101000061' + 'b1', 'hex'))) // invalid UTF-8 value
    const set = encodeOrSet(addMembers(EMPTY_OR_SET, 'a', ['m']))
    expect(hex(set)).toBe('828182616101818261' + '6d' + '81826161' + '01')
    corrupt(() => decodeOrSet(Buffer.from('828182616101818261' + 'ed' + '81826161' + '01', 'hex'))) // invalid UTF-8 member
    corrupt(() => decodeOrSet(Buffer.from('828182616101818261' + '6d' + '81826161' + '1801', 'hex')))
  })

})

/** Random CBOR values shaped like states: nested arrays of node ids, members, counters and junk. */
const cborValue: fc.Arbitrary<unknown> = fc.letrec<{ v: unknown }>(tie => ({
  v: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.constantFrom('a', 'b', 'c', 'constructor', '', 'x', 'a/b', 'é'),
    fc.integer({ min: -2, max: 4 }),
    fc.constantFrom(0, 1, 2, Number.MAX_SAFE_INTEGER, -1, 1.5, 2 ** 60, null, true, false),
    fc.string({ maxLength: 4 }),
    fc.uint8Array({ maxLength: 3 }),
    fc.array(tie('v'), { maxLength: 5 }),
    fc.dictionary(fc.constantFrom('a', 'b', '__proto__'), tie('v'), { maxKeys: 2 })
  )
})).v

describe('hostile input', () => {
  it('random bytes: every decoder decodes (canonical bytes only) or throws its own error, never anything else', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 48 }), bytes => {
      for (const { decode, encode } of codecs) {
        const state = decodesOrThrows(() => decode(bytes), 'ERR_CORRUPT_DATA')
        if (state !== undefined) expect(hex(encode(state))).toBe(hex(bytes))
      }
    }), { numRuns: 500 })
  })

  it('random CBOR values: every decoder decodes or throws; whatever decodes re-encodes to the same bytes', () => {
    fc.assert(fc.property(cborValue, value => {
      const bytes = encodeCbor(value)
      for (const { decode, encode } of codecs) {
        const state = decodesOrThrows(() => decode(bytes), 'ERR_CORRUPT_DATA')
        if (state !== undefined) expect(hex(encode(state))).toBe(hex(bytes))
      }
    }), { numRuns: 1000 })
  })

  it('mutated valid encodings decode or throw, and what decodes is canonical and a valid state', () => {
    const states = fc.oneof(
      worldArbitrary(registers).map(w => ({ codec: 0, bytes: encodeRegister(w.all[w.all.length - 1] as RegisterState) })),
      worldArbitrary(counters).map(w => ({ codec: 1, bytes: encodeCounter(w.all[w.all.length - 1] as CounterState) })),
      worldArbitrary(sets).map(w => ({ codec: 2, bytes: encodeOrSet(w.all[w.all.length - 1] as OrSetState) }))
    )
    fc.assert(fc.property(states, fc.nat(), fc.integer({ min: 1, max: 255 }), ({ codec, bytes }, at, xor) => {
      const mutated = Uint8Array.from(bytes)
      const i = at % mutated.length
      mutated[i] = (mutated[i] as number) ^ xor
      const { decode, encode } = codecs[codec] as Codec<unknown>
      const state = decodesOrThrows(() => decode(mutated), 'ERR_CORRUPT_DATA')
      if (state !== undefined) expect(hex(encode(state))).toBe(hex(mutated))
    }), { numRuns: 300 })
  })
})

describe('decodeCbor', () => {
  it('wraps the parser\'s error as CorruptDataError with the cause', () => {
    let thrown: unknown
    try { decodeCbor(new Uint8Array([0x1c]), 'thing') } catch (err) { thrown = err }
    expect((thrown as { code: string }).code).toBe('ERR_CORRUPT_DATA')
    expect((thrown as Error).message).toContain('thing')
    expect((thrown as Error).cause).toBeInstanceOf(Error)
  })

  it('rejects duplicate map keys', () => {
    // {"a": 1, "a": 2}
    corrupt(() => decodeCbor(new Uint8Array([0xa2, 0x61, 0x61, 0x01, 0x61, 0x61, 0x02]), 't'))
  })

  it('is deterministic for vectors: keys sorted however the object was built', () => {
    const vv: VersionVector = { b: 1, a: 2 }
    expect(hex(encodeVersionVector(vv))).toBe(hex(encodeVersionVector({ a: 2, b: 1 })))
    expect(decodeVersionVector(encodeVersionVector(vv), 't')).toEqual({ a: 2, b: 1 })
  })
})
