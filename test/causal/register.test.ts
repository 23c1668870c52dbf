import { describe, expect, it } from 'vitest'
import {
  EMPTY_REGISTER, compareSiblings, contextOf, hasConflict, isDeleted, mergeRegisters, registerWinner, writeRegister
} from '../../src/causal/index.js'
import type { RegisterState, Sibling } from '../../src/causal/index.js'
import { MAX_SIBLINGS } from '../../src/constants.js'
import { encodeRegister } from '../../src/codec/index.js'

const hlc = (wall: number, logical = 0): { wall: number, logical: number } => ({ wall, logical })
const values = (s: RegisterState): Array<string | undefined> => s.siblings.map(x => x.value)
const dots = (s: RegisterState): string[] => s.siblings.map(x => `${x.node}${x.counter}`)
const hex = (s: RegisterState): string => Buffer.from(encodeRegister(s)).toString('hex')
/** A context that covers nothing: the write supersedes no sibling. */
const NOTHING = contextOf({})

describe('writeRegister', () => {
  it('a first write on an empty register creates one sibling with dot a:1', () => {
    const s = writeRegister(EMPTY_REGISTER, { node: 'a', hlc: hlc(10), value: '"v"' })
    expect(s).toEqual({ vv: { a: 1 }, siblings: [{ node: 'a', counter: 1, hlc: hlc(10), value: '"v"' }] })
    expect(hasConflict(s)).toBe(false)
    expect(isDeleted(s)).toBe(false)
    expect(registerWinner(s)?.value).toBe('"v"')
  })

  it('a write without context supersedes every sibling the replica has seen', () => {
    const a1 = writeRegister(EMPTY_REGISTER, { node: 'a', hlc: hlc(1), value: '1' })
    const b1 = writeRegister(EMPTY_REGISTER, { node: 'b', hlc: hlc(1), value: '2' })
    const both = mergeRegisters(a1, b1)
    expect(dots(both)).toEqual(['a1', 'b1'])
    const next = writeRegister(both, { node: 'a', hlc: hlc(5), value: '3' })
    expect(next).toEqual({ vv: { a: 2, b: 1 }, siblings: [{ node: 'a', counter: 2, hlc: hlc(5), value: '3' }] })
    expect(hasConflict(next)).toBe(false)
  })

  it('a write with a context supersedes exactly what the context covers; an unseen concurrent write survives', () => {
    const a1 = writeRegister(EMPTY_REGISTER, { node: 'a', hlc: hlc(1), value: '"first"' })
    const readContext = a1.vv // a client reads {a:1} from node a
    // Meanwhile node b, having received a1, writes concurrently without context.
    const b1 = writeRegister(a1, { node: 'b', hlc: hlc(2), value: '"b"' })
    expect(dots(b1)).toEqual(['b1'])
    // Node a receives b's write, then the client's write arrives with its stale context.
    const atA = mergeRegisters(a1, b1)
    expect(dots(atA)).toEqual(['b1'])
    const c = writeRegister(atA, { node: 'a', hlc: hlc(3), value: '"client"', context: contextOf(readContext) })
    expect(c.vv).toEqual({ a: 2, b: 1 })
    expect(c.siblings).toEqual([
      { node: 'a', counter: 2, hlc: hlc(3), value: '"client"' },
      { node: 'b', counter: 1, hlc: hlc(2), value: '"b"' }
    ])
    expect(hasConflict(c)).toBe(true)
    expect(registerWinner(c)?.value).toBe('"client"')
    // Node b learns of it and agrees.
    expect(hex(mergeRegisters(b1, c))).toBe(hex(c))
  })

  it('a write with a context from another node supersedes only what this node has received; the rest arrives as siblings', () => {
    const b1 = writeRegister(EMPTY_REGISTER, { node: 'b', hlc: hlc(1), value: '"old"' })
    // The client read b1 from node b and writes to node a, which has not seen b1: a context
    // never enters the state, so it cannot make a node skip versions it has not received.
    const a1 = writeRegister(EMPTY_REGISTER, { node: 'a', hlc: hlc(2), value: '"new"', context: contextOf(b1.vv) })
    expect(a1).toEqual({ vv: { a: 1 }, siblings: [{ node: 'a', counter: 1, hlc: hlc(2), value: '"new"' }] })
    // When b1 arrives it is a sibling (nothing lost), the same in either direction.
    expect(dots(mergeRegisters(a1, b1))).toEqual(['a1', 'b1'])
    expect(hex(mergeRegisters(b1, a1))).toBe(hex(mergeRegisters(a1, b1)))
  })

  it('a write with an empty context supersedes nothing', () => {
    const a1 = writeRegister(EMPTY_REGISTER, { node: 'a', hlc: hlc(1), value: '1' })
    const a2 = writeRegister(a1, { node: 'a', hlc: hlc(2), value: '2', context: NOTHING })
    expect(a2.vv).toEqual({ a: 2 })
    expect(dots(a2)).toEqual(['a1', 'a2'])
    expect(values(a2)).toEqual(['1', '2'])
  })

  it('regression: a context\'s counters never move the writer\'s dots (a forged 2^53-1 bricked the key)', () => {
    const forged = contextOf({ a: Number.MAX_SAFE_INTEGER, b: Number.MAX_SAFE_INTEGER })
    const s = writeRegister(EMPTY_REGISTER, { node: 'a', hlc: hlc(1), value: '1', context: forged })
    expect(s).toEqual({ vv: { a: 1 }, siblings: [{ node: 'a', counter: 1, hlc: hlc(1), value: '1' }] })
    expect(writeRegister(s, { node: 'a', hlc: hlc(2), value: '2', context: forged }).vv).toEqual({ a: 2 })
  })

  it('a context with individual dots supersedes exactly those dots', () => {
    const a1 = writeRegister(EMPTY_REGISTER, { node: 'a', hlc: hlc(1), value: '1' })
    const a2 = writeRegister(a1, { node: 'a', hlc: hlc(2), value: '2', context: NOTHING })
    const a3 = writeRegister(a2, { node: 'a', hlc: hlc(3), value: '3', context: NOTHING })
    const s = writeRegister(a3, { node: 'a', hlc: hlc(4), value: '4', context: { vv: { a: 1 }, dots: [{ node: 'a', counter: 3 }] } })
    expect(dots(s)).toEqual(['a2', 'a4'])
  })

  it('does not mutate the previous state', () => {
    const a1 = writeRegister(EMPTY_REGISTER, { node: 'a', hlc: hlc(1), value: '1' })
    const before = hex(a1)
    writeRegister(a1, { node: 'a', hlc: hlc(2), value: '2' })
    writeRegister(a1, { node: 'b', hlc: hlc(2), value: '2', context: NOTHING })
    expect(hex(a1)).toBe(before)
    expect(EMPTY_REGISTER).toEqual({ vv: {}, siblings: [] })
  })
})

describe('concurrent writes', () => {
  it('two nodes writing concurrently give two siblings and the same winner on both', () => {
    const a = writeRegister(EMPTY_REGISTER, { node: 'a', hlc: hlc(100, 0), value: '"A"' })
    const b = writeRegister(EMPTY_REGISTER, { node: 'b', hlc: hlc(99, 5), value: '"B"' })
    const atA = mergeRegisters(a, b)
    const atB = mergeRegisters(b, a)
    expect(hex(atA)).toBe(hex(atB))
    expect(atA.vv).toEqual({ a: 1, b: 1 })
    expect(values(atA)).toEqual(['"A"', '"B"'])
    expect(hasConflict(atA)).toBe(true)
    expect(registerWinner(atA)?.value).toBe('"A"') // greater HLC wins
    expect(registerWinner(atB)?.value).toBe('"A"')
  })

  it('equal HLCs are broken by node id (greater id wins), the same on every replica', () => {
    const a = writeRegister(EMPTY_REGISTER, { node: 'a', hlc: hlc(7, 3), value: '"A"' })
    const b = writeRegister(EMPTY_REGISTER, { node: 'b', hlc: hlc(7, 3), value: '"B"' })
    expect(registerWinner(mergeRegisters(a, b))).toEqual({ node: 'b', counter: 1, hlc: hlc(7, 3), value: '"B"' })
    expect(registerWinner(mergeRegisters(b, a))).toEqual({ node: 'b', counter: 1, hlc: hlc(7, 3), value: '"B"' })
  })

  it('the logical component orders writes within one millisecond', () => {
    const a = writeRegister(EMPTY_REGISTER, { node: 'z', hlc: hlc(7, 1), value: '"Z"' })
    const b = writeRegister(EMPTY_REGISTER, { node: 'a', hlc: hlc(7, 2), value: '"A"' })
    expect(registerWinner(mergeRegisters(a, b))?.value).toBe('"A"')
  })

  it('a later write that has seen both siblings resolves the conflict everywhere', () => {
    const a = writeRegister(EMPTY_REGISTER, { node: 'a', hlc: hlc(1), value: '"A"' })
    const b = writeRegister(EMPTY_REGISTER, { node: 'b', hlc: hlc(1), value: '"B"' })
    const merged = mergeRegisters(a, b)
    const resolved = writeRegister(merged, { node: 'c', hlc: hlc(2), value: '"AB"', context: contextOf(merged.vv) })
    expect(resolved.vv).toEqual({ a: 1, b: 1, c: 1 })
    expect(values(resolved)).toEqual(['"AB"'])
    for (const other of [a, b, merged]) {
      expect(values(mergeRegisters(other, resolved))).toEqual(['"AB"'])
      expect(values(mergeRegisters(resolved, other))).toEqual(['"AB"'])
    }
  })

  it('merging with the empty register returns an equal state', () => {
    const a = writeRegister(EMPTY_REGISTER, { node: 'a', hlc: hlc(1), value: '1' })
    expect(mergeRegisters(a, EMPTY_REGISTER)).toEqual(a)
    expect(mergeRegisters(EMPTY_REGISTER, a)).toEqual(a)
    expect(mergeRegisters(EMPTY_REGISTER, EMPTY_REGISTER)).toEqual(EMPTY_REGISTER)
  })
})

describe('deletes', () => {
  it('a delete without context is a tombstone that supersedes what the replica has seen', () => {
    const a1 = writeRegister(EMPTY_REGISTER, { node: 'a', hlc: hlc(1), value: '1' })
    const del = writeRegister(a1, { node: 'a', hlc: hlc(2) })
    expect(del).toEqual({ vv: { a: 2 }, siblings: [{ node: 'a', counter: 2, hlc: hlc(2) }] })
    expect('value' in (del.siblings[0] as Sibling)).toBe(false)
    expect(isDeleted(del)).toBe(true)
    expect(hasConflict(del)).toBe(false)
    expect(isDeleted(mergeRegisters(a1, del))).toBe(true)
  })

  it('a delete concurrent with a write keeps the write as a sibling; the LWW winner decides the read', () => {
    const base = writeRegister(EMPTY_REGISTER, { node: 'a', hlc: hlc(1), value: '"v0"' })
    const del = writeRegister(base, { node: 'a', hlc: hlc(3) })
    const put = writeRegister(base, { node: 'b', hlc: hlc(2), value: '"v1"' })
    const m = mergeRegisters(del, put)
    expect(dots(m)).toEqual(['a2', 'b1'])
    expect(hasConflict(m)).toBe(true)
    expect(isDeleted(m)).toBe(true) // the tombstone is newer
    const put2 = writeRegister(base, { node: 'b', hlc: hlc(4), value: '"v2"' })
    const m2 = mergeRegisters(del, put2)
    expect(isDeleted(m2)).toBe(false)
    expect(registerWinner(m2)?.value).toBe('"v2"')
  })

  it('a delete with a stale context leaves unseen writes in place', () => {
    const a1 = writeRegister(EMPTY_REGISTER, { node: 'a', hlc: hlc(1), value: '1' })
    const b1 = writeRegister(a1, { node: 'b', hlc: hlc(2), value: '2' })
    const atA = mergeRegisters(a1, b1)
    const del = writeRegister(atA, { node: 'a', hlc: hlc(3), context: contextOf(a1.vv) })
    expect(dots(del)).toEqual(['a2', 'b1'])
    expect(values(del)).toEqual([undefined, '2'])
    expect(isDeleted(del)).toBe(true)
  })

  it('an empty register reads as deleted and has no winner', () => {
    expect(registerWinner(EMPTY_REGISTER)).toBeUndefined()
    expect(isDeleted(EMPTY_REGISTER)).toBe(true)
    expect(hasConflict(EMPTY_REGISTER)).toBe(false)
  })
})

describe('compareSiblings', () => {
  it('orders by HLC, then node id, then counter', () => {
    const s = (node: string, counter: number, wall: number, logical: number): Sibling => ({ node, counter, hlc: hlc(wall, logical) })
    expect(compareSiblings(s('z', 9, 1, 0), s('a', 1, 2, 0))).toBeLessThan(0)
    expect(compareSiblings(s('z', 9, 1, 1), s('a', 1, 1, 0))).toBeGreaterThan(0)
    expect(compareSiblings(s('a', 9, 1, 1), s('b', 1, 1, 1))).toBeLessThan(0)
    expect(compareSiblings(s('a', 2, 1, 1), s('a', 3, 1, 1))).toBeLessThan(0)
    expect(compareSiblings(s('a', 3, 1, 1), s('a', 3, 1, 1))).toBe(0)
  })
})

describe('sibling cap', () => {
  it('MAX_SIBLINGS is the default cap on writes', () => {
    let s = EMPTY_REGISTER
    for (let i = 1; i <= MAX_SIBLINGS + 3; i++) s = writeRegister(s, { node: 'a', hlc: hlc(i), value: String(i), context: NOTHING })
    expect(s.siblings).toHaveLength(MAX_SIBLINGS)
    expect(s.vv).toEqual({ a: MAX_SIBLINGS + 3 })
    expect(s.siblings[0]?.counter).toBe(4)
  })

  it('drops the oldest siblings by LWW order, not by dot, and keeps their dots in the vector', () => {
    // Concurrent writes from b, c and d reach a; a writes with an empty context, superseding nothing.
    const b = writeRegister(EMPTY_REGISTER, { node: 'b', hlc: hlc(50), value: '"b"' })
    const c = writeRegister(EMPTY_REGISTER, { node: 'c', hlc: hlc(10), value: '"c"' })
    const d = writeRegister(EMPTY_REGISTER, { node: 'd', hlc: hlc(30), value: '"d"' })
    const atA = mergeRegisters(mergeRegisters(b, c), d)
    expect(dots(atA)).toEqual(['b1', 'c1', 'd1'])
    const s = writeRegister(atA, { node: 'a', hlc: hlc(60), value: '"a"', context: NOTHING }, 3)
    // c1 is the oldest by HLC and goes, although it is not the smallest dot.
    expect(dots(s)).toEqual(['a1', 'b1', 'd1'])
    expect(s.vv).toEqual({ a: 1, b: 1, c: 1, d: 1 })
    // The drop propagates: a replica still holding c1 drops it too, it does not revive.
    expect(dots(mergeRegisters(c, s))).toEqual(['a1', 'b1', 'd1'])
    expect(dots(mergeRegisters(atA, s))).toEqual(['a1', 'b1', 'd1'])
  })

  it('ties on HLC drop the smaller node id first', () => {
    const b = writeRegister(EMPTY_REGISTER, { node: 'b', hlc: hlc(5), value: '"b"' })
    const c = writeRegister(EMPTY_REGISTER, { node: 'c', hlc: hlc(5), value: '"c"' })
    const s = writeRegister(mergeRegisters(b, c), { node: 'a', hlc: hlc(9), value: '"a"', context: NOTHING }, 2)
    expect(dots(s)).toEqual(['a1', 'c1'])
  })

  it('regression: replicas converge when a sibling is capped out and the siblings that outranked it are superseded', () => {
    // Found by the law suite: when merges applied the cap, merging {a1} with b's MAX_SIBLINGS
    // newer siblings dropped a1, and b's next blind write then superseded all of b's — while a
    // replica that merged {a1} with that write first kept a1. They never converged, and merging
    // the two lost every value.
    const a = writeRegister(EMPTY_REGISTER, { node: 'a', hlc: hlc(1), value: '"a"' })
    let b = EMPTY_REGISTER
    for (let i = 1; i <= MAX_SIBLINGS; i++) b = writeRegister(b, { node: 'b', hlc: hlc(1 + i), value: String(i), context: NOTHING })
    const blind = writeRegister(b, { node: 'b', hlc: hlc(100), value: '"last"' })
    expect(dots(blind)).toEqual([`b${MAX_SIBLINGS + 1}`])
    const left = mergeRegisters(mergeRegisters(a, b), blind)
    const right = mergeRegisters(a, mergeRegisters(b, blind))
    expect(hex(left)).toBe(hex(right))
    expect(dots(left)).toEqual(['a1', `b${MAX_SIBLINGS + 1}`])
    expect(hex(mergeRegisters(left, right))).toBe(hex(left))
  })
})

describe('merge with a faulty peer that reused a dot', () => {
  it('picks the same sibling whatever the argument order, even for a tombstone against an empty-string value', async () => {
    const { mergeRegisters } = await import('../../src/causal/index.js')
    const hlc = { wall: 5, logical: 0 }
    const tombstone = { vv: { a: 1 }, siblings: [{ node: 'a', counter: 1, hlc }] }
    const empty = { vv: { a: 1 }, siblings: [{ node: 'a', counter: 1, hlc, value: '' }] }
    expect(mergeRegisters(tombstone, empty)).toEqual(mergeRegisters(empty, tombstone))
  })
})
