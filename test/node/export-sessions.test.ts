/**
 * ExportSessions over a real replica (real LevelDB): the snapshot's digest is the root over
 * exactly the states it holds, also while writes commit around it; idle exports close.
 */
import pino from 'pino'
import { describe, expect, it, onTestFinished } from 'vitest'
import { HybridLogicalClock } from '../../src/clock/index.js'
import { bucketOf, leafHash, MerkleTree, nextBucketHash } from '../../src/merkle/index.js'
import { toStoreKey } from '../../src/model/index.js'
import type { ExportItem } from '../../src/node/api.js'
import { ExportSessions } from '../../src/node/export-sessions.js'
import { Replica } from '../../src/replica/index.js'
import { Store } from '../../src/store/index.js'
import { tempDir, waitFor } from '../helpers/nodes.js'

async function openReplica (): Promise<Replica> {
  const store = await Store.open({ location: await tempDir(), fsync: false })
  onTestFinished(async () => { await store.close() })
  return await Replica.open({ store, nodeId: 'nodeA', clock: new HybridLogicalClock(), logger: pino({ level: 'silent' }) })
}

/** The Merkle root over exactly these states, computed from scratch. */
function rootOf (items: ExportItem[]): string {
  const buckets = new Map<number, Uint8Array>()
  for (const item of items) {
    const storeKey = toStoreKey(item.space, item.key)
    const b = bucketOf(storeKey)
    buckets.set(b, nextBucketHash(buckets.get(b) ?? new Uint8Array(16), undefined, leafHash(storeKey, Buffer.from(item.state, 'base64url'))))
  }
  return Buffer.from(MerkleTree.fromBuckets(buckets).root()).toString('hex')
}

describe('ExportSessions', () => {
  it('a snapshot taken while writes commit has the digest of exactly the states it holds', async () => {
    const replica = await openReplica()
    const sessions = new ExportSessions({ node: () => 'nodeA' })
    for (let round = 0; round < 20; round++) {
      // Writes queued before, with and after the export's snapshot job, in the same ticks.
      const writes = Array.from({ length: 30 }, async (_, i) => await replica.applyLocal([{ kind: 'kv.put', key: `k${(round * 7 + i) % 50}`, json: String(round) }, { kind: 'counter.incr', key: `c${i % 5}`, by: 1 }]))
      const page = sessions.page(replica, { limit: 10_000 })
      const more = Array.from({ length: 30 }, async (_, i) => await replica.applyLocal([{ kind: 'set.add', key: `s${i % 3}`, members: [`m${round}-${i}`] }]))
      const [exported] = await Promise.all([page, ...writes, ...more])
      expect(exported.cursor).toBeUndefined()
      expect(exported.snapshot.keys).toBe(exported.items.length)
      expect(exported.snapshot.digest).toBe(rootOf(exported.items))
    }
    expect(sessions.size).toBe(0)
  })

  it('closes an export left idle; its cursor then says so', async () => {
    const replica = await openReplica()
    await replica.applyLocal([{ kind: 'kv.put', key: 'a', json: '1' }, { kind: 'kv.put', key: 'b', json: '2' }])
    const sessions = new ExportSessions({ node: () => 'nodeA', idleMs: 100 })
    const first = await sessions.page(replica, { limit: 1 })
    expect(sessions.size).toBe(1)
    await waitFor(() => sessions.size === 0, { what: 'the idle export to close', timeoutMs: 5000 })
    await expect(sessions.page(replica, { cursor: first.cursor as string })).rejects.toMatchObject({ code: 'ERR_CURSOR_EXPIRED' })
  })
})
