import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { DEFAULT_MAX_DRIFT_MS, HybridLogicalClock, ZERO_HLC, compareHlc, formatHlc, isValidHlc, skewCorrection } from '../../src/clock/index.js'
import type { Hlc } from '../../src/clock/index.js'
import { MAX_HLC_LOGICAL, MAX_HLC_WALL } from '../../src/constants.js'

/** A clock whose physical time the test sets. */
function manualClock (start: number, maxDriftMs?: number): { clock: HybridLogicalClock, set: (t: number) => void } {
  let t = start
  const clock = new HybridLogicalClock({ now: () => t, ...(maxDriftMs === undefined ? {} : { maxDriftMs }) })
  return { clock, set: v => { t = v } }
}

describe('compareHlc, formatHlc, isValidHlc', () => {
  it('orders by wall, then logical', () => {
    expect(compareHlc({ wall: 1, logical: 9 }, { wall: 2, logical: 0 })).toBe(-1)
    expect(compareHlc({ wall: 2, logical: 0 }, { wall: 1, logical: 9 })).toBe(1)
    expect(compareHlc({ wall: 2, logical: 1 }, { wall: 2, logical: 2 })).toBe(-1)
    expect(compareHlc({ wall: 2, logical: 3 }, { wall: 2, logical: 2 })).toBe(1)
    expect(compareHlc({ wall: 2, logical: 2 }, { wall: 2, logical: 2 })).toBe(0)
  })

  it('compareHlc is a total order (antisymmetric, transitive)', () => {
    const hlc = fc.record({ wall: fc.integer({ min: 0, max: 3 }), logical: fc.integer({ min: 0, max: 3 }) })
    fc.assert(fc.property(hlc, hlc, hlc, (a, b, c) => {
      expect(compareHlc(a, b) + compareHlc(b, a)).toBe(0)
      expect(compareHlc(a, b) === 0).toBe(a.wall === b.wall && a.logical === b.logical)
      if (compareHlc(a, b) <= 0 && compareHlc(b, c) <= 0) expect(compareHlc(a, c)).toBeLessThanOrEqual(0)
    }))
  })

  it('formats as wall:logical', () => {
    expect(formatHlc({ wall: 1795875390123, logical: 0 })).toBe('1795875390123:0')
    expect(formatHlc({ wall: 5, logical: 12 })).toBe('5:12')
  })

  it('validates non-negative integers within the documented bounds', () => {
    expect(isValidHlc(ZERO_HLC)).toBe(true)
    expect(isValidHlc({ wall: MAX_HLC_WALL, logical: MAX_HLC_LOGICAL })).toBe(true)
    for (const bad of [{ wall: -1, logical: 0 }, { wall: 0, logical: -1 }, { wall: 1.5, logical: 0 }, { wall: 0, logical: 0.5 },
      { wall: Number.NaN, logical: 0 }, { wall: Number.MAX_SAFE_INTEGER + 1, logical: 0 }, { wall: Infinity, logical: 0 },
      { wall: MAX_HLC_WALL + 1, logical: 0 }, { wall: 0, logical: MAX_HLC_LOGICAL + 1 }, { wall: 1, logical: Number.MAX_SAFE_INTEGER }]) {
      expect(isValidHlc(bad)).toBe(false)
    }
  })

  it('ZERO_HLC is frozen at 0:0', () => {
    expect(ZERO_HLC).toEqual({ wall: 0, logical: 0 })
    expect(Object.isFrozen(ZERO_HLC)).toBe(true)
  })
})

describe('HybridLogicalClock', () => {
  it('regression: a remote timestamp with a forged logical counter does not drag the clock (HLC poison)', () => {
    const clock = new HybridLogicalClock({ now: () => 1000 })
    clock.observe({ wall: 1000, logical: Number.MAX_SAFE_INTEGER })
    clock.observe({ wall: 1000, logical: MAX_HLC_LOGICAL + 1 })
    const next = clock.tick()
    expect(next).toEqual({ wall: 1000, logical: 0 })
    expect(isValidHlc(next)).toBe(true)
  })

  it('carries into the next millisecond instead of passing the logical bound', () => {
    const clock = new HybridLogicalClock({ now: () => 1000 })
    clock.observe({ wall: 1000, logical: MAX_HLC_LOGICAL - 1 })
    expect(clock.tick()).toEqual({ wall: 1000, logical: MAX_HLC_LOGICAL })
    expect(clock.tick()).toEqual({ wall: 1001, logical: 0 })
    expect(clock.tick()).toEqual({ wall: 1001, logical: 1 })
  })

  it('every timestamp it issues is valid, whatever it observed', () => {
    fc.assert(fc.property(fc.array(fc.record({ now: fc.integer({ min: 0, max: 5 }), wall: fc.integer({ min: 0, max: 70_010 }), logical: fc.oneof(fc.nat(), fc.constantFrom(MAX_HLC_LOGICAL - 1, MAX_HLC_LOGICAL, MAX_HLC_LOGICAL + 1, Number.MAX_SAFE_INTEGER)) }), { maxLength: 40 }), steps => {
      let now = 0
      const clock = new HybridLogicalClock({ now: () => now })
      let last: Hlc = ZERO_HLC
      for (const st of steps) {
        now += st.now
        clock.observe({ wall: st.wall, logical: st.logical })
        const t = clock.tick()
        expect(isValidHlc(t)).toBe(true)
        if (t.wall <= now + DEFAULT_MAX_DRIFT_MS && last.wall <= now + DEFAULT_MAX_DRIFT_MS) expect(compareHlc(t, last)).toBeGreaterThan(0)
        last = t
      }
    }), { numRuns: 300 })
  })

  it('defaults: Date.now and a 60 s drift allowance', () => {
    const clock = new HybridLogicalClock()
    expect(clock.maxDriftMs).toBe(DEFAULT_MAX_DRIFT_MS)
    expect(DEFAULT_MAX_DRIFT_MS).toBe(60_000)
    const before = Date.now()
    const t = clock.tick()
    expect(t.wall).toBeGreaterThanOrEqual(before)
    expect(t.wall).toBeLessThanOrEqual(Date.now())
    expect(clock.physicalNow()).toBeGreaterThanOrEqual(before)
  })

  it('follows physical time and counts within a millisecond', () => {
    const { clock, set } = manualClock(1000)
    expect(clock.tick()).toEqual({ wall: 1000, logical: 0 })
    expect(clock.tick()).toEqual({ wall: 1000, logical: 1 })
    expect(clock.tick()).toEqual({ wall: 1000, logical: 2 })
    set(1001)
    expect(clock.tick()).toEqual({ wall: 1001, logical: 0 })
  })

  it('stays strictly increasing when the physical clock goes backwards', () => {
    const { clock, set } = manualClock(5000)
    expect(clock.tick()).toEqual({ wall: 5000, logical: 0 })
    set(4000)
    expect(clock.tick()).toEqual({ wall: 5000, logical: 1 })
    expect(clock.tick()).toEqual({ wall: 5000, logical: 2 })
    set(5001)
    expect(clock.tick()).toEqual({ wall: 5001, logical: 0 })
  })

  it('property: tick is strictly increasing under any physical clock within the drift of its last timestamp, and any plausible observations', () => {
    const event = fc.oneof(
      fc.record({ kind: fc.constant('tick' as const), now: fc.integer({ min: 0, max: 50 }) }),
      fc.record({ kind: fc.constant('observe' as const), now: fc.integer({ min: 0, max: 50 }), wall: fc.integer({ min: 0, max: 80 }), logical: fc.integer({ min: 0, max: 5 }) })
    )
    fc.assert(fc.property(fc.array(event, { maxLength: 60 }), events => {
      const { clock, set } = manualClock(0, 10)
      let last: Hlc = ZERO_HLC
      let seen: Hlc = ZERO_HLC // greatest of issued and plausibly observed
      for (const e of events) {
        set(e.now)
        if (e.kind === 'tick') {
          const t = clock.tick()
          if (seen.wall > e.now + 10) {
            // The physical clock stepped back by more than the drift: restart from it.
            expect(t).toEqual({ wall: e.now, logical: 0 })
          } else {
            expect(compareHlc(t, last)).toBe(1)
            expect(compareHlc(t, seen)).toBe(1)
          }
          expect(t.wall).toBeGreaterThanOrEqual(e.now)
          last = t
          seen = t
        } else {
          const remote = { wall: e.wall, logical: e.logical }
          const plausible = clock.isPlausible(remote)
          expect(plausible).toBe(e.wall <= e.now + 10)
          clock.observe(remote)
          if (plausible && compareHlc(remote, seen) > 0) seen = remote
        }
      }
    }))
  })

  it('observing a remote timestamp ahead (within drift) makes the next tick greater than it', () => {
    const { clock } = manualClock(1000)
    clock.tick()
    const remote = { wall: 1500, logical: 7 }
    expect(clock.isPlausible(remote)).toBe(true)
    clock.observe(remote)
    expect(clock.tick()).toEqual({ wall: 1500, logical: 8 })
    expect(clock.tick()).toEqual({ wall: 1500, logical: 9 })
  })

  it('observing an older remote timestamp does not move the clock', () => {
    const { clock } = manualClock(1000)
    clock.tick()
    clock.observe({ wall: 900, logical: 50 })
    expect(clock.tick()).toEqual({ wall: 1000, logical: 1 })
  })

  it('a remote beyond maxDriftMs is not plausible and does not move the clock', () => {
    const { clock, set } = manualClock(1000, 100)
    expect(clock.isPlausible({ wall: 1100, logical: 99 })).toBe(true) // exactly at the limit
    const far = { wall: 1101, logical: 0 }
    expect(clock.isPlausible(far)).toBe(false)
    clock.observe(far)
    expect(clock.tick()).toEqual({ wall: 1000, logical: 0 })
    // Once physical time catches up, the same timestamp is plausible.
    set(1001)
    expect(clock.isPlausible(far)).toBe(true)
    clock.observe(far)
    expect(clock.tick()).toEqual({ wall: 1101, logical: 1 })
  })

  it('maxDriftMs 0 is honoured, not replaced by the default', () => {
    const { clock } = manualClock(1000, 0)
    expect(clock.maxDriftMs).toBe(0)
    expect(clock.isPlausible({ wall: 1000, logical: 5 })).toBe(true)
    expect(clock.isPlausible({ wall: 1001, logical: 0 })).toBe(false)
  })

  it('ticks returned earlier are not mutated by later ticks', () => {
    const { clock } = manualClock(1)
    const t1 = clock.tick()
    clock.tick()
    clock.observe({ wall: 2, logical: 3 })
    clock.tick()
    expect(t1).toEqual({ wall: 1, logical: 0 })
  })

  it('causality across two nodes: a receiver\'s next event orders after the sender\'s, even with a slow clock', () => {
    const a = manualClock(10_000)
    const b = manualClock(9_000) // one second behind
    const sent = a.clock.tick()
    b.clock.observe(sent)
    const reply = b.clock.tick()
    expect(compareHlc(reply, sent)).toBe(1)
    a.clock.observe(reply)
    expect(compareHlc(a.clock.tick(), reply)).toBe(1)
  })
})

describe('skewCorrection', () => {
  it('pulls a node back only when the cluster (lower median, self included) is behind it by more than the drift', () => {
    expect(skewCorrection([], 60_000)).toBe(0)
    // Two nodes, we are an hour ahead: we defer.
    expect(skewCorrection([-3_600_000], 60_000)).toBe(-3_600_000)
    // Two nodes, we are an hour behind: the other one defers, not us.
    expect(skewCorrection([3_600_000], 60_000)).toBe(0)
    // Within the allowed drift: nothing moves.
    expect(skewCorrection([-59_000, -30_000], 60_000)).toBe(0)
    // Three nodes, one peer an hour ahead: the majority (us and the other) keeps its time.
    expect(skewCorrection([3_600_000, 10], 60_000)).toBe(0)
    // Three nodes, we are the odd one an hour ahead.
    expect(skewCorrection([-3_600_000, -3_600_020], 60_000)).toBe(-3_600_000)
  })

  it('restarts from the physical clock when its last timestamp lies beyond the drift ahead of it (the clock stepped back)', () => {
    let now = 100_000
    const clock = new HybridLogicalClock({ now: () => now, maxDriftMs: 60_000 })
    clock.tick()
    now = 50_000 // stepped back by less than the drift: keep ordering after the last timestamp
    expect(clock.tick()).toEqual({ wall: 100_000, logical: 1 })
    now = 39_999 // the last timestamp is now more than the drift ahead: it was a bad time
    expect(clock.tick()).toEqual({ wall: 39_999, logical: 0 })
    expect(clock.tick()).toEqual({ wall: 39_999, logical: 1 })
  })
})

describe('skewCorrection hysteresis', () => {
  it('keeps correcting while the skew stays beyond half the limit, so jitter cannot flip it', () => {
    expect(skewCorrection([-50_000], 60_000)).toBe(0)
    expect(skewCorrection([-50_000], 60_000, true)).toBe(-50_000)
    expect(skewCorrection([-20_000], 60_000, true)).toBe(0)
  })
})
