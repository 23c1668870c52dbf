import { describe, expect, it } from 'vitest'
import { puts, writeMany } from './helpers/data.js'
import { MemoryReplica } from './helpers/memory-replica.js'
import { createPeer } from './helpers/peers.js'

describe('the benchmark\'s in-memory replica', () => {
  it('builds the same tree as the LevelDB replica from the same states, and merges alike', async () => {
    const { replica } = await createPeer({ startAntiEntropy: false })
    await writeMany(replica, [...puts('k', 0, 300), { kind: 'counter.incr', key: 'c', by: 3 }, { kind: 'set.add', key: 's', members: ['a'] }, { kind: 'kv.delete', key: 'k7' }])
    const memory = new MemoryReplica()
    const copy: Array<{ storeKey: string, state: Uint8Array }> = []
    for await (const change of replica.statesInBuckets(0, 65_536)) copy.push(change)
    expect(await memory.applyRemote(copy)).toEqual({ applied: 302, changed: 302, rejected: 0 })
    expect(Buffer.from(memory.tree.root()).toString('hex')).toBe(Buffer.from(replica.tree.root()).toString('hex'))
    expect(memory.keyCount()).toBe(replica.keyCount())
    expect(await memory.applyRemote(copy)).toEqual({ applied: 302, changed: 0, rejected: 0 })
  })
})
