/** What the tombstone index records for expiring keys, and what collection does to them (replica/tombstones.ts). Pure. */
import { describe, expect, it } from 'vitest'
import { EMPTY_REGISTER, mergeRegisters, writeRegister } from '../../src/causal/index.js'
import { EMPTY_COUNTER, EMPTY_OR_SET, addMembersAt, counterLife, counterValueAt, incrementAt, mergeCounters, setMembersAt, type CounterState, type OrSetState } from '../../src/crdt/index.js'
import { encodeCounter } from '../../src/codec/index.js'
import { collectAction, compactLife, listedTime } from '../../src/replica/tombstones.js'

const at = (wall: number): { wall: number, logical: number } => ({ wall, logical: 0 })

describe('expiring keys in the tombstone index', () => {
  it('registers: deletes from the commit, expiring values from their last expiry; a value without expiry unlists', () => {
    const del = writeRegister(EMPTY_REGISTER, { node: 'a', hlc: at(100) })
    expect(listedTime('kv', del, 5000)).toBe(5000)
    const ttl = writeRegister(EMPTY_REGISTER, { node: 'a', hlc: at(1000), value: '1', ttlMs: 9000 })
    expect(listedTime('kv', ttl, 5000)).toBe(10_000)
    expect(listedTime('kv', ttl, 20_000)).toBe(20_000) // arrived already dead: from the commit
    const live = writeRegister(EMPTY_REGISTER, { node: 'b', hlc: at(1000), value: '2' })
    expect(listedTime('kv', mergeRegisters(ttl, live), 5000)).toBeUndefined()
  })

  it('counters and sets: listed from their expiry, unlisted without one', () => {
    expect(listedTime('counter', incrementAt(EMPTY_COUNTER, 'a', 1, 1000, 500), 0)).toBe(1500)
    expect(listedTime('counter', incrementAt(EMPTY_COUNTER, 'a', 1, 1000), 0)).toBeUndefined()
    expect(listedTime('set', addMembersAt(EMPTY_OR_SET, 'a', ['x'], 1000, 500), 0)).toBe(1500)
    expect(listedTime('set', addMembersAt(EMPTY_OR_SET, 'a', ['x'], 1000), 0)).toBeUndefined()
  })

  it('collection purges a dead register, compacts an ended counter or set, and leaves the living alone', () => {
    const ttl = writeRegister(EMPTY_REGISTER, { node: 'a', hlc: at(1000), value: '1', ttlMs: 500 })
    expect(collectAction('kv', ttl, 1499)).toBeUndefined()
    expect(collectAction('kv', ttl, 1500)).toBe('purge')
    const c = incrementAt(incrementAt(EMPTY_COUNTER, 'a', 4, 1000, 500), 'b', 2, 1100)
    expect(collectAction('counter', c, 1499)).toBeUndefined()
    expect(collectAction('counter', c, 1500)).toBe('compact')
    const compacted = compactLife('counter', c) as CounterState
    expect(counterLife(compacted)).toEqual({ gen: 1500 })
    expect(counterValueAt(compacted, 2000)).toBe(0)
    // It dominates the ended life: merging any copy of that life changes nothing.
    expect(encodeCounter(mergeCounters(compacted, c))).toEqual(encodeCounter(compacted))
    // And it is what a write after the end would start from.
    expect(counterValueAt(incrementAt(c, 'a', 1, 1600), 2000)).toBe(counterValueAt(incrementAt(compacted, 'a', 1, 1600), 2000))
    const s = addMembersAt(EMPTY_OR_SET, 'a', ['x'], 1000, 500)
    expect(collectAction('set', s, 1500)).toBe('compact')
    expect(setMembersAt(compactLife('set', s) as OrSetState, 1500)).toEqual([])
    expect(collectAction('set', compactLife('set', s), 10_000)).toBeUndefined() // no end: nothing more to do
  })
})
