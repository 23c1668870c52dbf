/**
 * Which changes count as fresh for anti-entropy (docs/protocol.md, "Fresh changes"): only those
 * gossip carries to every node — local writes and changes received by gossip — never states
 * merged by anti-entropy or an import, which nothing else would carry on (review finding).
 */
import pino from 'pino'
import { describe, expect, it, onTestFinished } from 'vitest'
import { HybridLogicalClock } from '../../src/clock/index.js'
import { Replica } from '../../src/replica/index.js'
import { Store } from '../../src/store/index.js'
import { tempDir } from '../helpers/nodes.js'

async function openReplica (nodeId: string): Promise<Replica> {
  const store = await Store.open({ location: await tempDir(), fsync: false })
  onTestFinished(async () => { await store.close() })
  return await Replica.open({ store, nodeId, clock: new HybridLogicalClock(), logger: pino({ level: 'silent' }) })
}

describe('fresh changes come from local writes and gossip only', () => {
  it('local and gossiped changes are fresh; anti-entropy merges and imports are not', async () => {
    const writer = await openReplica('writer')
    await writer.applyLocal([
      { kind: 'kv.put', key: 'local', json: '1' },
      { kind: 'kv.put', key: 'gossiped', json: '2' },
      { kind: 'kv.put', key: 'repaired', json: '3' },
      { kind: 'counter.incr', key: 'imported', by: 4 }
    ])
    expect(writer.freshSince('r/local')).toBeDefined()

    const reader = await openReplica('reader')
    const [gossiped, repaired, imported] = await writer.readStates(['r/gossiped', 'r/repaired', 'c/imported'])
    await reader.applyRemote([{ storeKey: 'r/gossiped', state: gossiped as Uint8Array }], 'writer', { viaGossip: true })
    await reader.applyRemote([{ storeKey: 'r/repaired', state: repaired as Uint8Array }], 'writer')
    await reader.applyRemote([{ storeKey: 'c/imported', state: imported as Uint8Array }], 'import')

    expect(reader.keyCount()).toBe(3)
    expect(reader.freshSince('r/gossiped')).toBeDefined()
    expect(reader.freshSince('r/repaired')).toBeUndefined()
    expect(reader.freshSince('c/imported')).toBeUndefined()
  })
})
