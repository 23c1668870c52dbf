import pino from 'pino'
import { describe, expect, it } from 'vitest'
import { HybridLogicalClock } from '../../src/clock/index.js'
import { Replica } from '../../src/replica/index.js'
import { Store, verifyTree } from '../../src/store/index.js'
import { tempDir } from '../helpers/nodes.js'

describe('verifyTree (rebuild and verify)', () => {
  it('finds and repairs a damaged leaf index; the tree then matches the data again', async () => {
    const location = await tempDir()
    const store = await Store.open({ location, fsync: false })
    const replica = await Replica.open({ store, nodeId: 'nodeA', clock: new HybridLogicalClock(), logger: pino({ level: 'silent' }) })
    for (let i = 0; i < 2500; i++) await replica.applyLocal([{ kind: 'kv.put', key: `k${i}`, json: String(i) }])
    const goodRoot = Buffer.from(replica.tree.root()).toString('hex')
    const progress: number[] = []
    expect(await verifyTree(store, { onProgress: done => progress.push(done) })).toEqual({ keys: 2500, mismatched: 0, orphaned: 0, repaired: 0 })
    expect(progress.at(-1)).toBe(2500)

    // Damage: a wrong leaf, a missing leaf, an orphan, and an entry in the wrong bucket.
    const index: string[] = []
    for await (const k of store.keysOf('buckets', { limit: 2 })) index.push(k)
    await store.commit([
      { sublevel: 'buckets', key: index[0] as string, value: new Uint8Array(16).fill(7) },
      { sublevel: 'buckets', key: index[1] as string },
      { sublevel: 'buckets', key: '0000r/no-such-key', value: new Uint8Array(16) },
      { sublevel: 'buckets', key: 'ffffr/k1', value: new Uint8Array(16) }
    ])
    expect(await verifyTree(store)).toMatchObject({ keys: 2500, mismatched: 2, orphaned: 2, repaired: 0 })
    expect(await verifyTree(store, { repair: true })).toMatchObject({ mismatched: 2, orphaned: 2, repaired: 4 })
    expect(await verifyTree(store)).toEqual({ keys: 2500, mismatched: 0, orphaned: 0, repaired: 0 })
    const { tree, keys } = await store.loadTree()
    expect(Buffer.from(tree.root()).toString('hex')).toBe(goodRoot)
    expect(keys).toBe(2500)
    await store.close()
  })
})
