import { describe, expect, it } from 'vitest'
import { Membership } from '../../src/node/membership.js'

const TTL = 1000
const NOW = 1_000_000

describe('Membership', () => {
  it('stable time is the earliest last sync of the members seen within the TTL', () => {
    const m = Membership.fromJSON(JSON.stringify({ a: { lastSeenMs: NOW - 10, syncedAtMs: NOW - 500 }, b: { lastSeenMs: NOW - 5000, syncedAtMs: 1 } }), TTL, NOW)
    expect(m.incomplete).toBe(false)
    expect(m.stableTime(NOW, new Set())).toBe(NOW - 500) // b is past the TTL and dropped
    expect(m.size).toBe(1)
    expect(new Membership(TTL).stableTime(NOW, new Set())).toBe(NOW)
  })

  it('regression: an unreadable record holds GC back for one member TTL instead of emptying membership', () => {
    for (const bad of ['{not json', '[]', 'null', '"x"', JSON.stringify({ a: { lastSeenMs: NOW, syncedAtMs: NOW }, b: { lastSeenMs: 'x' } }), JSON.stringify({ a: null })]) {
      const m = Membership.fromJSON(bad, TTL, NOW)
      expect(m.incomplete, bad).toBe(true)
      expect(m.stableTime(NOW, new Set()), bad).toBe(0)
      expect(m.stableTime(NOW + TTL - 1, new Set()), bad).toBe(0)
      expect(m.stableTime(NOW + TTL, new Set()), bad).toBeGreaterThan(0)
    }
    // What could be read is kept.
    const partial = Membership.fromJSON(JSON.stringify({ a: { lastSeenMs: NOW, syncedAtMs: NOW - 7 }, b: { lastSeenMs: 'x' } }), TTL, NOW)
    expect(partial.stableTime(NOW + TTL, new Set(['a']))).toBe(NOW - 7)
  })
})
