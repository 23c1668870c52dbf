import { describe, expect, it } from 'vitest'
import { join } from 'node:path'
import { Store } from '../../src/store/index.js'
import { connectAll, startNode, startNodes, tempDir, waitConverged, waitFor } from '../helpers/nodes.js'

describe('anti-entropy between real nodes', () => {
  it('with gossip off, anti-entropy alone converges a cluster of five', async () => {
    const nodes = await startNodes(5, { gossip: false, aeIntervalMs: 200 })
    await connectAll(nodes)
    await Promise.all(nodes.map(async (node, n) => {
      await node.kvBatch(Array.from({ length: 40 }, (_, i) => ({ op: 'put' as const, key: `n${n}/${i}`, value: i })))
      await node.counterIncr('total', n + 1)
      await node.setAdd('members', [`m${n}`])
    }))
    await waitConverged(nodes, { timeoutMs: 30_000 })
    for (const node of nodes) {
      expect((await node.kvScan({ limit: 1000 })).items).toHaveLength(200)
      expect((await node.counterGet('total')).value).toBe(15)
      expect((await node.setGet('members')).members).toEqual(['m0', 'm1', 'm2', 'm3', 'm4'])
    }
  })

  it('a node that joins after thousands of writes gets them all, and sync reports exactly what moved', async () => {
    const a = await startNode()
    for (let b = 0; b < 30; b++) {
      await a.kvBatch(Array.from({ length: 100 }, (_, i) => ({ op: 'put' as const, key: `k${b * 100 + i}`, value: { b, i } })))
    }
    const late = await startNode()
    await connectAll([a, late])
    const report = await late.sync(a.peerId)
    expect(report.keysReceived).toBe(3000)
    expect(report.keysSent).toBe(0)
    await waitConverged([a, late])
    expect(await late.kvGet('k2999')).toMatchObject({ found: true, value: { b: 29, i: 99 } })
    const again = await late.sync(a.peerId)
    expect(again).toMatchObject({ inSync: true, keysSent: 0, keysReceived: 0, roundTrips: 1 })
  })

  it('a stopped node catches up on restart, and its own acknowledged writes reach the others', async () => {
    const dataDir = await tempDir()
    const [a, b] = await startNodes(2, { aeIntervalMs: 300 })
    if (a === undefined || b === undefined) throw new Error('nodes')
    let c = await startNode({ dataDir, aeIntervalMs: 300 })
    await connectAll([a, b, c])
    await c.kvPut('from-c', 'before stop')
    await waitConverged([a, b, c])

    // c goes away having written something nobody has seen yet: gossip to no one.
    await c.stop()
    for (let i = 0; i < 100; i++) await a.kvPut(`while-away/${i}`, i)
    await b.kvDelete('from-c')

    c = await startNode({ dataDir, aeIntervalMs: 300, bootstrap: [a.multiaddrs()[0] as string] })
    await c.kvPut('written-after-restart', true)
    await waitConverged([a, b, c], { timeoutMs: 30_000 })
    expect(await c.kvGet('while-away/99')).toMatchObject({ found: true, value: 99 })
    expect(await c.kvGet('from-c')).toMatchObject({ found: false })
    expect(await b.kvGet('written-after-restart')).toMatchObject({ found: true, value: true })
  })

  it('a register too large for gossip and for one frame (five concurrent ~900 KB values) reaches every node', async () => {
    const [a, b] = await startNodes(2, { aeIntervalMs: 300 })
    if (a === undefined || b === undefined) throw new Error('nodes')
    await connectAll([a, b])
    const none = (await a.kvGet('huge')).context
    for (let i = 0; i < 5; i++) await a.kvPut('huge', `${i}`.repeat(900_000), none) // concurrent: five siblings
    await waitConverged([a, b], { timeoutMs: 30_000 })
    const got = await b.kvGet('huge', { all: true })
    expect(got.conflict).toBe(true)
    expect(got.values?.map(v => (v.value as string).slice(0, 1)).sort()).toEqual(['0', '1', '2', '3', '4'])
  })

  it('a state damaged on disk is noticed on read and repaired from a peer by anti-entropy', async () => {
    const dir = await tempDir()
    const a = await startNode({ aeIntervalMs: 300 })
    let b = await startNode({ aeIntervalMs: 300, dataDir: dir })
    await connectAll([a, b])
    await a.kvPut('k', { n: 1 })
    await a.kvPut('other', 2)
    await waitConverged([a, b])
    await b.stop()
    const store = await Store.open({ location: join(dir, 'db'), fsync: false })
    await store.commit([{ sublevel: 'data', key: 'r/k', value: new Uint8Array([0xff, 0x00]) }])
    await store.close()

    b = await startNode({ aeIntervalMs: 300, dataDir: dir, bootstrap: [a.multiaddrs()[0] as string] })
    // Its tree still holds the leaf of the good state, so digests agree: nothing would repair it.
    await expect(b.kvGet('k')).rejects.toMatchObject({ code: 'ERR_CORRUPT_DATA' })
    await waitFor(async () => {
      try { return (await b.kvGet('k')).found } catch { return false }
    }, { what: 'b to fetch k from a', timeoutMs: 20_000 })
    expect(await b.kvGet('k')).toMatchObject({ found: true, value: { n: 1 }, conflict: false })
    expect(await b.kvGet('other')).toMatchObject({ found: true, value: 2 })
    await waitConverged([a, b])
  })

  it('digests are announced: cluster.peers says who is in sync', async () => {
    const [a, b] = await startNodes(2, { aeIntervalMs: 300 })
    if (a === undefined || b === undefined) throw new Error('nodes')
    await connectAll([a, b])
    await a.kvPut('x', 1)
    await waitConverged([a, b])
    await waitFor(async () => (await a.peers()).find(p => p.peerId === b.peerId)?.inSync === true, { what: 'b announced in sync' })
  })
})
