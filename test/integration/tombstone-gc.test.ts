import { describe, expect, it } from 'vitest'
import type { NodeInit } from '../../src/config.js'
import { multiaddr } from '@multiformats/multiaddr'
import { createHost } from '../antientropy/helpers/peers.js'
import { connectAll, startNode, startNodes, tempDir, waitConverged, waitFor } from '../helpers/nodes.js'

/** Short periods so collection happens within a test; the rules are the production ones. */
const GC: NodeInit = { tombstoneGraceMs: 300, maxDriftMs: 50, gcIntervalMs: 60_000, aeIntervalMs: 200 }

describe('tombstone garbage collection', () => {
  it('collects a tombstone everywhere once every member has synced past it; the key stays deleted', async () => {
    const [a, b] = await startNodes(2, GC)
    if (a === undefined || b === undefined) throw new Error('nodes')
    await connectAll([a, b])
    await a.kvPut('keep', 1)
    await a.kvPut('gone', 2)
    await waitFor(async () => (await b.kvGet('gone')).found, { what: 'the value on b' })
    await b.kvDelete('gone') // has seen the value: the register becomes a lone tombstone
    await waitConverged([a, b])
    expect((await a.info()).keys).toBe(2)
    // Each node collects once the tombstone is old enough and the other has synced since.
    await waitFor(async () => {
      for (const n of [a, b]) await n.collectGarbage()
      return (await a.info()).keys === 1 && (await b.info()).keys === 1
    }, { what: 'both nodes to collect', timeoutMs: 20_000 })
    await waitConverged([a, b])
    for (const n of [a, b]) {
      expect(await n.kvGet('gone')).toMatchObject({ found: false, conflict: false })
      expect(await n.kvGet('keep')).toMatchObject({ found: true, value: 1 })
      expect(await n.metricsText()).toMatch(/chorus_tombstones_collected_total 1/)
    }
  })

  it('regression: a libp2p host that does not speak our protocol is no member and holds nothing back', async () => {
    const a = await startNode(GC)
    // A bare libp2p host (identify, ping, no anti-entropy) stays connected throughout.
    const outsider = await createHost()
    await outsider.dial(multiaddr(a.multiaddrs()[0] as string))
    await waitFor(async () => (await a.peers()).some(p => p.peerId === outsider.peerId.toString() && p.connected), { what: 'the outsider connected' })
    await a.kvPut('gone', 1)
    await a.kvDelete('gone')
    await waitFor(async () => { await a.collectGarbage(); return (await a.info()).keys === 0 }, { what: 'a to collect despite the outsider', timeoutMs: 20_000 })
    await outsider.stop()
  })

  it('a member that has not synced since the delete holds collection back', async () => {
    // One shared clock the test can move forward, instead of waiting for the grace period.
    let advance = 0
    const clocked = { ...GC, now: () => Date.now() + advance }
    const awayDir = await tempDir()
    const [a, b] = await startNodes(2, clocked)
    if (a === undefined || b === undefined) throw new Error('nodes')
    let away = await startNode({ ...clocked, dataDir: awayDir })
    await connectAll([a, b, away])
    await a.kvPut('k', 'v')
    await waitConverged([a, b, away])
    await away.stop()
    await b.kvDelete('k')
    await waitConverged([a, b])
    // Old enough by age, but `away` (seen moments ago, within the member TTL) may still hold the value.
    advance += 1_000
    expect(await a.collectGarbage()).toBe(0)
    expect((await a.info()).keys).toBe(1)

    away = await startNode({ ...clocked, dataDir: awayDir, bootstrap: [a.multiaddrs()[0] as string, b.multiaddrs()[0] as string] })
    await waitConverged([a, b, away])
    expect((await away.kvGet('k')).found).toBe(false)
    await waitFor(async () => {
      for (const n of [a, b, away]) await n.collectGarbage()
      return (await Promise.all([a, b, away].map(async n => (await n.info()).keys))).every(k => k === 0)
    }, { what: 'collection after the member synced', timeoutMs: 20_000 })
  })

  it('a tombstone coming back from a peer that has not collected it yet is refused as a zombie', async () => {
    // c is b's member only: a collects once b has synced, while b still waits for c (stopped).
    const [a, b] = await startNodes(2, GC)
    if (a === undefined || b === undefined) throw new Error('nodes')
    const c = await startNode(GC)
    await connectAll([a, b])
    await connectAll([b, c])
    await a.kvPut('zombie', 'alive')
    await waitConverged([a, b, c])
    const cId = c.peerId
    await c.stop()
    await a.kvDelete('zombie')
    await waitConverged([a, b])
    await waitFor(async () => {
      await a.sync(b.peerId)
      await a.collectGarbage()
      return (await a.info()).keys === 0
    }, { what: 'a to collect while b still holds the tombstone', timeoutMs: 20_000 })
    expect(await b.collectGarbage()).toBe(0)
    expect((await b.members()).find(m => m.peerId === cId)).toMatchObject({ holdsGc: true })
    expect((await b.info()).keys).toBe(1)
    // b offers its tombstone back at the next exchange: a recognises what it collected.
    await b.sync(a.peerId).catch(() => {})
    expect((await a.kvGet('zombie')).found).toBe(false)
    expect((await a.info()).keys).toBe(0)
    expect(await a.metricsText()).toMatch(/chorus_remote_rejected_total\{reason="collected"\} [1-9]/)
  })
})
