/**
 * The hand-written canonical CBOR of states must write exactly what cborg writes (leaf hashes
 * and digests of earlier builds depend on those bytes) and refuse every other encoding.
 */
import fc from 'fast-check'
import { encode as cborgEncode } from 'cborg'
import { describe, expect, it } from 'vitest'
import { MAX_CBOR_DEPTH, decodeCanonical, encodeCanonical, type CanonicalValue } from '../../src/codec/canonical-cbor.js'

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex')
const fromHex = (h: string): Uint8Array => Uint8Array.from(Buffer.from(h, 'hex'))

const { value: canonicalValue } = fc.letrec<{ value: CanonicalValue }>(tie => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.oneof(
      fc.integer({ min: 0, max: 30 }),
      fc.constantFrom(23, 24, 255, 256, 65_535, 65_536, 2 ** 32 - 1, 2 ** 32, Number.MAX_SAFE_INTEGER),
      fc.maxSafeNat()
    ),
    fc.string({ unit: 'grapheme', maxLength: 40 }),
    fc.string({ unit: 'binary', maxLength: 300 }),
    fc.uint8Array({ maxLength: 300 }),
    fc.array(tie('value'), { maxLength: 30 })
  )
}))

function refused (h: string): string {
  try {
    decodeCanonical(fromHex(h), 'test')
  } catch (err) {
    expect((err as { code?: string }).code).toBe('ERR_CORRUPT_DATA')
    return (err as Error).message
  }
  throw new Error(`${h} was accepted`)
}

describe('canonical CBOR', () => {
  it('writes the bytes cborg writes, for any value of the subset, and reads them back', () => {
    fc.assert(fc.property(canonicalValue, (v) => {
      const bytes = encodeCanonical(v)
      expect(hex(bytes)).toBe(hex(cborgEncode(v)))
      expect(decodeCanonical(bytes, 'test')).toEqual(v)
    }), { numRuns: 3000 })
  })

  it('integers at every header boundary, and strings whose UTF-8 length crosses 23 and 255', () => {
    for (const n of [0, 23, 24, 255, 256, 65_535, 65_536, 2 ** 32 - 1, 2 ** 32, 2 ** 53 - 1]) {
      expect(hex(encodeCanonical(n))).toBe(hex(cborgEncode(n)))
      expect(decodeCanonical(encodeCanonical(n), 'test')).toBe(n)
    }
    for (const s of ['a'.repeat(23), 'a'.repeat(24), 'é'.repeat(7), 'é'.repeat(12), '€'.repeat(8), '😀'.repeat(6), 'x'.repeat(255), 'x'.repeat(256), '\ud800', 'a\udc00b']) {
      expect(hex(encodeCanonical(s))).toBe(hex(cborgEncode(s)))
    }
  })

  it('keeps a byte-order mark at the start of a text', () => {
    expect(decodeCanonical(encodeCanonical('\ufeffx'), 'test')).toBe('\ufeffx')
  })

  it('refuses encodings that are not the shortest, indefinite lengths, and integers past 2^53 - 1', () => {
    expect(refused('1817')).toMatch(/shortest form/) // 23 in one extra byte
    expect(refused('190017')).toMatch(/shortest form/)
    expect(refused('1a0000ffff')).toMatch(/shortest form/)
    expect(refused('1b00000000ffffffff')).toMatch(/shortest form/)
    expect(refused('1b0020000000000000')).toMatch(/2\^53/)
    expect(refused('9f01ff')).toMatch(/indefinite/)
    expect(refused('7f6161ff')).toMatch(/indefinite/)
    expect(refused('1c')).toMatch(/reserved/)
    expect(refused('7801' + '61')).toMatch(/shortest form/) // a 1-character text with a 1-byte length
  })

  it('refuses every other major type: negative integers, maps, tags, floats, simple values', () => {
    for (const h of ['20', 'a0', 'a16161 01', 'c0 61 61', 'f93c00', 'fa3f800000', 'fb3ff0000000000000', 'f4', 'f5', 'f6', 'f7']) {
      expect(refused(h.replaceAll(' ', ''))).toMatch(/major type|reserved/)
    }
  })

  it('refuses truncation, lengths past the end, trailing bytes and invalid UTF-8', () => {
    expect(refused('')).toMatch(/truncated/)
    expect(refused('18')).toMatch(/truncated/)
    expect(refused('1b0000')).toMatch(/truncated/)
    expect(refused('6461')).toMatch(/past the end/)
    expect(refused('9bffffffffffffffff')).toMatch(/2\^53|past the end/)
    expect(refused('9a7fffffff01')).toMatch(/past the end/) // a huge array claim, refused before allocating
    expect(refused('0101')).toMatch(/after the value/)
    expect(refused('62c328')).toMatch(/UTF-8/)
    expect(refused('63eda080')).toMatch(/UTF-8/) // an encoded surrogate
  })

  it(`refuses nesting deeper than ${MAX_CBOR_DEPTH} and reads ${MAX_CBOR_DEPTH} levels`, () => {
    expect(decodeCanonical(fromHex('81'.repeat(MAX_CBOR_DEPTH) + '00'), 'test')).toBeDefined()
    expect(refused('81'.repeat(MAX_CBOR_DEPTH + 1) + '00')).toMatch(/deeper/)
    expect(refused('81'.repeat(100_000) + '00')).toMatch(/deeper/)
  })

  it('refuses values outside the subset when writing', () => {
    expect(() => encodeCanonical(-1)).toThrow(RangeError)
    expect(() => encodeCanonical(1.5)).toThrow(RangeError)
    expect(() => encodeCanonical(2 ** 53)).toThrow(RangeError)
    expect(() => encodeCanonical({} as unknown as CanonicalValue)).toThrow(TypeError)
  })

  it('returns buffers of their own: a later encoding never changes an earlier one', () => {
    const a = encodeCanonical(['x', 1])
    const before = hex(a)
    encodeCanonical(['y'.repeat(200_000), 2])
    expect(hex(a)).toBe(before)
    expect(a.byteOffset).toBe(0)
    expect(a.buffer.byteLength).toBe(a.byteLength)
  })
})
