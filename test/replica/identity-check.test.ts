import { describe, expect, it } from 'vitest'
import { EMPTY_REGISTER, writeRegister } from '../../src/causal/index.js'
import { EMPTY_COUNTER, EMPTY_OR_SET, addMembers, incrementCounter } from '../../src/crdt/index.js'
import { eventsOf, holdsOurUnknownEvents } from '../../src/replica/identity-check.js'

const hlc = { wall: 1, logical: 0 }
const reg = (...writers: string[]): ReturnType<typeof writeRegister> => writers.reduce((s, node) => writeRegister(s, { node, hlc, value: '1' }), EMPTY_REGISTER)

describe('evidence of another writer with our identity', () => {
  it('counts our events per key in every key space', () => {
    expect(eventsOf('kv', reg('me', 'me', 'other'), 'me')).toBe(2)
    expect(eventsOf('counter', incrementCounter(incrementCounter(EMPTY_COUNTER, 'me', 3), 'me', -1), 'me')).toBe(2)
    expect(eventsOf('set', addMembers(EMPTY_OR_SET, 'me', ['a', 'b']), 'me')).toBeGreaterThan(0)
    expect(eventsOf('counter', EMPTY_COUNTER, 'constructor')).toBe(0)
  })

  it('is a state that has seen more of our events than we have', () => {
    expect(holdsOurUnknownEvents('kv', reg('me'), reg('me', 'me'), 'me', 0)).toBe(true)
    expect(holdsOurUnknownEvents('kv', reg('me', 'me'), reg('me'), 'me', 0)).toBe(false)
    expect(holdsOurUnknownEvents('kv', reg('me'), reg('me'), 'me', 0)).toBe(false)
    // Another node's events are never evidence.
    expect(holdsOurUnknownEvents('kv', EMPTY_REGISTER, reg('other', 'other'), 'me', 0)).toBe(false)
    expect(holdsOurUnknownEvents('counter', EMPTY_COUNTER, incrementCounter(EMPTY_COUNTER, 'me', 1), 'me', 0)).toBe(true)
    expect(holdsOurUnknownEvents('set', EMPTY_OR_SET, addMembers(EMPTY_OR_SET, 'me', ['x']), 'me', 0)).toBe(true)
  })

  it('gives the benefit of the doubt up to what we may have forgotten (collected registers)', () => {
    expect(holdsOurUnknownEvents('kv', EMPTY_REGISTER, reg('me', 'me'), 'me', 2)).toBe(false)
    expect(holdsOurUnknownEvents('kv', EMPTY_REGISTER, reg('me', 'me', 'me'), 'me', 2)).toBe(true)
  })
})
