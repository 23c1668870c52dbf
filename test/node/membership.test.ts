import { describe, expect, it } from 'vitest'
import { MAX_MEMBERS } from '../../src/constants.js'
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

  it('the map is bounded: past MAX_MEMBERS a newcomer is not recorded and GC holds until room is made', () => {
    const m = new Membership(TTL)
    for (let i = 0; i < MAX_MEMBERS; i++) m.synced(`p${i}`, NOW, NOW)
    expect(m.seen('newcomer', NOW)).toBe(false)
    expect(m.size).toBe(MAX_MEMBERS)
    expect(m.full).toBe(true)
    expect(m.stableTime(NOW, new Set())).toBe(0)
    // Once the old members expire, the map has room again and GC resumes.
    expect(m.stableTime(NOW + TTL + 1, new Set())).toBe(NOW + TTL + 1)
    expect(m.full).toBe(false)
    expect(m.seen('newcomer', NOW + TTL + 1)).toBe(true)
  })

  it('touch updates a member and never adds a stranger', () => {
    const m = new Membership(TTL)
    m.touch('stranger', NOW)
    expect(m.size).toBe(0)
    m.seen('member', NOW - TTL + 10)
    m.touch('member', NOW)
    expect(m.stableTime(NOW + TTL - 1, new Set())).toBe(0)
  })
})

describe('Membership: what the operator sees and does', () => {
  it('an expired member is handed to onExpired once; forget drops a member; the last contact is the newest lastSeen', () => {
    const m = Membership.fromJSON(JSON.stringify({ a: { lastSeenMs: NOW - 10, syncedAtMs: NOW - 500 }, b: { lastSeenMs: NOW - 5000, syncedAtMs: 1 } }), TTL, NOW)
    expect(m.lastContactMs()).toBe(NOW - 10)
    const expired: string[] = []
    m.stableTime(NOW, new Set(), p => expired.push(p))
    m.stableTime(NOW, new Set(), p => expired.push(p))
    expect(expired).toEqual(['b'])
    expect(m.forget('a')).toBe(true)
    expect(m.forget('a')).toBe(false)
    expect(m.lastContactMs()).toBe(0)
  })

  it('touchAll refreshes connected members (persisted, it is what the start-up check reads); vouchAll counts everyone as seen now', () => {
    const m = new Membership(TTL)
    m.seen('a', NOW - 5000)
    m.seen('b', NOW - 5000)
    m.touchAll(['a', 'stranger'], NOW)
    expect(m.list().map(r => [r.peer, r.lastSeenMs])).toEqual([['a', NOW], ['b', NOW - 5000]])
    m.vouchAll(NOW + 1)
    expect(m.list().every(r => r.lastSeenMs === NOW + 1)).toBe(true)
    m.clear()
    expect(m.size).toBe(0)
  })
})
