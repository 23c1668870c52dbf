/**
 * Expiring counters and sets (crdt/lifetime.ts, crdt/expiring.ts): the shared law suite over
 * worlds of timed writes with ttls (lives end, restart concurrently and tie), the codec on every
 * reachable state, and the promises of expiry itself.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  EMPTY_COUNTER, EMPTY_OR_SET, addMembersAt, counterContext, counterLife, counterValueAt, incrementAt, mergeCounters, mergeOrSets,
  removeMembersAt, setLife, setMembersAt
} from '../../src/crdt/index.js'
import { decodeCounter, decodeOrSet, encodeCounter, encodeOrSet } from '../../src/codec/index.js'
import { holdsOurUnknownEvents } from '../../src/replica/identity-check.js'
import { crdtLaws, worldArbitrary } from '../helpers/crdt-laws.js'
import { expiringCounters, expiringSets } from './subjects.js'

crdtLaws(expiringCounters)
crdtLaws(expiringSets)

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex')

describe('expiring counters and sets: reachable states', () => {
  it('every reachable state encodes canonically and decodes back to the same bytes', () => {
    fc.assert(fc.property(worldArbitrary(expiringCounters), worldArbitrary(expiringSets), (wc, ws) => {
      for (const s of wc.all) expect(hex(encodeCounter(decodeCounter(encodeCounter(s))))).toBe(hex(encodeCounter(s)))
      for (const s of ws.all) expect(hex(encodeOrSet(decodeOrSet(encodeOrSet(s))))).toBe(hex(encodeOrSet(s)))
    }), { numRuns: 100 })
  })

  it('an end always lies after its generation, and contexts never go back across lives', () => {
    fc.assert(fc.property(worldArbitrary(expiringCounters), w => {
      for (const s of w.all) {
        const life = counterLife(s)
        if (life.expiresAt !== undefined) expect(life.expiresAt).toBeGreaterThan(life.gen)
      }
      for (const a of w.all) {
        for (const b of w.all) {
          const m = mergeCounters(a, b)
          for (const [node, ops] of Object.entries(counterContext(a))) expect(counterContext(m)[node]).toBeGreaterThanOrEqual(ops)
        }
      }
    }), { numRuns: 50 })
  })

  it('no merge of reachable states looks to a writer like writes of its own that it never made', () => {
    fc.assert(fc.property(worldArbitrary(expiringCounters), w => {
      // Every state any replica held was merged from what the others held: for each writer, the
      // final state after merging everything is never exceeded by any state it could receive.
      const all = w.all.reduce((acc, s) => mergeCounters(acc, s), EMPTY_COUNTER)
      for (const s of w.all) for (const node of ['a', 'b', 'c', 'd']) expect(holdsOurUnknownEvents('counter', all, s, node, 0)).toBe(false)
    }), { numRuns: 100 })
  })
})

describe('expiring counters', () => {
  it('reads 0 from the end on; a write after it starts afresh in the generation the end names', () => {
    let s = incrementAt(EMPTY_COUNTER, 'a', 5, 1000, 300)
    expect(counterLife(s)).toEqual({ gen: 0, expiresAt: 1300 })
    expect(counterValueAt(s, 1299)).toBe(5)
    expect(counterValueAt(s, 1300)).toBe(0)
    s = incrementAt(s, 'b', 2, 1400)
    expect(counterLife(s)).toEqual({ gen: 1300 })
    expect(counterValueAt(s, 10_000)).toBe(2)
    expect(counterContext(s)).toEqual({ a: 1, b: 1 }) // op counts carried over
  })

  it('a late copy of the old life cannot bring its total back', () => {
    const old = incrementAt(incrementAt(EMPTY_COUNTER, 'a', 5, 1000, 300), 'c', 7, 1100)
    const restarted = incrementAt(incrementAt(EMPTY_COUNTER, 'a', 5, 1000, 300), 'b', 1, 1500)
    const merged = mergeCounters(restarted, old)
    expect(counterValueAt(merged, 2000)).toBe(1)
    expect(hex(encodeCounter(merged))).toBe(hex(encodeCounter(mergeCounters(old, restarted))))
  })

  it('two nodes restarting concurrently land in the same generation and both increments count', () => {
    const base = incrementAt(EMPTY_COUNTER, 'a', 5, 1000, 300)
    const onB = incrementAt(base, 'b', 2, 1400)
    const onC = incrementAt(base, 'c', 3, 1350)
    expect(counterValueAt(mergeCounters(onB, onC), 2000)).toBe(5)
  })

  it('ttlMs extends the life, never shortens it; a write without ttlMs keeps it', () => {
    let s = incrementAt(EMPTY_COUNTER, 'a', 1, 1000, 500)
    s = incrementAt(s, 'a', 1, 1100, 100)
    expect(counterLife(s).expiresAt).toBe(1500)
    s = incrementAt(s, 'a', 1, 1200)
    expect(counterLife(s).expiresAt).toBe(1500)
    s = incrementAt(s, 'a', 1, 1300, 1000)
    expect(counterLife(s).expiresAt).toBe(2300)
  })

  it('a counter without expiry encodes exactly as before (bytes from the build before expiry)', () => {
    expect(hex(encodeCounter(incrementAt(EMPTY_COUNTER, 'a', 3, 1000)))).toBe('81846161030001')
  })
})

describe('expiring sets', () => {
  it('reads empty from the end on; a write after it starts with no members, without reissuing dots', () => {
    let s = addMembersAt(EMPTY_OR_SET, 'a', ['x', 'y'], 1000, 300)
    expect(setMembersAt(s, 1299)).toEqual(['x', 'y'])
    expect(setMembersAt(s, 1300)).toEqual([])
    s = addMembersAt(s, 'a', ['z'], 1400)
    expect(setLife(s)).toEqual({ gen: 1300 })
    expect(setMembersAt(s, 5000)).toEqual(['z'])
    expect(s.vv).toEqual({ a: 3 })
  })

  it('a late copy of the old life, even with members the restarter never saw, cannot bring them back', () => {
    const base = addMembersAt(EMPTY_OR_SET, 'a', ['x'], 1000, 300)
    const late = addMembersAt(base, 'c', ['y'], 1100) // never seen by b
    const restarted = addMembersAt(base, 'b', ['z'], 1500)
    expect(setMembersAt(mergeOrSets(restarted, late), 2000)).toEqual(['z'])
    expect(setMembersAt(mergeOrSets(late, restarted), 2000)).toEqual(['z'])
  })

  it('a remove after the end restarts the set too (and removes nothing visible)', () => {
    const s = removeMembersAt(addMembersAt(EMPTY_OR_SET, 'a', ['x'], 1000, 300), ['x'], 1400)
    expect(setLife(s)).toEqual({ gen: 1300 })
    expect(setMembersAt(s, 1400)).toEqual([])
  })

  it('a set without expiry encodes exactly as before (bytes from the build before expiry)', () => {
    expect(hex(encodeOrSet(addMembersAt(EMPTY_OR_SET, 'a', ['x'], 1000)))).toBe('828182616101818261788182616101')
  })
})
