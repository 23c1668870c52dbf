import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { ClusterTime } from '../../src/clock/index.js'

const HOUR = 3_600_000
const DRIFT = 60_000

/** A system clock `skew` ms off a true time that only the monotonic clock follows. */
function clocks (start = 1_000_000_000_000): { wall: () => number, monotonic: () => number, advance: (ms: number) => void, setSkew: (ms: number) => void, trueNow: () => number } {
  let mono = 0
  let skew = 0
  return {
    wall: () => start + mono + skew,
    monotonic: () => mono,
    advance: (ms) => { mono += ms },
    setSkew: (ms) => { skew = ms },
    trueNow: () => start + mono
  }
}

describe('ClusterTime', () => {
  it('is the system clock while no peer says otherwise, jumps included', () => {
    const c = clocks()
    const jumps: number[] = []
    const time = new ClusterTime({ ...c, maxDriftMs: DRIFT, onJump: j => jumps.push(j) })
    expect(time.now()).toBe(c.trueNow())
    c.setSkew(HOUR)
    expect(time.now()).toBe(c.trueNow() + HOUR)
    expect(jumps).toEqual([HOUR])
    expect(time.correctionMs).toBe(0)
  })

  it('pulls back to a peer an hour behind, and lets go once it agrees again', () => {
    const c = clocks()
    const corrections: number[] = []
    const time = new ClusterTime({ ...c, maxDriftMs: DRIFT, onCorrection: x => corrections.push(x) })
    time.addSample('p', -HOUR)
    expect(time.now()).toBe(c.trueNow() - HOUR)
    // Round-trip jitter does not move an existing correction.
    time.addSample('p', -HOUR + 40)
    expect(time.correctionMs).toBe(-HOUR)
    time.addSample('p', -5)
    expect(time.correctionMs).toBe(0)
    expect(corrections).toEqual([-HOUR, 0])
  })

  it('a forward jump is corrected within the same read, from the offsets measured before it', () => {
    const c = clocks()
    const time = new ClusterTime({ ...c, maxDriftMs: DRIFT })
    time.addSample('p', 3)
    time.addSample('q', -2)
    c.advance(500)
    c.setSkew(5 * 60_000)
    expect(Math.abs(time.now() - c.trueNow())).toBeLessThanOrEqual(3)
    expect(time.jumps).toBe(1)
    // And a jump back removes the correction as promptly.
    c.advance(500)
    c.setSkew(0)
    expect(time.now()).toBe(c.trueNow())
    expect(time.correctionMs).toBe(0)
  })

  it('a backward jump is not corrected: a node behind only loses ties', () => {
    const c = clocks()
    const time = new ClusterTime({ ...c, maxDriftMs: DRIFT })
    time.addSample('p', 0)
    c.setSkew(-HOUR)
    expect(time.now()).toBe(c.trueNow() - HOUR)
    expect(time.jumps).toBe(1)
  })

  it('slow slewing is not a jump, however long it accumulates', () => {
    const c = clocks()
    const time = new ClusterTime({ ...c, maxDriftMs: DRIFT, jumpThresholdMs: 1000 })
    time.addSample('p', 0)
    for (let i = 1; i <= 100; i++) {
      c.advance(1000)
      c.setSkew(i * 500) // 0.5 s per second read: each step under the threshold
      time.raw()
    }
    expect(time.jumps).toBe(0)
  })

  it('a peer that disconnects no longer has a say', () => {
    const c = clocks()
    const time = new ClusterTime({ ...c, maxDriftMs: DRIFT })
    time.addSample('p', -HOUR)
    expect(time.correctionMs).toBe(-HOUR)
    time.dropPeer('p')
    expect(time.correctionMs).toBe(0)
    expect(time.samples).toBe(0)
    time.dropPeer('never-there')
  })

  it('with three nodes the majority decides, in both directions', () => {
    const c = clocks()
    const time = new ClusterTime({ ...c, maxDriftMs: DRIFT })
    time.addSample('p', HOUR) // one peer an hour ahead: we and the other keep our time
    time.addSample('q', 10)
    expect(time.correctionMs).toBe(0)
    time.addSample('p', -HOUR)
    time.addSample('q', -HOUR - 20) // we are the odd one ahead
    expect(time.correctionMs).toBe(-HOUR)
  })

  it('refuses an offset that is not a finite number', () => {
    const time = new ClusterTime(clocks())
    expect(() => { time.addSample('p', Number.NaN) }).toThrow(RangeError)
    expect(() => { time.addSample('p', Infinity) }).toThrow(RangeError)
  })

  it('property: with a peer on true time, no read is ever more than the drift ahead of it, whatever the system clock does', () => {
    const step = fc.record({
      advance: fc.integer({ min: 0, max: 5_000 }),
      skew: fc.oneof(fc.constant(undefined), fc.integer({ min: -2 * HOUR, max: 2 * HOUR })),
      resample: fc.boolean()
    })
    fc.assert(fc.property(fc.integer({ min: -HOUR, max: HOUR }), fc.array(step, { maxLength: 40 }), (initialSkew, steps) => {
      const c = clocks()
      c.setSkew(initialSkew)
      const time = new ClusterTime({ ...c, maxDriftMs: DRIFT })
      time.addSample('peer', c.trueNow() - time.raw())
      for (const s of steps) {
        c.advance(s.advance)
        if (s.skew !== undefined) c.setSkew(s.skew)
        if (s.resample) time.addSample('peer', c.trueNow() - time.raw())
        expect(time.now()).toBeLessThanOrEqual(c.trueNow() + DRIFT)
      }
    }))
  })
})
