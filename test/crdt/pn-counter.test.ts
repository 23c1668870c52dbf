import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { EMPTY_COUNTER, counterContext, counterValue, incrementCounter, mergeCounters, wouldOverflow } from '../../src/crdt/index.js'
import type { CounterState } from '../../src/crdt/index.js'
import { encodeCounter } from '../../src/codec/index.js'
import { crdtLaws, worldArbitrary } from '../helpers/crdt-laws.js'
import { counters } from './subjects.js'

crdtLaws(counters)

const hex = (s: CounterState): string => Buffer.from(encodeCounter(s)).toString('hex')

describe('PN-counter', () => {
  it('starts at 0 with an empty context', () => {
    expect(counterValue(EMPTY_COUNTER)).toBe(0)
    expect(counterContext(EMPTY_COUNTER)).toEqual({})
  })

  it('keeps per-node totals of increments and decrements and counts operations', () => {
    let s = incrementCounter(EMPTY_COUNTER, 'a', 5)
    s = incrementCounter(s, 'a', -2)
    s = incrementCounter(s, 'a', -1)
    expect(s).toEqual({ a: { p: 5, n: 3, ops: 3 } })
    expect(counterValue(s)).toBe(2)
    expect(counterContext(s)).toEqual({ a: 3 })
  })

  it('can go negative', () => {
    const s = incrementCounter(incrementCounter(EMPTY_COUNTER, 'b', -7), 'c', 2)
    expect(counterValue(s)).toBe(-5)
    expect(s).toEqual({ b: { p: 0, n: 7, ops: 1 }, c: { p: 2, n: 0, ops: 1 } })
  })

  it('by = 0 is a no-op that returns the same state', () => {
    const s = incrementCounter(EMPTY_COUNTER, 'a', 1)
    expect(incrementCounter(s, 'a', 0)).toBe(s)
    expect(incrementCounter(EMPTY_COUNTER, 'a', 0)).toBe(EMPTY_COUNTER)
    expect(counterContext(incrementCounter(s, 'a', 0))).toEqual({ a: 1 })
  })

  it('concurrent increments on three replicas sum exactly after merge, in any order', () => {
    const a = incrementCounter(incrementCounter(EMPTY_COUNTER, 'a', 10), 'a', -3)
    const b = incrementCounter(EMPTY_COUNTER, 'b', 4)
    const c = incrementCounter(incrementCounter(EMPTY_COUNTER, 'c', -20), 'c', 1)
    const orders = [[a, b, c], [c, b, a], [b, a, c], [b, c, a], [a, c, b], [c, a, b]]
    const results = orders.map(o => o.reduce(mergeCounters, EMPTY_COUNTER))
    for (const r of results) {
      expect(counterValue(r)).toBe(7 + 4 - 19)
      expect(hex(r)).toBe(hex(results[0] as CounterState))
      expect(counterContext(r)).toEqual({ a: 2, b: 1, c: 2 })
    }
  })

  it('merge takes each node\'s maximum, so re-delivering an old state changes nothing', () => {
    const a1 = incrementCounter(EMPTY_COUNTER, 'a', 1)
    const a2 = incrementCounter(a1, 'a', -4)
    expect(mergeCounters(a2, a1)).toEqual({ a: { p: 1, n: 4, ops: 2 } })
    expect(mergeCounters(a1, a2)).toEqual({ a: { p: 1, n: 4, ops: 2 } })
  })

  it('after any run, once every replica has every state, each shows the sum of every increment', () => {
    fc.assert(fc.property(fc.array(fc.tuple(fc.constantFrom('a', 'b', 'c'), fc.integer({ min: -100, max: 100 })), { maxLength: 40 }), ops => {
      const replicas = new Map<string, CounterState>()
      for (const [node, by] of ops) replicas.set(node, incrementCounter(replicas.get(node) ?? EMPTY_COUNTER, node, by))
      const all = [...replicas.values()].reduce(mergeCounters, EMPTY_COUNTER)
      expect(counterValue(all)).toBe(ops.reduce((t, [, by]) => t + by, 0))
      for (const node of ['a', 'b', 'c']) {
        expect(counterContext(all)[node]).toBe(ops.filter(([n, by]) => n === node && by !== 0).length || undefined)
      }
    }))
  })

  it('reachable states of the law suite\'s worlds have consistent totals', () => {
    fc.assert(fc.property(worldArbitrary(counters), w => {
      for (const s of w.all) {
        for (const e of Object.values(s)) {
          expect(e.ops).toBeGreaterThan(0)
          expect(e.p + e.n).toBeGreaterThan(0)
        }
      }
    }), { numRuns: 50 })
  })

  it('wouldOverflow guards the safe-integer range of each total', () => {
    const max = Number.MAX_SAFE_INTEGER
    expect(wouldOverflow(EMPTY_COUNTER, 'a', max)).toBe(false)
    expect(wouldOverflow(EMPTY_COUNTER, 'a', -max)).toBe(false)
    const high = incrementCounter(EMPTY_COUNTER, 'a', max - 10)
    expect(wouldOverflow(high, 'a', 10)).toBe(false)
    expect(wouldOverflow(high, 'a', 11)).toBe(true)
    expect(wouldOverflow(high, 'a', -max)).toBe(false) // n is a separate total
    expect(wouldOverflow(high, 'b', 11)).toBe(false) // per node
    const low = incrementCounter(EMPTY_COUNTER, 'a', -(max - 1))
    expect(wouldOverflow(low, 'a', -1)).toBe(false)
    expect(wouldOverflow(low, 'a', -2)).toBe(true)
    expect(wouldOverflow(low, 'a', 0)).toBe(false)
  })

  it('node ids that are names of Object.prototype members count like any other', () => {
    const s = incrementCounter(EMPTY_COUNTER, 'constructor', 2)
    expect(s).toEqual({ constructor: { p: 2, n: 0, ops: 1 } })
    expect(counterValue(mergeCounters(EMPTY_COUNTER, s))).toBe(2)
    expect(counterValue(mergeCounters(s, incrementCounter(EMPTY_COUNTER, 'toString', -1)))).toBe(1)
    expect(wouldOverflow(EMPTY_COUNTER, 'toString', 1)).toBe(false)
  })
})
