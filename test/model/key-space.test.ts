import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { KEY_SPACES, SPACE_TYPES, fromStoreKey, toStoreKey } from '../../src/model/index.js'
import type { KeySpace } from '../../src/model/index.js'
import { EMPTY_REGISTER, writeRegister } from '../../src/causal/index.js'
import { EMPTY_COUNTER, EMPTY_OR_SET, addMembers, incrementCounter } from '../../src/crdt/index.js'

describe('key spaces', () => {
  it('four spaces with distinct one-character tags', () => {
    expect(KEY_SPACES).toEqual(['kv', 'counter', 'set', 'map'])
    expect(KEY_SPACES.map(s => SPACE_TYPES[s].tag)).toEqual(['r', 'c', 's', 'm'])
    for (const s of KEY_SPACES) expect(SPACE_TYPES[s].space).toBe(s)
  })

  it('store keys are tag/name', () => {
    expect(toStoreKey('kv', 'a')).toBe('r/a')
    expect(toStoreKey('counter', 'a')).toBe('c/a')
    expect(toStoreKey('set', 'a/b')).toBe('s/a/b')
    expect(toStoreKey('map', 'a')).toBe('m/a')
  })

  it('the same name in different spaces never collides, and store keys round-trip', () => {
    fc.assert(fc.property(fc.string({ minLength: 1, maxLength: 20 }), fc.constantFrom<KeySpace>('kv', 'counter', 'set', 'map'), (key, space) => {
      const sk = toStoreKey(space, key)
      expect(fromStoreKey(sk)).toEqual({ space, key })
      const others = KEY_SPACES.filter(s => s !== space).map(s => toStoreKey(s, key))
      expect(others).not.toContain(sk)
    }))
  })

  it('fromStoreKey rejects unknown tags, missing separators and empty names', () => {
    for (const bad of ['', 'r', 'r/', 'x/a', 'ra', 'R/a', '/a', 'rr/a', 'c', 's/']) expect(fromStoreKey(bad)).toBeUndefined()
    expect(fromStoreKey('r//')).toEqual({ space: 'kv', key: '/' })
  })

  it('each space\'s type wires the right merge, codec and context', () => {
    const reg = writeRegister(EMPTY_REGISTER, { node: 'a', hlc: { wall: 1, logical: 0 }, value: '1' })
    const kv = SPACE_TYPES.kv
    expect(kv.empty).toBe(EMPTY_REGISTER)
    expect(kv.decode(kv.encode(reg))).toEqual(reg)
    expect(kv.merge(kv.empty, reg)).toEqual(reg)
    expect(kv.context(reg)).toEqual({ a: 1 })

    const ctr = incrementCounter(incrementCounter(EMPTY_COUNTER, 'b', 3), 'b', -1)
    const counter = SPACE_TYPES.counter
    expect(counter.empty).toBe(EMPTY_COUNTER)
    expect(counter.decode(counter.encode(ctr))).toEqual(ctr)
    expect(counter.merge(counter.empty, ctr)).toEqual(ctr)
    expect(counter.context(ctr)).toEqual({ b: 2 })

    const st = addMembers(EMPTY_OR_SET, 'c', ['x'])
    const set = SPACE_TYPES.set
    expect(set.empty).toBe(EMPTY_OR_SET)
    expect(set.decode(set.encode(st))).toEqual(st)
    expect(set.merge(set.empty, st)).toEqual(st)
    expect(set.context(st)).toEqual({ c: 1 })
  })

  it('decoders reject another space\'s bytes where the shapes differ', () => {
    const ctrBytes = SPACE_TYPES.counter.encode(incrementCounter(EMPTY_COUNTER, 'a', 1))
    expect(() => SPACE_TYPES.kv.decode(ctrBytes)).toThrow(expect.objectContaining({ code: 'ERR_CORRUPT_DATA' }))
    expect(() => SPACE_TYPES.set.decode(ctrBytes)).toThrow(expect.objectContaining({ code: 'ERR_CORRUPT_DATA' }))
    const regBytes = SPACE_TYPES.kv.encode(writeRegister(EMPTY_REGISTER, { node: 'a', hlc: { wall: 1, logical: 0 }, value: '1' }))
    expect(() => SPACE_TYPES.counter.decode(regBytes)).toThrow(expect.objectContaining({ code: 'ERR_CORRUPT_DATA' }))
    expect(() => SPACE_TYPES.set.decode(regBytes)).toThrow(expect.objectContaining({ code: 'ERR_CORRUPT_DATA' }))
  })
})
