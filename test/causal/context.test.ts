import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  EMPTY_REGISTER, contextAfterWrite, contextCovers, contextOf, mergeRegisters, normaliseContext, vvCoversContext, writeRegister,
  type CausalContext, type RegisterState
} from '../../src/causal/index.js'
import { MAX_CONTEXT_DOTS } from '../../src/constants.js'
import { worldArbitrary } from '../helpers/crdt-laws.js'
import { registers } from './register-subject.js'

const hlc = (wall: number): { wall: number, logical: number } => ({ wall, logical: 0 })
const dots = (s: RegisterState): string[] => s.siblings.map(x => `${x.node}${x.counter}`)

describe('the context a write returns', () => {
  it('regression: it covers only what the write superseded and the write itself, so a second write keeps the sibling it never saw', () => {
    // Client 1 writes "a" blindly; client 2, having read the key while it was empty, writes "b".
    const a = writeRegister(EMPTY_REGISTER, { node: 'n', hlc: hlc(1), value: '"a"' })
    const emptyRead = contextOf(EMPTY_REGISTER.vv)
    const b = writeRegister(a, { node: 'n', hlc: hlc(2), value: '"b"', context: emptyRead })
    expect(dots(b)).toEqual(['n1', 'n2'])
    const returned = contextAfterWrite(b, 'n', emptyRead)
    expect(returned).toEqual({ vv: {}, dots: [{ node: 'n', counter: 2 }] })
    // Client 2 writes again with what it was given: "a" stays, only its own "b" is superseded.
    const c = writeRegister(b, { node: 'n', hlc: hlc(3), value: '"c"', context: returned })
    expect(dots(c)).toEqual(['n1', 'n3'])
    // Before: the returned context was the state's whole vector, and "a" vanished without a trace.
    const old = writeRegister(b, { node: 'n', hlc: hlc(3), value: '"c"', context: contextOf(b.vv) })
    expect(dots(old)).toEqual(['n3'])
  })

  it('a blind write returns everything the replica had seen plus itself', () => {
    const s = writeRegister(writeRegister(EMPTY_REGISTER, { node: 'b', hlc: hlc(1), value: '1' }), { node: 'a', hlc: hlc(2), value: '2' })
    expect(contextAfterWrite(s, 'a', undefined)).toEqual({ vv: { a: 1, b: 1 }, dots: [] })
  })

  it('names nothing the replica had not seen, however much the client\'s context claimed', () => {
    const s = writeRegister(EMPTY_REGISTER, { node: 'a', hlc: hlc(1), value: '1', context: contextOf({ a: 9, b: 5 }) })
    expect(contextAfterWrite(s, 'a', { vv: { a: 9, b: 5 }, dots: [{ node: 'c', counter: 3 }] })).toEqual({ vv: { a: 1 }, dots: [] })
  })

  it('property: covers the new version, covers no surviving sibling, and a write with it keeps every survivor', () => {
    fc.assert(fc.property(worldArbitrary(registers), fc.nat(), fc.nat(), fc.boolean(), (w, pickState, pickContext, blind) => {
      const state = w.all[pickState % w.all.length] as RegisterState
      const read = blind ? undefined : contextOf((w.all[pickContext % w.all.length] as RegisterState).vv)
      const after = writeRegister(state, { node: 'w', hlc: hlc(100), value: '"x"', ...(read === undefined ? {} : { context: read }) })
      const ctx = contextAfterWrite(after, 'w', read)
      const mine = after.siblings.find(s => s.node === 'w' && s.counter === after.vv.w)
      expect(mine).toBeDefined()
      expect(contextCovers(ctx, mine as { node: string, counter: number })).toBe(true)
      const survivors = after.siblings.filter(s => s !== mine)
      for (const s of survivors) expect(contextCovers(ctx, s)).toBe(false)
      expect(vvCoversContext(after.vv, ctx)).toBe(true)
      const again = writeRegister(after, { node: 'w', hlc: hlc(101), value: '"y"', context: ctx })
      expect(again.siblings.filter(s => s.node !== 'w' || s.counter !== again.vv.w)).toEqual(survivors)
      // Replicas that merge the result agree whatever the order.
      expect(mergeRegisters(again, state)).toEqual(mergeRegisters(state, again))
    }), { numRuns: 300 })
  })
})

describe('normaliseContext', () => {
  it('folds dots that extend the vector, drops covered and repeated ones, and sorts the rest', () => {
    const c = normaliseContext({ a: 2 }, [{ node: 'b', counter: 4 }, { node: 'a', counter: 4 }, { node: 'a', counter: 3 }, { node: 'a', counter: 1 }, { node: 'b', counter: 4 }])
    expect(c).toEqual({ vv: { a: 4 }, dots: [{ node: 'b', counter: 4 }] })
  })

  it(`keeps at most MAX_CONTEXT_DOTS (${MAX_CONTEXT_DOTS}) dots, the newest: covering less only keeps more siblings`, () => {
    const many = Array.from({ length: MAX_CONTEXT_DOTS + 10 }, (_, i) => ({ node: 'a', counter: 2 * i + 2 }))
    const c: CausalContext = normaliseContext({}, many)
    expect(c.dots).toHaveLength(MAX_CONTEXT_DOTS)
    expect(c.dots[0]).toEqual({ node: 'a', counter: 22 })
  })

  it('regression (review): past the bound the write itself is always kept, whatever the other nodes\' counters', () => {
    // A context full of another node's high counters, then a write on a node whose counters are low.
    const high = Array.from({ length: MAX_CONTEXT_DOTS }, (_, i) => ({ node: 'z', counter: 1000 + 2 * i }))
    const written = { node: 'c', counter: 51 }
    const c = normaliseContext({}, [...high, written], written)
    expect(c.dots).toHaveLength(MAX_CONTEXT_DOTS)
    expect(contextCovers(c, written)).toBe(true)
  })
})

describe('vvCoversContext', () => {
  it('needs the whole vector and every dot', () => {
    expect(vvCoversContext({ a: 3 }, { vv: { a: 2 }, dots: [{ node: 'a', counter: 3 }] })).toBe(true)
    expect(vvCoversContext({ a: 3 }, { vv: { a: 2 }, dots: [{ node: 'a', counter: 4 }] })).toBe(false)
    expect(vvCoversContext({ a: 3 }, { vv: { b: 1 }, dots: [] })).toBe(false)
  })
})
