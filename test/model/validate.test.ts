import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { CheckedValue, checkedValue, encodeValue, jsonDepthProblem, keyProblem, memberProblem } from '../../src/model/index.js'
import { keyBoundProblem } from '../../src/model/validate.js'
import { MAX_KEY_BYTES, MAX_MEMBER_BYTES, MAX_VALUE_BYTES, MAX_VALUE_DEPTH } from '../../src/constants.js'

describe('keyProblem', () => {
  it('accepts non-empty well-formed strings up to 1 KiB of UTF-8', () => {
    for (const ok of ['a', ' ', 'r/x', 'é', '😀', 'a'.repeat(MAX_KEY_BYTES), 'é'.repeat(MAX_KEY_BYTES / 2)]) expect(keyProblem(ok)).toBeUndefined()
  })

  it('explains what is wrong', () => {
    expect(keyProblem(1)).toBe('must be a string')
    expect(keyProblem(undefined)).toBe('must be a string')
    expect(keyProblem(null)).toBe('must be a string')
    expect(keyProblem(['a'])).toBe('must be a string')
    expect(keyProblem('')).toBe('must not be empty')
    expect(keyProblem('a\uD800')).toBe('must be valid UTF-8 (no lone surrogates)')
    expect(keyProblem('\uDC00')).toBe('must be valid UTF-8 (no lone surrogates)')
    expect(keyProblem('a'.repeat(MAX_KEY_BYTES + 1))).toBe(`must be at most ${MAX_KEY_BYTES} bytes of UTF-8`)
    // The limit is in bytes, not characters: 513 × 2-byte "é" is 1026 bytes.
    expect(keyProblem('é'.repeat(MAX_KEY_BYTES / 2 + 1))).toBe(`must be at most ${MAX_KEY_BYTES} bytes of UTF-8`)
    expect(keyProblem('😀'.repeat(MAX_KEY_BYTES / 4) + 'a')).toBe(`must be at most ${MAX_KEY_BYTES} bytes of UTF-8`)
  })

  it('property: accepted exactly when non-empty, well-formed and at most the limit in bytes', () => {
    fc.assert(fc.property(fc.array(fc.oneof({ weight: 60, arbitrary: fc.constantFrom('a', 'é', '€', '😀') }, { weight: 1, arbitrary: fc.constantFrom('\uD800', '\uDC00') }), { maxLength: 700 }).map(parts => parts.join('')), key => {
      const ok = key.length > 0 && key.isWellFormed() && Buffer.byteLength(key) <= MAX_KEY_BYTES
      expect(keyProblem(key) === undefined).toBe(ok)
    }))
  })
})

describe('memberProblem', () => {
  it('accepts any well-formed string up to the limit, including the empty string', () => {
    for (const ok of ['', 'x', 'é😀', 'm'.repeat(MAX_MEMBER_BYTES)]) expect(memberProblem(ok)).toBeUndefined()
  })

  it('rejects non-strings, lone surrogates and oversize members', () => {
    expect(memberProblem(3)).toBe('must be a string')
    expect(memberProblem({})).toBe('must be a string')
    expect(memberProblem('\uD83D')).toBe('must be valid UTF-8 (no lone surrogates)')
    expect(memberProblem('m'.repeat(MAX_MEMBER_BYTES + 1))).toBe(`must be at most ${MAX_MEMBER_BYTES} bytes of UTF-8`)
  })
})

describe('keyBoundProblem', () => {
  it('accepts any well-formed string, the empty one and astral characters included', () => {
    for (const ok of ['', 'user/', '\u0000', '😀', 'a\uffff', 'x'.repeat(5000)]) expect(keyBoundProblem(ok)).toBeUndefined()
  })

  it('regression: refuses lone surrogates, which UTF-8 would turn into U+FFFD and so bound other keys', () => {
    for (const bad of ['\uD800', 'a\uDFFF', 'user/\uD83D']) expect(keyBoundProblem(bad)).toBe('must be valid UTF-8 (no lone surrogates)')
    expect(keyBoundProblem(1)).toBe('must be a string')
    expect(keyBoundProblem(null)).toBe('must be a string')
  })
})

describe('encodeValue', () => {
  it('gives the JSON text of any JSON value', () => {
    expect(encodeValue(null)).toEqual({ json: 'null' })
    expect(encodeValue(0)).toEqual({ json: '0' })
    expect(encodeValue(false)).toEqual({ json: 'false' })
    expect(encodeValue('')).toEqual({ json: '""' })
    expect(encodeValue({ a: [1, 'é'] })).toEqual({ json: '{"a":[1,"é"]}' })
    fc.assert(fc.property(fc.jsonValue(), v => {
      const r = encodeValue(v)
      expect('json' in r && JSON.parse(r.json)).toEqual(JSON.parse(JSON.stringify(v)))
    }), { numRuns: 100 })
  })

  it('requires a value', () => {
    expect(encodeValue(undefined)).toEqual({ problem: 'is required (use null for an empty value)' })
  })

  it('reports values JSON cannot encode as a problem instead of throwing', () => {
    const circular: Record<string, unknown> = {}
    circular.self = circular
    expect(encodeValue(circular)).toEqual({ problem: 'must be JSON-serialisable' })
    expect(encodeValue(10n)).toEqual({ problem: 'must be JSON-serialisable' })
    expect(encodeValue(() => 1)).toEqual({ problem: 'must be JSON-serialisable' })
    expect(encodeValue(Symbol('s'))).toEqual({ problem: 'must be JSON-serialisable' })
    expect(encodeValue({ toJSON: () => undefined })).toEqual({ problem: 'must be JSON-serialisable' })
  })

  it('regression: refuses NaN and ±Infinity (JSON.parse("1e400")) instead of storing them as null', () => {
    const problem = { problem: expect.stringContaining('finite numbers') as unknown }
    expect(encodeValue(JSON.parse('1e400'))).toEqual(problem)
    expect(encodeValue(JSON.parse('[1, -1e999]'))).toEqual(problem)
    expect(encodeValue({ a: { b: [null, Number.NaN] } })).toEqual(problem)
    // The largest double and real nulls, also in strings, are values like any other.
    expect(encodeValue(JSON.parse('1.7976931348623157e308'))).toEqual({ json: '1.7976931348623157e+308' })
    expect(encodeValue({ a: null, b: 'null', c: [null] })).toEqual({ json: '{"a":null,"b":"null","c":[null]}' })
  })

  it('enforces the 1 MiB limit on the encoded JSON', () => {
    const fits = 'x'.repeat(MAX_VALUE_BYTES - 2) // plus two quotes
    expect(encodeValue(fits)).toEqual({ json: JSON.stringify(fits) })
    expect(encodeValue(fits + 'x')).toEqual({ problem: `must be at most ${MAX_VALUE_BYTES} bytes encoded as JSON` })
    // Bytes, not characters: each "é" is two bytes of UTF-8.
    expect(encodeValue('é'.repeat(MAX_VALUE_BYTES / 2))).toEqual({ problem: `must be at most ${MAX_VALUE_BYTES} bytes encoded as JSON` })
  })
})

describe('value nesting', () => {
  const nested = (depth: number, open = '[', close = ']', inner = '1'): string => open.repeat(depth) + inner + close.repeat(depth)

  it('accepts values nested up to MAX_VALUE_DEPTH and refuses one level more, arrays and objects alike', () => {
    expect(encodeValue(JSON.parse(nested(MAX_VALUE_DEPTH)))).toEqual({ json: nested(MAX_VALUE_DEPTH) })
    expect(encodeValue(JSON.parse(nested(MAX_VALUE_DEPTH + 1)))).toEqual({ problem: `must nest arrays and objects at most ${MAX_VALUE_DEPTH} deep` })
    const objects = (depth: number): unknown => { let v: unknown = 1; for (let i = 0; i < depth; i++) v = { a: v }; return v }
    expect('json' in encodeValue(objects(MAX_VALUE_DEPTH))).toBe(true)
    expect(encodeValue(objects(MAX_VALUE_DEPTH + 1))).toMatchObject({ problem: /at most 512 deep/ })
  })

  it('a value too deep for JSON.stringify is refused with the nesting message, not a crash', () => {
    let v: unknown = 1
    for (let i = 0; i < 200_000; i++) v = [v]
    expect(encodeValue(v)).toEqual({ problem: `must nest arrays and objects at most ${MAX_VALUE_DEPTH} deep` })
  })

  it('brackets inside strings (escaped quotes included) do not count', () => {
    const s = '"\\"' + '['.repeat(MAX_VALUE_DEPTH * 2) + '"'
    expect(jsonDepthProblem(`[${s}]`)).toBeUndefined()
    expect(jsonDepthProblem(JSON.stringify({ k: '{'.repeat(2000), l: ['}'.repeat(2000)] }))).toBeUndefined()
    expect(jsonDepthProblem(JSON.stringify(['\\', nested(MAX_VALUE_DEPTH + 1)]))).toBeUndefined()
  })

  it('property: refused exactly when the nesting exceeds the limit', () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: MAX_VALUE_DEPTH * 2 }), fc.constantFrom('[]', '{}'), (depth, pair) => {
      const inner = pair === '[]' ? '"[{"' : '"x":"]}"'
      const text = pair === '[]' ? nested(depth, '[', ']', inner) : depth === 0 ? '{' + inner + '}' : nested(depth, '{"a":', '}', '{' + inner + '}')
      const actual = (pair === '[]' ? depth : depth + 1)
      expect(jsonDepthProblem(text) === undefined).toBe(actual <= MAX_VALUE_DEPTH)
    }), { numRuns: 300 })
  })
})

describe('CheckedValue', () => {
  it('is made only by checkedValue, for a valid value; a look-alike is only a value', () => {
    const made = checkedValue({ a: 1 })
    expect(made).toBeInstanceOf(CheckedValue)
    expect(encodeValue(made)).toEqual({ json: '{"a":1}' })
    expect(Object.isFrozen(made)).toBe(true)
    expect(checkedValue(JSON.parse('['.repeat(MAX_VALUE_DEPTH + 1) + ']'.repeat(MAX_VALUE_DEPTH + 1)))).toHaveProperty('problem')
    // A forged prototype carries no brand: it is stringified like any object, never trusted as JSON text.
    const forged = Object.assign(Object.create(CheckedValue.prototype) as object, { json: '{not json' })
    expect(encodeValue(forged)).toEqual({ json: '{"json":"{not json"}' })
    expect(checkedValue(forged)).not.toBe(forged)
    expect((CheckedValue as unknown as { fromValidatedJson?: unknown }).fromValidatedJson).toBeUndefined()
  })
})
