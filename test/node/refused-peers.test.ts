import { describe, expect, it } from 'vitest'
import { REFUSAL_LOG_INTERVAL_MS } from '../../src/constants.js'
import { RefusedPeers, refusalMessage } from '../../src/node/refused-peers.js'

describe('RefusedPeers', () => {
  it('remembers why, survives a round trip through JSON, and skips entries that do not parse', () => {
    const r = new RefusedPeers()
    r.add('a', 'removed', 10)
    r.add('b', 'expired', 20)
    r.add('a', 'expired', 30) // the first refusal stands
    const back = RefusedPeers.fromJSON(r.toJSON())
    expect(back.list()).toEqual([{ peer: 'a', atMs: 10, reason: 'removed' }, { peer: 'b', atMs: 20, reason: 'expired' }])
    for (const bad of ['{not json', '[]', 'null']) expect(RefusedPeers.fromJSON(bad).size).toBe(0)
    const partial = RefusedPeers.fromJSON(JSON.stringify({ a: { atMs: 1, reason: 'removed' }, b: { atMs: 'x', reason: 'removed' }, c: { atMs: 2, reason: 'other' }, d: null }))
    expect(partial.list().map(e => e.peer)).toEqual(['a'])
  })

  it('is bounded: past the limit the oldest refusal goes, also when read back', () => {
    const r = new RefusedPeers(3)
    for (let i = 0; i < 5; i++) r.add(`p${i}`, 'removed', i)
    expect(r.list().map(e => e.peer)).toEqual(['p2', 'p3', 'p4'])
    const big = Object.fromEntries(Array.from({ length: 5 }, (_, i) => [`p${i}`, { atMs: 100 - i, reason: 'expired' }]))
    expect(RefusedPeers.fromJSON(JSON.stringify(big), 3).list().map(e => e.peer)).toEqual(['p2', 'p1', 'p0'])
  })

  it('logs a refused peer at most once per interval, and never a peer that is not refused', () => {
    const r = new RefusedPeers()
    r.add('a', 'expired', 0)
    expect(r.shouldLog('b', 0)).toBe(false)
    expect(r.shouldLog('a', 1000)).toBe(true)
    expect(r.shouldLog('a', 1000 + REFUSAL_LOG_INTERVAL_MS - 1)).toBe(false)
    expect(r.shouldLog('a', 1000 + REFUSAL_LOG_INTERVAL_MS)).toBe(true)
    expect(refusalMessage({ atMs: 0, reason: 'expired' }, 7)).toMatch(/away longer than the member TTL \(7 ms\).*empty --data/)
    expect(refusalMessage({ atMs: 0, reason: 'removed' }, 7)).toMatch(/removed from this cluster/)
  })
})
