import { describe, expect, it } from 'vitest'
import { staleDataError, staleVerdict } from '../../src/node/stale-check.js'

describe('the start-up check of a node returning after the member TTL', () => {
  const ttlMs = 1000
  it('fresh with no members, or seen within the TTL; stale past it with data; stale-empty without', () => {
    expect(staleVerdict({ lastContactMs: 0, now: 1e9, ttlMs, keys: 5 })).toEqual({ kind: 'fresh' })
    expect(staleVerdict({ lastContactMs: 1e9 - ttlMs, now: 1e9, ttlMs, keys: 5 })).toEqual({ kind: 'fresh' })
    expect(staleVerdict({ lastContactMs: 1e9 - ttlMs - 1, now: 1e9, ttlMs, keys: 5 })).toEqual({ kind: 'stale', awayMs: ttlMs + 1 })
    expect(staleVerdict({ lastContactMs: 1e9 - ttlMs - 1, now: 1e9, ttlMs, keys: 0 })).toEqual({ kind: 'stale-empty', awayMs: ttlMs + 1 })
  })

  it('the error says how long, and how to reset', () => {
    const err = staleDataError(9 * 86_400_000, 7 * 86_400_000, '/var/lib/chorus')
    expect(err.code).toBe('ERR_STALE_DATA')
    expect(err.message).toMatch(/9d 0h ago, longer than the member TTL \(7d 0h\)/)
    expect(err.message).toContain('mv /var/lib/chorus /var/lib/chorus.stale')
    expect(err.message).toContain('--accept-stale-data')
  })
})
