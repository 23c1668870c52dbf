/**
 * A counter's or a set's generation from a peer (crdt/lifetime.ts) is an expiry instant its
 * writer had already passed: one beyond this node's clock and drift bound is refused, so a
 * forged life can neither replace a key's contents nor make it outlive every ttl.
 */
import { describe, expect, it } from 'vitest'
import { HybridLogicalClock } from '../../src/clock/index.js'
import { decodeCounter, encodeCounter, encodeOrSet } from '../../src/codec/index.js'
import { MAX_HLC_WALL } from '../../src/constants.js'
import { addMembers, EMPTY_COUNTER, EMPTY_OR_SET, incrementCounter, withCounterLife, withSetLife } from '../../src/crdt/index.js'
import { checkRemoteChange } from '../../src/replica/remote-check.js'

const NOW = 1_800_000_000_000
const clock = new HybridLogicalClock({ now: () => NOW })
const counterAt = (gen: number): Uint8Array => encodeCounter(withCounterLife(incrementCounter(EMPTY_COUNTER, 'peer', 1), { gen }))
const setAt = (gen: number): Uint8Array => encodeOrSet(withSetLife(addMembers(EMPTY_OR_SET, 'peer', ['m']), { gen }))

describe('generations from peers', () => {
  it('takes a generation up to the drift bound ahead of our clock, and refuses one beyond it', () => {
    expect(checkRemoteChange('c/k', counterAt(NOW - 1), clock).ok).toBe(true)
    expect(checkRemoteChange('c/k', counterAt(NOW + clock.maxDriftMs), clock).ok).toBe(true)
    expect(checkRemoteChange('c/k', counterAt(NOW + clock.maxDriftMs + 1), clock)).toEqual({ ok: false, reason: 'out-of-range' })
    expect(checkRemoteChange('s/k', setAt(NOW + clock.maxDriftMs + 1), clock)).toEqual({ ok: false, reason: 'out-of-range' })
    expect(checkRemoteChange('c/k', counterAt(MAX_HLC_WALL), clock)).toEqual({ ok: false, reason: 'out-of-range' })
  })

  it('decodes no generation past the last HLC wall time, so the next end (gen + 1) stays encodable', () => {
    expect(decodeCounter(counterAt(MAX_HLC_WALL)).peer?.p).toBe(1)
    expect(() => decodeCounter(counterAt(MAX_HLC_WALL + 1))).toThrow(/generation/)
  })
})
