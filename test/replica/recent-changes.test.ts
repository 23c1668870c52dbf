import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { freshRunGapMs, RecentChanges } from '../../src/replica/recent-changes.js'

const WINDOW = 1000
const GAP = freshRunGapMs(WINDOW, 3000) // 5,600 ms
const make = (over: Partial<ConstructorParameters<typeof RecentChanges>[0]> = {}): RecentChanges =>
  new RecentChanges({ windowMs: WINDOW, runGapMs: GAP, maxKeys: 100, maxKeyBytes: 1 << 20, ...over })

/** Whether anti-entropy would leave the key out at `now` (session.ts: the run began within the window). */
const fresh = (r: RecentChanges, key: string, now: number): boolean => {
  const began = r.runStart(key, now)
  return began !== undefined && began >= now - WINDOW && began <= now
}

describe('RecentChanges (which keys anti-entropy may leave to gossip)', () => {
  it('the gap is two windows and the longest wait between scheduled exchanges', () => {
    expect(GAP).toBe(2 * 1000 + 3600)
  })

  it('a key changed once is fresh for one window, and has no run after the gap', () => {
    const r = make()
    r.touch('a', 5_000)
    expect(fresh(r, 'a', 5_000)).toBe(true)
    expect(fresh(r, 'a', 5_999)).toBe(true)
    expect(fresh(r, 'a', 6_001)).toBe(false)
    expect(r.runStart('a', 5_000 + GAP)).toBeUndefined()
    expect(r.runStart('never', 5_000)).toBeUndefined()
  })

  it('a key written without pause is fresh only in its run\'s first window', () => {
    const r = make()
    for (let t = 0; t <= 10_000; t += 100) r.touch('hot', t)
    expect(r.runStart('hot', 10_000)).toBe(0)
    expect(fresh(r, 'hot', 10_000)).toBe(false)
  })

  it('a key written periodically is not fresh for longer than an anti-entropy interval in every period, whatever the period (review finding: a write every ~1 s was fresh 99.7 % of the time)', () => {
    for (const period of [500, 999, 1000, 1003, 1500, 2000, 3000, 5000, GAP - 1, GAP, GAP + 1, 8000, 20_000]) {
      const r = make()
      let longestStale = 0
      let staleSince: number | undefined
      for (let t = 0; t < 120_000; t += 10) {
        if (t % period === 0) r.touch('k', t)
        if (fresh(r, 'k', t)) {
          if (staleSince !== undefined) longestStale = Math.max(longestStale, t - staleSince)
          staleSince = undefined
        } else {
          staleSince ??= t
        }
      }
      if (staleSince !== undefined) longestStale = Math.max(longestStale, 120_000 - staleSince)
      // Some stretch not fresh that is longer than the longest wait between two exchanges (3.6 s).
      expect(longestStale, `period ${period}`).toBeGreaterThan(3600)
    }
  })

  it('remembers at most maxKeys runs and maxKeyBytes of keys, forgetting the oldest (which are then sent, never skipped)', () => {
    const r = make({ maxKeys: 3 })
    for (const [i, k] of ['a', 'b', 'c', 'd', 'e'].entries()) r.touch(k, 100 + i)
    expect(r.size).toBe(3)
    expect(r.runStart('a', 200)).toBeUndefined()
    expect(r.runStart('e', 200)).toBe(104)
    const bytes = make({ maxKeyBytes: 10 })
    bytes.touch('aaaa', 1)
    bytes.touch('bbbb', 2)
    bytes.touch('cccc', 3)
    expect(bytes.size).toBe(2)
    expect(bytes.runStart('aaaa', 3)).toBeUndefined()
  })

  it('forgets runs that ended', () => {
    const r = make()
    for (let i = 0; i < 50; i++) r.touch(`old${i}`, i)
    r.touch('new', GAP + 100)
    expect(r.size).toBe(1)
  })

  it('records nothing with a window of 0, and refuses nonsense bounds', () => {
    const r = make({ windowMs: 0 })
    r.touch('a', 1)
    expect(r.size).toBe(0)
    expect(() => make({ windowMs: -1 })).toThrow(RangeError)
    expect(() => make({ windowMs: 1.5 })).toThrow(RangeError)
    expect(() => make({ runGapMs: WINDOW - 1 })).toThrow(RangeError)
    expect(() => make({ maxKeys: 0 })).toThrow(RangeError)
    expect(() => make({ maxKeyBytes: 0 })).toThrow(RangeError)
  })

  it('a clock that goes back continues the run (no quiet spell is made up), and a run from the future is not fresh', () => {
    const r = make()
    r.touch('k', 10_000)
    r.touch('k', 4_000)
    expect(r.runStart('k', 10_500)).toBe(10_000)
    expect(fresh(r, 'k', 4_500)).toBe(false)
  })

  it('agrees with a model: runStart is the first change after the last gap, while the last change is within the gap', () => {
    const gap = 300
    fc.assert(fc.property(
      fc.array(fc.tuple(fc.constantFrom('a', 'b', 'c'), fc.integer({ min: 0, max: 400 })), { maxLength: 60 }),
      fc.integer({ min: 0, max: 500 }),
      (steps, after) => {
        const r = new RecentChanges({ windowMs: 100, runGapMs: gap, maxKeys: 1000, maxKeyBytes: 1 << 20 })
        const model = new Map<string, { first: number, last: number }>()
        let t = 0
        for (const [k, dt] of steps) {
          t += dt
          r.touch(k, t)
          const m = model.get(k)
          if (m !== undefined && t - m.last < gap) m.last = t
          else model.set(k, { first: t, last: t })
        }
        const now = t + after
        for (const k of ['a', 'b', 'c']) {
          const m = model.get(k)
          expect(r.runStart(k, now)).toBe(m !== undefined && now - m.last < gap ? m.first : undefined)
        }
      }
    ))
  })
})
