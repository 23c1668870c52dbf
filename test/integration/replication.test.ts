import { describe, expect, it } from 'vitest'
import { connectAll, startNode, startNodes, tempDir, waitConverged, waitFor } from '../helpers/nodes.js'

describe('replication between real nodes', () => {
  it('three leaders write, every node reads every value with conflict: false', async () => {
    const nodes = await startNodes(3)
    await connectAll(nodes)
    await Promise.all(nodes.map(async (node, n) => {
      for (let i = 0; i < 50; i++) await node.kvPut(`k/${n}/${i}`, { n, i })
    }))
    await waitConverged(nodes)
    for (const node of nodes) {
      const { items } = await node.kvScan({ prefix: 'k/', limit: 1000 })
      expect(items).toHaveLength(150)
      for (let n = 0; n < 3; n++) {
        const got = await node.kvGet(`k/${n}/7`)
        expect(got).toMatchObject({ found: true, value: { n, i: 7 }, conflict: false })
      }
    }
  })

  it('counts the gossip it sends: a node that publishes a large value sends at least its bytes to each peer', async () => {
    const nodes = await startNodes(3)
    await connectAll(nodes)
    const sent = async (node: typeof nodes[number]): Promise<number> => {
      const line = (await node.metricsText()).split('\n').find(l => l.startsWith('chorus_gossip_bytes_sent_total '))
      return Number(line?.split(' ')[1] ?? NaN)
    }
    const [a, b, c] = nodes as [typeof nodes[number], typeof nodes[number], typeof nodes[number]]
    const before = await sent(a)
    await a.kvPut('big', 'x'.repeat(200_000))
    await waitFor(async () => (await b.kvGet('big')).found && (await c.kvGet('big')).found, { what: 'the value to reach both peers' })
    // Published to both mesh peers directly: at least two copies of the 200 kB value.
    await waitFor(async () => await sent(a) - before >= 2 * 200_000, { what: 'a\'s gossip bytes to count both copies' })
    expect(await sent(a) - before).toBeLessThan(4 * 200_000)
  })

  it('concurrent writes on disconnected nodes: same winner and both siblings everywhere; a context write resolves', async () => {
    const [a, b] = await startNodes(2)
    if (a === undefined || b === undefined) throw new Error('nodes')
    await a.kvPut('color', 'red')
    await b.kvPut('color', 'blue')
    await connectAll([a, b])
    await a.sync()
    await waitConverged([a, b])

    const fromA = await a.kvGet('color', { all: true })
    const fromB = await b.kvGet('color', { all: true })
    expect(fromA.conflict).toBe(true)
    expect(fromA.value).toEqual(fromB.value)
    expect(fromA.values?.map(v => v.value).sort()).toEqual(['blue', 'red'])
    expect(fromB.values).toEqual(fromA.values)
    // The winner is the sibling with the greatest HLC (then node id): the first of `values`.
    expect(fromA.value).toEqual(fromA.values?.[0]?.value)

    await b.kvPut('color', 'purple', fromB.context)
    await waitFor(async () => (await a.kvGet('color')).value === 'purple', { what: 'resolution to reach a' })
    for (const node of [a, b]) {
      expect(await node.kvGet('color', { all: true })).toMatchObject({ found: true, value: 'purple', conflict: false, values: [{ value: 'purple' }] })
    }
    expect((await a.kvConflicts()).keys).toEqual([])
  })

  it('a write with a stale context keeps the concurrent version as a sibling', async () => {
    const [a, b] = await startNodes(2)
    if (a === undefined || b === undefined) throw new Error('nodes')
    await connectAll([a, b])
    const first = await a.kvPut('doc', 1)
    await waitFor(async () => (await b.kvGet('doc')).found, { what: 'doc on b' })
    await b.kvPut('doc', 2, first.context) // supersedes 1
    await waitFor(async () => (await a.kvGet('doc')).value === 2, { what: 'b\'s write on a' })
    await a.kvPut('doc', 3, first.context) // saw only 1: concurrent with 2
    await waitConverged([a, b])
    const got = await b.kvGet('doc', { all: true })
    expect(got.conflict).toBe(true)
    expect(got.values?.map(v => v.value).sort()).toEqual([2, 3])
    expect((await b.kvConflicts()).keys).toEqual(['doc'])
  })

  it('deletes replicate as tombstones and stay deleted', async () => {
    const [a, b] = await startNodes(2)
    if (a === undefined || b === undefined) throw new Error('nodes')
    await connectAll([a, b])
    await a.kvPut('gone', 'soon')
    await waitFor(async () => (await b.kvGet('gone')).found, { what: 'value on b' })
    await b.kvDelete('gone')
    await waitConverged([a, b])
    expect(await a.kvGet('gone')).toMatchObject({ found: false, value: null, conflict: false })
    expect((await a.kvScan({ prefix: 'g' })).items).toEqual([])
  })

  it('kv.batch applies atomically and replicates', async () => {
    const [a, b] = await startNodes(2)
    if (a === undefined || b === undefined) throw new Error('nodes')
    await connectAll([a, b])
    const { contexts } = await a.kvBatch([
      { op: 'put', key: 'x', value: 1 },
      { op: 'put', key: 'y', value: 2 },
      { op: 'delete', key: 'x' }
    ])
    expect(contexts).toHaveLength(3)
    await waitConverged([a, b])
    expect((await b.kvScan()).items).toEqual([{ key: 'y', value: 2, conflict: false }])
    await expect(a.kvBatch([{ op: 'put', key: 'ok', value: 1 }, { op: 'put', key: '', value: 2 }])).rejects.toMatchObject({ code: 'ERR_INVALID_PARAMS' })
    expect((await a.kvGet('ok')).found).toBe(false)
  })

  it('a restarted node keeps its peer id and its data', async () => {
    const dataDir = await tempDir()
    const first = await startNode({ dataDir })
    const peerId = first.peerId
    await first.kvPut('persist', { yes: true })
    await first.counterIncr('hits', 5)
    const digest = (await first.info()).digest
    await first.stop()
    const second = await startNode({ dataDir })
    expect(second.peerId).toBe(peerId)
    expect(await second.kvGet('persist')).toMatchObject({ found: true, value: { yes: true } })
    expect((await second.counterGet('hits')).value).toBe(5)
    expect((await second.info()).digest).toBe(digest)
  })

  it('a second process cannot open a data dir in use', async () => {
    const dataDir = await tempDir()
    await startNode({ dataDir })
    await expect(startNode({ dataDir })).rejects.toMatchObject({ code: 'ERR_DATA_DIR' })
  })
})
