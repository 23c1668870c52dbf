import { describe, expect, it } from 'vitest'
import { memberInfos, parseConnectAddr } from '../../src/node/cluster-members.js'

const NOW = 1_000_000
const rules = { self: '12D3KooWSelf', loopbackOnly: true, refused: () => false }

describe('cluster.members rows', () => {
  const members = [
    { peer: 'a', lastSeenMs: NOW - 50, syncedAtMs: NOW - 5000 },
    { peer: 'b', lastSeenMs: NOW - 50, syncedAtMs: NOW - 900 },
    { peer: 'c', lastSeenMs: NOW - 2000, syncedAtMs: 0 }
  ]

  it('holdsGc: a member whose last sync (less the margin) is not past the oldest tombstone left waiting', () => {
    const rows = memberInfos({ members, connected: new Set(['a']), now: NOW, ttlMs: 10_000, heldSinceMs: NOW - 1000, marginMs: 99 })
    expect(rows.map(r => [r.peerId, r.holdsGc])).toEqual([['a', true], ['b', false], ['c', true]])
    // b synced 900 ms ago, 100 after the tombstone: within a margin of 100 or more it holds too.
    expect(memberInfos({ members, connected: new Set(), now: NOW, ttlMs: 10_000, heldSinceMs: NOW - 1000, marginMs: 100 })[1]?.holdsGc).toBe(true)
    // Nothing left waiting (or no sweep yet): nobody holds anything.
    expect(memberInfos({ members, connected: new Set(), now: NOW, ttlMs: 10_000, heldSinceMs: undefined, marginMs: 100 }).some(r => r.holdsGc)).toBe(false)
    // A member past the TTL no longer counts.
    expect(memberInfos({ members, connected: new Set(), now: NOW, ttlMs: 1000, heldSinceMs: NOW - 1000, marginMs: 100 })[2]?.holdsGc).toBe(false)
  })

  it('ages as cluster.peers has them: 0 while connected; -1 for a sync that never completed; time left before the TTL', () => {
    const [a, b, c] = memberInfos({ members, connected: new Set(['a']), now: NOW, ttlMs: 10_000, heldSinceMs: undefined, marginMs: 0 })
    expect(a).toMatchObject({ lastSeenMs: 0, lastSyncMs: 5000, connected: true, expiresInMs: null })
    expect(b).toMatchObject({ lastSeenMs: 50, lastSyncMs: 900, connected: false, expiresInMs: 9950 })
    expect(c).toMatchObject({ lastSeenMs: 2000, lastSyncMs: -1, expiresInMs: 8000 })
  })
})

describe('cluster.connect addresses', () => {
  it('accepts a loopback multiaddr naming its peer, refuses the rest with a stable code', () => {
    const peer = '12D3KooWRBy97UB99e3J6hiPesre1MZeuNQvfan4gBziswrRJsNK'
    expect(parseConnectAddr(`/ip4/127.0.0.1/tcp/7071/p2p/${peer}`, rules).peerId).toBe(peer)
    expect(parseConnectAddr(`/dns4/localhost/tcp/7071/p2p/${peer}`, rules).peerId).toBe(peer)
    expect(() => parseConnectAddr(`/ip4/10.0.0.1/tcp/7071/p2p/${peer}`, rules)).toThrow(expect.objectContaining({ code: 'ERR_PEER_REFUSED' }))
    expect(parseConnectAddr(`/ip4/10.0.0.1/tcp/7071/p2p/${peer}`, { ...rules, loopbackOnly: false }).peerId).toBe(peer)
    expect(() => parseConnectAddr(`/ip4/127.0.0.1/tcp/7071/p2p/${peer}`, { ...rules, refused: p => p === peer })).toThrow(expect.objectContaining({ code: 'ERR_PEER_REFUSED' }))
    for (const bad of ['', 'x', '/ip4/127.0.0.1/tcp/7071', 42]) {
      expect(() => parseConnectAddr(bad, rules)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_PARAMS', data: { field: 'addr' } }))
    }
  })
})
