/**
 * Expiring keys on real nodes (docs/api.md, "Expiring keys"): real libp2p over loopback TCP,
 * real LevelDB. Tests that need time to pass either use a ttl of a few hundred ms and wait for
 * the condition, or move every node's clock forward together (one shared offset).
 */
import { describe, expect, it } from 'vitest'
import type { NodeInit } from '../../src/config.js'
import type { ChorusNode } from '../../src/node/index.js'
import { decodeCounter, decodeOrSet } from '../../src/codec/index.js'
import { counterLife, setLife, type CounterState, type OrSetState } from '../../src/crdt/index.js'
import { connectAll, startNode, startNodes, tempDir, waitConverged, waitFor } from '../helpers/nodes.js'

/** Short GC periods so collection happens within a test; the rules are the production ones. */
const GC: NodeInit = { tombstoneGraceMs: 300, maxDriftMs: 50, gcIntervalMs: 60_000, aeIntervalMs: 200 }

async function absentEverywhere (nodes: ChorusNode[], key: string): Promise<boolean> {
  for (const n of nodes) if ((await n.kvGet(key)).found) return false
  return true
}

describe('expiring registers', () => {
  it('a key written with ttlMs reads as present everywhere, then absent everywhere once expired; other keys stay', async () => {
    const nodes = await startNodes(3, GC)
    const [a] = nodes as [ChorusNode]
    await connectAll(nodes)
    await a.kvPut('session', { user: 1 }, undefined, { ttlMs: 3_600_000 })
    await a.kvBatch([{ op: 'put', key: 'batched', value: 2, ttlMs: 300 }, { op: 'put', key: 'keep', value: 3 }])
    await a.kvPut('short', 'lived', undefined, { ttlMs: 300 })
    const digest = await waitConverged(nodes)
    await waitFor(async () => await absentEverywhere(nodes, 'short') && await absentEverywhere(nodes, 'batched'), { what: 'the short-lived keys to read as absent on every node' })
    for (const n of nodes) {
      const r = await n.kvGet('session')
      expect(r).toMatchObject({ found: true, value: { user: 1 } })
      expect(r.expiresAt).toBeGreaterThan(Date.now() + 3_000_000)
      expect(await n.kvGet('short')).toMatchObject({ found: false, value: null, conflict: false })
      expect(await n.kvGet('keep')).toMatchObject({ found: true, value: 3 })
      expect((await n.kvScan()).items.map(i => i.key)).toEqual(['keep', 'session'])
      const all = await n.kvGet('short', { all: true })
      expect(all.values).toEqual([expect.objectContaining({ value: null, deleted: true, node: a.peerId, expiresAt: expect.any(Number) })])
      // Expiry writes nothing: the replicated state (and so the digest) is what it was.
      expect((await n.info()).digest).toBe(digest)
      expect((await n.info()).keys).toBe(4) // held until collected, like a tombstone
    }
  })

  it('a write after expiry starts afresh, and a write without ttlMs supersedes an expiring one for good', async () => {
    const nodes = await startNodes(2, GC)
    const [a, b] = nodes as [ChorusNode, ChorusNode]
    await connectAll(nodes)
    await a.kvPut('k', 'first', undefined, { ttlMs: 300 })
    await waitConverged(nodes)
    await waitFor(async () => await absentEverywhere(nodes, 'k'), { what: 'the key to expire' })
    await b.kvPut('k', 'second')
    await waitConverged(nodes)
    for (const n of nodes) {
      const r = await n.kvGet('k', { all: true })
      expect(r).toMatchObject({ found: true, value: 'second', conflict: false })
      expect(r.expiresAt).toBeUndefined()
      expect(r.values?.[0]?.expiresAt).toBeUndefined()
    }
  })

  it('a concurrent write without ttlMs and a later HLC outlives the expiring sibling; the conflict shows both', async () => {
    const [a, b] = await startNodes(2, GC) as [ChorusNode, ChorusNode]
    // Not connected: the two writes are concurrent; b's comes later on the clock.
    await a.kvPut('k', 'expiring', undefined, { ttlMs: 300 })
    await waitFor(async () => Date.now() > (await a.kvGet('k')).expiresAt! - 200, { what: 'a later millisecond' })
    await b.kvPut('k', 'lasting')
    await connectAll([a, b])
    await waitFor(async () => { await a.sync(b.peerId); return (await a.kvGet('k')).conflict }, { what: 'the siblings to meet' })
    await waitConverged([a, b])
    await waitFor(async () => (await a.kvGet('k', { all: true })).values?.[1]?.deleted === true, { what: 'the sibling to expire' })
    for (const n of [a, b]) {
      const r = await n.kvGet('k', { all: true })
      expect(r).toMatchObject({ found: true, value: 'lasting', conflict: true })
      expect(r.values?.map(v => v.deleted === true)).toEqual([false, true])
    }
  })

  it('collects an expired key like a tombstone, refuses a late copy, and a member that was away reads it absent', async () => {
    // c is b's member only: a collects once b has synced, while b still waits for c (stopped).
    const cDir = await tempDir()
    const [a, b] = await startNodes(2, GC) as [ChorusNode, ChorusNode]
    let c = await startNode({ ...GC, dataDir: cDir })
    await connectAll([a, b])
    await connectAll([b, c])
    // Long enough that c leaves before the key dies (else c, having synced after the death,
    // would rightly hold nothing back): the test checks that it did.
    await a.kvPut('z', 'soon gone', undefined, { ttlMs: 5000 })
    await a.kvPut('keep', 1)
    await waitConverged([a, b, c])
    const cId = c.peerId
    await c.stop() // holds the key's state from before expiry
    expect(Date.now()).toBeLessThan((await a.kvGet('z')).expiresAt! - 2 * GC.maxDriftMs!)
    await waitFor(async () => {
      await a.sync(b.peerId)
      await a.collectGarbage()
      return (await a.info()).keys === 1
    }, { what: 'a to collect the expired key', timeoutMs: 30_000 })
    expect(await b.collectGarbage()).toBe(0)
    expect((await b.members()).find(m => m.peerId === cId)).toMatchObject({ holdsGc: true })
    // b offers its copy back at the next exchange: a recognises what it collected.
    await b.sync(a.peerId).catch(() => {})
    expect((await a.kvGet('z')).found).toBe(false)
    expect((await a.info()).keys).toBe(1)
    expect(await a.metricsText()).toMatch(/chorus_remote_rejected_total\{reason="collected"\} [1-9]/)
    // c comes back with its old copy: it reads it as expired too, and then everyone collects.
    c = await startNode({ ...GC, dataDir: cDir, bootstrap: [b.multiaddrs()[0] as string] })
    expect((await c.kvGet('z')).found).toBe(false)
    await waitFor(async () => {
      for (const n of [c, b, a]) {
        await n.sync().catch(() => {})
        await n.collectGarbage()
      }
      return (await Promise.all([a, b, c].map(async n => (await n.info()).keys))).every(k => k === 1)
    }, { what: 'every node to collect the expired key', timeoutMs: 30_000 })
    await connectAll([a, b, c])
    await waitConverged([a, b, c])
    for (const n of [a, b, c]) {
      expect((await n.kvGet('z')).found).toBe(false)
      expect(await n.kvGet('keep')).toMatchObject({ found: true, value: 1 })
    }
  })
})

describe('expiring counters and sets', () => {
  it('read as absent on every node once expired (0, no members), and leave the scans', async () => {
    const nodes = await startNodes(3, GC)
    const [a] = nodes as [ChorusNode]
    await connectAll(nodes)
    expect((await a.counterIncr('hits', 5, { ttlMs: 300 })).expiresAt).toEqual(expect.any(Number))
    expect((await a.setAdd('tags', ['x', 'y'], { ttlMs: 300 })).members).toEqual(['x', 'y'])
    await a.counterIncr('lasting', 1)
    await a.setAdd('kept', ['k'])
    const digest = await waitConverged(nodes)
    await waitFor(async () => {
      for (const n of nodes) {
        if ((await n.counterGet('hits')).value !== 0 || (await n.setGet('tags')).members.length !== 0) return false
      }
      return true
    }, { what: 'the counter and the set to read as absent on every node' })
    for (const n of nodes) {
      expect((await n.counterScan()).items).toEqual([{ key: 'lasting', value: 1 }])
      expect((await n.setScan()).items).toEqual([{ key: 'kept', members: ['k'] }])
      expect((await n.counterGet('hits')).expiresAt).toBeUndefined()
      expect((await n.info()).digest).toBe(digest)
    }
  })

  it('a write after expiry starts afresh, and a node that wrote before the expiry, cut off, cannot bring the old contents back', async () => {
    const [a, b] = await startNodes(2, GC) as [ChorusNode, ChorusNode]
    const c = await startNode(GC)
    await connectAll([a, b])
    // c is cut off: its writes belong to the key's first life.
    await c.counterIncr('hits', 7)
    await c.setAdd('tags', ['late'])
    await a.counterIncr('hits', 5, { ttlMs: 300 })
    await a.setAdd('tags', ['x'], { ttlMs: 300 })
    await waitConverged([a, b])
    await waitFor(async () => (await b.counterGet('hits')).value === 0 && (await b.setGet('tags')).members.length === 0, { what: 'the keys to expire on b' })
    expect((await b.counterIncr('hits', 2)).value).toBe(2)
    expect((await b.setAdd('tags', ['fresh'])).members).toEqual(['fresh'])
    await waitConverged([a, b])
    await connectAll([a, b, c])
    await waitConverged([a, b, c])
    for (const n of [a, b, c]) {
      expect((await n.counterGet('hits')).value).toBe(2)
      expect((await n.setGet('tags')).members).toEqual(['fresh'])
    }
    // The contexts of c's old writes are still covered: a read `after` them does not hang.
    const old = await c.counterGet('hits')
    expect((await a.counterGet('hits', { after: old.context, timeoutMs: 5000 })).value).toBe(2)
  })
})

/** The stored states of a node's counters and sets, from its export. */
async function storedStates (node: ChorusNode): Promise<{ counters: Map<string, CounterState>, sets: Map<string, OrSetState> }> {
  const counters = new Map<string, CounterState>()
  const sets = new Map<string, OrSetState>()
  let cursor: string | undefined
  do {
    const page = await node.exportPage(cursor === undefined ? {} : { cursor })
    for (const item of page.items) {
      const bytes = Buffer.from(item.state, 'base64url')
      if (item.space === 'counter') counters.set(item.key, decodeCounter(bytes))
      if (item.space === 'set') sets.set(item.key, decodeOrSet(bytes))
    }
    cursor = page.cursor
  } while (cursor !== undefined)
  return { counters, sets }
}

describe('collecting expired counters and sets', () => {
  it('drops their contents everywhere once expired and synced (the next life, empty); an old copy arriving after cannot bring them back', async () => {
    const [a, b] = await startNodes(2, GC) as [ChorusNode, ChorusNode]
    const c = await startNode(GC)
    await connectAll([a, b])
    await c.counterIncr('hits', 7) // cut off: part of the first life
    await c.setAdd('tags', ['late'])
    await a.counterIncr('hits', 5, { ttlMs: 300 })
    await a.setAdd('tags', ['x', 'y'], { ttlMs: 300 })
    await a.counterIncr('lasting', 1, { ttlMs: 3_600_000 })
    await waitConverged([a, b])
    await waitFor(async () => {
      for (const n of [a, b]) {
        await n.sync().catch(() => {})
        await n.collectGarbage()
      }
      const stored = await Promise.all([a, b].map(storedStates))
      return stored.every(s => counterLife(s.counters.get('hits') ?? {}).gen > 0 && setLife(s.sets.get('tags') ?? { vv: {}, entries: new Map() }).gen > 0)
    }, { what: 'both nodes to compact the expired counter and set', timeoutMs: 30_000 })
    await waitConverged([a, b])
    for (const n of [a, b]) {
      const { counters, sets } = await storedStates(n)
      const hits = counters.get('hits') as CounterState
      expect(Object.values(hits).every(e => e.p === 0 && e.n === 0)).toBe(true) // contents gone, op counts kept
      expect(counterLife(hits).expiresAt).toBeUndefined()
      expect(sets.get('tags')?.entries.size).toBe(0)
      expect(counterLife(counters.get('lasting') as CounterState).gen).toBe(0) // not expired: untouched
      expect((await n.counterGet('lasting')).value).toBe(1)
    }
    await connectAll([a, b, c])
    await waitConverged([a, b, c])
    for (const n of [a, b, c]) {
      expect((await n.counterGet('hits')).value).toBe(0)
      expect((await n.setGet('tags')).members).toEqual([])
    }
    expect((await c.counterIncr('hits', 2)).value).toBe(2)
    expect((await c.setAdd('tags', ['fresh'])).members).toEqual(['fresh'])
  })
})
