import { describe, expect, it } from 'vitest'
import type { ChangeEvent } from '../../src/node/index.js'
import { connectAll, startNode, startNodes, tempDir, waitConverged, waitFor } from '../helpers/nodes.js'

describe('conflicts and data types across real leaders', () => {
  it('counters incremented concurrently on three leaders sum exactly', async () => {
    const nodes = await startNodes(3)
    await connectAll(nodes)
    await Promise.all(nodes.map(async (node, n) => {
      for (let i = 0; i < 100; i++) await node.counterIncr('hits', n === 2 ? -1 : 2)
    }))
    await waitConverged(nodes)
    for (const node of nodes) expect((await node.counterGet('hits')).value).toBe(300)
  })

  it('concurrent add and remove of the same element on two leaders keeps it (add wins)', async () => {
    const [a, b] = await startNodes(2)
    if (a === undefined || b === undefined) throw new Error('nodes')
    await connectAll([a, b])
    await a.setAdd('tags', ['x', 'y'])
    await waitFor(async () => (await b.setGet('tags')).members.length === 2, { what: 'set on b' })
    // Partition-free concurrency: stop gossip reaching the other side by acting before it can.
    const [removed, added] = await Promise.all([b.setRemove('tags', ['x', 'y']), a.setAdd('tags', ['x'])])
    expect(removed.members).not.toContain('y')
    expect(added.members).toContain('x')
    await waitConverged([a, b])
    for (const node of [a, b]) expect((await node.setGet('tags')).members).toEqual(['x'])
  })

  it('a read with `after` on another leader sees the write (registers, counters, sets)', async () => {
    const [a, b] = await startNodes(2)
    if (a === undefined || b === undefined) throw new Error('nodes')
    await connectAll([a, b])
    const { context } = await a.kvPut('ryw', 'mine')
    expect(await b.kvGet('ryw', { after: context, timeoutMs: 10_000 })).toMatchObject({ found: true, value: 'mine' })
    const counted = await a.counterIncr('ryw-count', 7)
    expect(await b.counterGet('ryw-count', { after: counted.context, timeoutMs: 10_000 })).toMatchObject({ value: 7 })
    const added = await a.setAdd('ryw-set', ['m'])
    expect(await b.setGet('ryw-set', { after: added.context, timeoutMs: 10_000 })).toMatchObject({ members: ['m'] })
  })

  it('`after` with a write this node cannot see times out with a clear error', async () => {
    const a = await startNode()
    const lonely = await startNode()
    const { context } = await a.kvPut('elsewhere', 1)
    await expect(lonely.kvGet('elsewhere', { after: context, timeoutMs: 200 })).rejects.toMatchObject({ code: 'ERR_AFTER_TIMEOUT' })
  })

  it('a key deleted on one side of a partition stays deleted when an old replica returns', async () => {
    const oldDir = await tempDir()
    const [a, b] = await startNodes(2)
    if (a === undefined || b === undefined) throw new Error('nodes')
    let old = await startNode({ dataDir: oldDir })
    await connectAll([a, b, old])
    await a.kvPut('doomed', 'alive')
    await waitConverged([a, b, old])
    await old.stop() // the old replica is cut off, holding the value

    await b.kvDelete('doomed')
    await waitConverged([a, b])
    old = await startNode({ dataDir: oldDir })
    expect((await old.kvGet('doomed')).found).toBe(true) // it still believes the key lives
    await connectAll([a, b, old])
    await old.sync(a.peerId)
    await waitConverged([a, b, old])
    for (const node of [a, b, old]) expect(await node.kvGet('doomed')).toMatchObject({ found: false, conflict: false })
  })

  it('a watcher receives local and remote changes in order per key', async () => {
    const [a, b] = await startNodes(2)
    if (a === undefined || b === undefined) throw new Error('nodes')
    await connectAll([a, b])
    const seen: ChangeEvent[] = []
    const stop = b.watch('w/', event => { seen.push(event) })
    await b.kvPut('w/local', 1)
    for (let i = 1; i <= 20; i++) await a.kvPut('w/remote', i)
    await b.kvPut('other', 'not watched')
    await waitFor(() => seen.some(e => e.key === 'w/remote' && e.value === 20), { what: 'last remote change' })
    stop()
    expect(seen[0]).toMatchObject({ key: 'w/local', value: 1, origin: 'local', space: 'kv', found: true, conflict: false })
    const remote = seen.filter(e => e.key === 'w/remote').map(e => e.value as number)
    expect(remote.every(e => e !== undefined)).toBe(true)
    expect([...remote].sort((x, y) => x - y)).toEqual(remote) // never goes backwards
    expect(seen.some(e => e.key === 'other')).toBe(false)
  })
})
