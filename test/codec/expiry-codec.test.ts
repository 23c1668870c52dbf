/** The register encoding with expiring versions: backward compatible, and strict about the new field. */
import { describe, expect, it } from 'vitest'
import type { RegisterState } from '../../src/causal/index.js'
import { decodeCounter, decodeOrSet, decodeRegister, encodeCbor, encodeCounter, encodeOrSet, encodeRegister } from '../../src/codec/index.js'
import { MAX_HLC_WALL, MAX_TTL_MS } from '../../src/constants.js'
import { counterLife } from '../../src/crdt/index.js'
import { leafHash } from '../../src/merkle/index.js'

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex')

/** A state without expiry; its bytes and leaf were taken from the build before expiry existed. */
const GOLDEN: RegisterState = {
  vv: { a: 2, b: 1 },
  siblings: [
    { node: 'a', counter: 2, hlc: { wall: 1795875390123, logical: 0 }, value: '{"hello":"world"}' },
    { node: 'b', counter: 1, hlc: { wall: 1795875390100, logical: 3 } }
  ]
}
const GOLDEN_BYTES = '8282826161028261620182856161021b000001a22283c2ab00717b2268656c6c6f223a22776f726c64227d846162011b000001a22283c29403'
const GOLDEN_LEAF = '80a0053a041605e7e05f9f4826b85c4d'

const rawSibling = (...fields: unknown[]): Uint8Array => encodeCbor([[['a', 1]], [['a', 1, 1000, 0, ...fields]]] as never)

function codeOf (fn: () => unknown): unknown {
  try { fn() } catch (err) { return (err as { code?: unknown }).code }
  return undefined
}

describe('register encoding with expiry', () => {
  it('a state without expiry encodes byte for byte as before expiry existed (same leaf, same digests)', () => {
    expect(hex(encodeRegister(GOLDEN))).toBe(GOLDEN_BYTES)
    expect(hex(leafHash('r/greeting', encodeRegister(GOLDEN)))).toBe(GOLDEN_LEAF)
    expect(decodeRegister(Buffer.from(GOLDEN_BYTES, 'hex'))).toEqual(GOLDEN)
  })

  it('an expiring version round-trips with its expiry as a sixth field, 9 bytes more', () => {
    const withExpiry: RegisterState = { vv: { a: 1 }, siblings: [{ node: 'a', counter: 1, hlc: { wall: 1795875390123, logical: 0 }, value: '1', expiresAt: 1795875390423 }] }
    const without: RegisterState = { vv: { a: 1 }, siblings: [{ node: 'a', counter: 1, hlc: { wall: 1795875390123, logical: 0 }, value: '1' }] }
    const bytes = encodeRegister(withExpiry)
    expect(decodeRegister(bytes)).toEqual(withExpiry)
    expect(hex(encodeRegister(decodeRegister(bytes)))).toBe(hex(bytes))
    expect(bytes.byteLength - encodeRegister(without).byteLength).toBe(9)
  })

  it('accepts an expiry 1 ms to MAX_TTL_MS after the version\'s time, refuses anything else as corrupt', () => {
    expect(decodeRegister(rawSibling('1', 1001)).siblings[0]?.expiresAt).toBe(1001)
    expect(decodeRegister(rawSibling('1', 1000 + MAX_TTL_MS)).siblings[0]?.expiresAt).toBe(1000 + MAX_TTL_MS)
    for (const bad of [
      rawSibling('1', 1000), // not after the write
      rawSibling('1', 999),
      rawSibling('1', 1001 + MAX_TTL_MS), // past the longest ttl
      rawSibling('1', 'x'),
      rawSibling('1', -5),
      rawSibling(0, 1001), // a tombstone cannot expire
      rawSibling('1', 1001, 7) // no seventh field
    ]) expect(codeOf(() => decodeRegister(bad))).toBe('ERR_CORRUPT_DATA')
  })
})

describe('counter and set encodings with a lifetime', () => {
  const rows = [['a', 3, 0, 1]]
  const vv = [['a', 1]]
  const members = [['x', [['a', 1]]]]
  const counter = (...life: unknown[]): Uint8Array => encodeCbor([rows, ...life] as never)
  const set = (...life: unknown[]): Uint8Array => encodeCbor([vv, members, ...life] as never)

  it('round-trips a generation with and without an end', () => {
    for (const bytes of [counter(5), counter(0, 9), counter(5, 9)]) expect(hex(encodeCounter(decodeCounter(bytes)))).toBe(hex(bytes))
    for (const bytes of [set(5), set(0, 9), set(5, 9)]) expect(hex(encodeOrSet(decodeOrSet(bytes)))).toBe(hex(bytes))
    expect(counterLife(decodeCounter(counter(5, 9)))).toEqual({ gen: 5, expiresAt: 9 })
    expect(decodeOrSet(set(5, 9)).life).toEqual({ gen: 5, expiresAt: 9 })
    // Without a lifetime: the forms of before.
    expect(counterLife(decodeCounter(encodeCbor(rows as never)))).toEqual({ gen: 0 })
    expect(decodeOrSet(encodeCbor([vv, members] as never)).life).toBeUndefined()
  })

  it('refuses lifetimes no write makes: non-canonical, an end not after its generation, beyond the bounds', () => {
    const tooFar = MAX_HLC_WALL + MAX_TTL_MS + 1
    for (const bad of [counter(0), counter(5, 5), counter(5, 4), counter(-1), counter('5'), counter(5, 9, 10), counter(tooFar), counter(1, tooFar)]) {
      expect(codeOf(() => decodeCounter(bad))).toBe('ERR_CORRUPT_DATA')
    }
    for (const bad of [set(0), set(5, 5), set(5, 4), set(-1), set('5'), set(5, 9, 10), set(tooFar), set(1, tooFar)]) {
      expect(codeOf(() => decodeOrSet(bad))).toBe('ERR_CORRUPT_DATA')
    }
  })
})
