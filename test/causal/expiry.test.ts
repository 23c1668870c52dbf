/** Expiring register versions (causal/expiry.ts): what a read at a given time shows. */
import { describe, expect, it } from 'vitest'
import {
  EMPTY_REGISTER, deadFrom, isAbsentAt, isExpired, mergeRegisters, winnerAt, writeRegister, type RegisterState
} from '../../src/causal/index.js'
import { encodeRegister } from '../../src/codec/index.js'

const at = (wall: number, logical = 0): { wall: number, logical: number } => ({ wall, logical })

describe('expiring register versions', () => {
  it('a put with ttlMs carries its expiry instant: the write\'s HLC wall time + ttlMs', () => {
    const s = writeRegister(EMPTY_REGISTER, { node: 'a', hlc: at(1000, 4), value: '1', ttlMs: 300 })
    expect(s.siblings[0]?.expiresAt).toBe(1300)
    // A delete never carries one.
    const d = writeRegister(s, { node: 'a', hlc: at(1001), ttlMs: 300 })
    expect(d.siblings[0]?.expiresAt).toBeUndefined()
  })

  it('reads as present before the instant and absent from it on', () => {
    const s = writeRegister(EMPTY_REGISTER, { node: 'a', hlc: at(1000), value: '"v"', ttlMs: 300 })
    expect(isAbsentAt(s, 1299)).toBe(false)
    expect(winnerAt(s, 1299)?.value).toBe('"v"')
    expect(isAbsentAt(s, 1300)).toBe(true)
    expect(isExpired(s.siblings[0] as never, 1300)).toBe(true)
    // The same dot and time as a tombstone.
    expect(winnerAt(s, 1300)).toEqual({ node: 'a', counter: 1, hlc: at(1000) })
  })

  it('an expired winner hides an older concurrent sibling, as a delete would; a newer one wins', () => {
    const base = writeRegister(EMPTY_REGISTER, { node: 'b', hlc: at(900), value: '"old"' })
    const expiring = writeRegister(EMPTY_REGISTER, { node: 'a', hlc: at(1000), value: '"ttl"', ttlMs: 100 })
    const both = mergeRegisters(base, expiring)
    expect(both.siblings).toHaveLength(2)
    expect(isAbsentAt(both, 1100)).toBe(true)
    const newer = writeRegister(EMPTY_REGISTER, { node: 'c', hlc: at(1050), value: '"new"' })
    const three = mergeRegisters(both, newer)
    expect(winnerAt(three, 5000)?.value).toBe('"new"')
  })

  it('a later write without ttlMs supersedes the expiring version: the key lives on', () => {
    const s = writeRegister(EMPTY_REGISTER, { node: 'a', hlc: at(1000), value: '1', ttlMs: 100 })
    const t = writeRegister(s, { node: 'b', hlc: at(1050), value: '2' })
    expect(t.siblings).toHaveLength(1)
    expect(isAbsentAt(t, 10_000)).toBe(false)
    expect(deadFrom(t)).toBeUndefined()
  })

  it('a late copy of the state before expiry cannot bring the value back: merging it keeps the same expiry', () => {
    const s = writeRegister(EMPTY_REGISTER, { node: 'a', hlc: at(1000), value: '1', ttlMs: 100 })
    const late = structuredClone(s) as RegisterState
    const merged = mergeRegisters(s, late)
    expect(encodeRegister(merged)).toEqual(encodeRegister(s))
    expect(isAbsentAt(merged, 1100)).toBe(true)
  })

  it('deadFrom: 0 for deletes only, the last expiry when every value expires, undefined while a value lives for good', () => {
    expect(deadFrom(EMPTY_REGISTER)).toBeUndefined()
    const del = writeRegister(EMPTY_REGISTER, { node: 'a', hlc: at(1000) })
    expect(deadFrom(del)).toBe(0)
    const e1 = writeRegister(EMPTY_REGISTER, { node: 'a', hlc: at(1000), value: '1', ttlMs: 100 })
    const e2 = writeRegister(EMPTY_REGISTER, { node: 'b', hlc: at(1000), value: '2', ttlMs: 500 })
    expect(deadFrom(mergeRegisters(e1, e2))).toBe(1500)
    expect(deadFrom(mergeRegisters(mergeRegisters(e1, del), e2))).toBe(1500)
    const live = writeRegister(EMPTY_REGISTER, { node: 'c', hlc: at(1), value: '3' })
    expect(deadFrom(mergeRegisters(e1, live))).toBeUndefined()
  })

  it('two states that reuse a dot with different expiries merge to the same state either way (a faulty writer)', () => {
    const x = writeRegister(EMPTY_REGISTER, { node: 'a', hlc: at(1000), value: '1', ttlMs: 100 })
    const y = writeRegister(EMPTY_REGISTER, { node: 'a', hlc: at(1000), value: '1', ttlMs: 200 })
    const z = writeRegister(EMPTY_REGISTER, { node: 'a', hlc: at(1000), value: '1' })
    for (const [p, q] of [[x, y], [x, z], [y, z]] as const) {
      expect(encodeRegister(mergeRegisters(p, q))).toEqual(encodeRegister(mergeRegisters(q, p)))
    }
    expect(mergeRegisters(x, y).siblings[0]?.expiresAt).toBe(1200)
  })
})
