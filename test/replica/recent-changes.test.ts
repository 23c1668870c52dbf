import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { RecentChanges } from '../../src/replica/recent-changes.js'

describe('RecentChanges (which keys anti-entropy may leave to gossip)', () => {
  it('gives the start of a key\'s run while it changed within the window, and nothing after', () => {
    const r = new RecentChanges(1000, 100)
    r.touch('a', 5_000)
    expect(r.runStart('a', 5_000)).toBe(5_000)
    expect(r.runStart('a', 5_999)).toBe(5_000)
    expect(r.runStart('a', 6_000)).toBeUndefined()
    expect(r.runStart('never', 5_000)).toBeUndefined()
  })

  it('keeps a run going while changes come less than the window apart, so a hot key is not fresh for ever', () => {
    const r = new RecentChanges(1000, 100)
    for (let t = 0; t <= 10_000; t += 100) r.touch('hot', t)
    // Changed 0 ms ago, but its run began 10 s ago: older than any fresh window of 1 s.
    expect(r.runStart('hot', 10_000)).toBe(0)
  })

  it('starts a new run after a quiet spell of at least the window', () => {
    const r = new RecentChanges(1000, 100)
    r.touch('k', 0)
    r.touch('k', 999)
    expect(r.runStart('k', 1_500)).toBe(0)
    r.touch('k', 2_000) // 1,001 ms after the last change
    expect(r.runStart('k', 2_000)).toBe(2_000)
  })

  it('remembers at most maxKeys runs, forgetting the oldest (which are then sent, never skipped)', () => {
    const r = new RecentChanges(1000, 3)
    for (const [i, k] of ['a', 'b', 'c', 'd', 'e'].entries()) r.touch(k, 100 + i)
    expect(r.size).toBe(3)
    expect(r.runStart('a', 200)).toBeUndefined()
    expect(r.runStart('b', 200)).toBeUndefined()
    expect(r.runStart('e', 200)).toBe(104)
  })

  it('forgets runs that ended a window ago', () => {
    const r = new RecentChanges(1000, 100)
    for (let i = 0; i < 50; i++) r.touch(`old${i}`, i)
    r.touch('new', 5_000)
    expect(r.size).toBe(1)
  })

  it('records nothing with a window of 0, and refuses nonsense bounds', () => {
    const r = new RecentChanges(0, 10)
    r.touch('a', 1)
    expect(r.size).toBe(0)
    expect(r.runStart('a', 1)).toBeUndefined()
    expect(() => new RecentChanges(-1, 10)).toThrow(RangeError)
    expect(() => new RecentChanges(1.5, 10)).toThrow(RangeError)
    expect(() => new RecentChanges(10, 0)).toThrow(RangeError)
  })

  it('a clock that goes back continues the run (no quiet spell is made up)', () => {
    const r = new RecentChanges(1000, 100)
    r.touch('k', 10_000)
    r.touch('k', 4_000)
    expect(r.runStart('k', 10_500)).toBe(10_000)
  })

  it('agrees with a model: runStart is the first change after the last gap of ≥ window, while the last change is within it', () => {
    const window = 100
    fc.assert(fc.property(
      fc.array(fc.tuple(fc.constantFrom('a', 'b', 'c'), fc.integer({ min: 0, max: 150 })), { maxLength: 60 }),
      fc.integer({ min: 0, max: 200 }),
      (steps, after) => {
        const r = new RecentChanges(window, 1000)
        const model = new Map<string, { first: number, last: number }>()
        let t = 0
        for (const [k, dt] of steps) {
          t += dt
          r.touch(k, t)
          const m = model.get(k)
          if (m !== undefined && t - m.last < window) m.last = t
          else model.set(k, { first: t, last: t })
        }
        const now = t + after
        for (const k of ['a', 'b', 'c']) {
          const m = model.get(k)
          const expected = m !== undefined && now - m.last < window ? m.first : undefined
          expect(r.runStart(k, now)).toBe(expected)
        }
      }
    ))
  })
})
