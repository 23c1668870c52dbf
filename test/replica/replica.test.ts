import pino from 'pino'
import { describe, expect, it, onTestFinished } from 'vitest'
import { HybridLogicalClock } from '../../src/clock/index.js'
import { encodeCounter, encodeRegister } from '../../src/codec/index.js'
import { contextOf, writeRegister, EMPTY_REGISTER, type RegisterState } from '../../src/causal/index.js'
import { bucketOf, leafHash, MerkleTree, nextBucketHash } from '../../src/merkle/index.js'
import { Replica, type AppliedChange } from '../../src/replica/index.js'
import { Store } from '../../src/store/index.js'
import { tempDir } from '../helpers/nodes.js'

async function openReplica (dir?: string, nodeId = 'nodeA', now = Date.now): Promise<{ replica: Replica, store: Store, dir: string }> {
  const location = dir ?? await tempDir()
  const store = await Store.open({ location, fsync: false })
  onTestFinished(async () => { await store.close() })
  const replica = await Replica.open({ store, nodeId, clock: new HybridLogicalClock({ now }), logger: pino({ level: 'silent' }) })
  return { replica, store, dir: location }
}

/** Recompute the whole tree from the stored data: what the incremental tree must equal. */
async function rebuiltRoot (store: Store): Promise<string> {
  const buckets = new Map<number, Uint8Array>()
  for await (const [storeKey, state] of store.entriesOf('data', {})) {
    const b = bucketOf(storeKey)
    buckets.set(b, nextBucketHash(buckets.get(b) ?? new Uint8Array(16), undefined, leafHash(storeKey, state)))
  }
  return Buffer.from(MerkleTree.fromBuckets(buckets).root()).toString('hex')
}

describe('Replica (real LevelDB)', () => {
  it('group-commits concurrent local writes; the tree always equals a rebuild from the data', async () => {
    const { replica, store } = await openReplica()
    await Promise.all(Array.from({ length: 500 }, async (_, i) => await replica.applyLocal([{ kind: 'kv.put', key: `k${i % 200}`, json: String(i) }])))
    expect(replica.stats.commits).toBeLessThan(500)
    expect(replica.keyCount()).toBe(200)
    expect(Buffer.from(replica.tree.root()).toString('hex')).toBe(await rebuiltRoot(store))
  })

  it('persists the tree and the key count: a reopened replica has the same root without a rebuild', async () => {
    const { replica, store, dir } = await openReplica()
    for (let i = 0; i < 50; i++) await replica.applyLocal([{ kind: 'counter.incr', key: `c${i}`, by: i + 1 }])
    const root = Buffer.from(replica.tree.root()).toString('hex')
    await store.close()
    const again = await openReplica(dir)
    expect(Buffer.from(again.replica.tree.root()).toString('hex')).toBe(root)
    expect(again.replica.keyCount()).toBe(50)
  })

  it('merges remote states, reports what changed, and refuses bad ones without touching data', async () => {
    const { replica, store } = await openReplica()
    const changes: AppliedChange[] = []
    replica.onChange(c => { changes.push(c) })
    const remote = writeRegister(EMPTY_REGISTER, { node: 'nodeB', hlc: { wall: Date.now(), logical: 0 }, value: '"hi"' })
    const good = { storeKey: 'r/greeting', state: encodeRegister(remote) }
    expect(await replica.applyRemote([good], 'nodeB')).toEqual({ applied: 1, changed: 1, added: 1, rejected: 0 })
    expect(changes.map(c => [c.storeKey, c.origin])).toEqual([['r/greeting', 'remote']])
    // A key new to us is stored with exactly the bytes received (they were checked canonical).
    expect(Buffer.from(await store.getState('r/greeting') as Uint8Array).equals(good.state)).toBe(true)
    expect(await replica.applyRemote([good], 'nodeB')).toEqual({ applied: 1, changed: 0, rejected: 0 })
    // Concurrent with a local write in the same group: merged, both siblings kept.
    const [local, merged] = await Promise.all([
      replica.applyLocal([{ kind: 'kv.put', key: 'both', json: '"mine"' }]),
      replica.applyRemote([{ storeKey: 'r/both', state: encodeRegister(writeRegister(EMPTY_REGISTER, { node: 'nodeB', hlc: { wall: Date.now(), logical: 0 }, value: '"theirs"' })) }], 'nodeB')
    ])
    expect((local[0] as RegisterState).siblings).toHaveLength(1)
    expect(merged).toEqual({ applied: 1, changed: 1, added: 1, rejected: 0 }) // absent before this group
    expect((await replica.read('kv', 'both')).siblings.map(s => s.value).sort()).toEqual(['"mine"', '"theirs"'])
    changes.length = 0
    const rootBefore = Buffer.from(replica.tree.root()).toString('hex')
    const report = await replica.applyRemote([
      { storeKey: 'r/x', state: new Uint8Array([0xff, 0x00, 0x13]) },
      { storeKey: 'q/x', state: good.state },
      { storeKey: 'r/', state: good.state },
      { storeKey: 'c/x', state: good.state },
      { storeKey: 'r/y', state: encodeCounter({ nodeB: { p: 1, n: 0, ops: 1 } }) },
      // A value that is not JSON would break every read of the key.
      { storeKey: 'r/z', state: encodeRegister(writeRegister(EMPTY_REGISTER, { node: 'nodeB', hlc: { wall: Date.now(), logical: 0 }, value: '{not json' })) }
    ], 'liar')
    expect(report).toEqual({ applied: 0, changed: 0, rejected: 6 })
    expect(Buffer.from(replica.tree.root()).toString('hex')).toBe(rootBefore)
    expect(changes).toEqual([])
    expect(await rebuiltRoot(store)).toBe(rootBefore)
  })

  it('a corrupt stored state refuses local writes; a peer\'s state repairs it, indexes included', async () => {
    const { replica: first, store: firstStore, dir } = await openReplica()
    // 'c' in conflict (listed in the conflicts index), 'd' deleted (listed in the tombstones index).
    await first.applyLocal([{ kind: 'kv.put', key: 'c', json: '1' }])
    await first.applyLocal([{ kind: 'kv.put', key: 'c', json: '2', context: contextOf({}) }])
    await first.applyLocal([{ kind: 'kv.put', key: 'd', json: '1' }])
    await first.applyLocal([{ kind: 'kv.delete', key: 'd' }])
    const listed = async (on: Store, sublevel: 'conflicts' | 'tombstones'): Promise<string[]> => { const out: string[] = []; for await (const k of on.keysOf(sublevel, {})) out.push(k); return out }
    expect(await listed(firstStore, 'conflicts')).toEqual(['r/c'])
    expect(await listed(firstStore, 'tombstones')).toEqual(['r/d'])
    await firstStore.commit([{ sublevel: 'data', key: 'r/c', value: new Uint8Array([0xff, 1]) }, { sublevel: 'data', key: 'r/d', value: new Uint8Array([0xff, 2]) }])
    await firstStore.close()

    // A fresh replica (nothing cached) on the damaged data.
    const { replica, store } = await openReplica(dir)
    const damagedRoot = Buffer.from(replica.tree.root()).toString('hex')
    await expect(replica.applyLocal([{ kind: 'kv.put', key: 'c', json: '3' }])).rejects.toMatchObject({ code: 'ERR_CORRUPT_DATA' })
    await expect(replica.read('kv', 'd')).rejects.toMatchObject({ code: 'ERR_CORRUPT_DATA' })
    await replica.flush()
    // Both damaged keys now carry the leaf of their stored bytes: the tree disagrees with any
    // peer's there, so anti-entropy will fetch them.
    expect(Buffer.from(replica.tree.root()).toString('hex')).not.toBe(damagedRoot)
    expect(Buffer.from(replica.tree.root()).toString('hex')).toBe(await rebuiltRoot(store))
    expect(await replica.purge([{ storeKey: 'r/d', expected: new Uint8Array([0xff, 2]) }])).toBe(0)
    const fromPeer = (value: string): Uint8Array => encodeRegister(writeRegister(EMPTY_REGISTER, { node: 'nodeB', hlc: { wall: Date.now(), logical: 0 }, value }))
    expect(await replica.applyRemote([{ storeKey: 'r/c', state: fromPeer('"fixed"') }, { storeKey: 'r/d', state: fromPeer('"back"') }], 'nodeB')).toMatchObject({ applied: 2, changed: 2 })
    expect(await listed(store, 'conflicts')).toEqual([])
    expect(await listed(store, 'tombstones')).toEqual([])
    expect((await replica.read('kv', 'c')).siblings.map(s => s.value)).toEqual(['"fixed"'])
    await replica.applyLocal([{ kind: 'kv.put', key: 'c', json: '4' }])
    expect(Buffer.from(replica.tree.root()).toString('hex')).toBe(await rebuiltRoot(store))
  })

  it('takes register states from further in the future than the allowed drift, without letting them drag its clock', async () => {
    const now = 1_000_000_000_000
    const { replica } = await openReplica(undefined, 'nodeA', () => now)
    const future = writeRegister(EMPTY_REGISTER, { node: 'nodeB', hlc: { wall: now + 3_600_000, logical: 0 }, value: '1' })
    // An acknowledged write of a node whose clock ran ahead: refusing it would leave it on one disk.
    expect(await replica.applyRemote([{ storeKey: 'r/k', state: encodeRegister(future) }], 'nodeB')).toMatchObject({ applied: 1, rejected: 0 })
    expect((await replica.read('kv', 'k')).siblings.map(s => s.value)).toEqual(['1'])
    const [state] = await replica.applyLocal([{ kind: 'kv.put', key: 'other', json: '2' }]) as RegisterState[]
    // Our clock was not dragged an hour ahead.
    expect(state?.siblings[0]?.hlc.wall).toBe(now)
    // A write that has seen the future version still supersedes it: causality, not time, decides.
    const [over] = await replica.applyLocal([{ kind: 'kv.put', key: 'k', json: '3' }]) as RegisterState[]
    expect(over?.siblings.map(s => s.value)).toEqual(['3'])
  })

  it('fails one local job without failing the others committed with it', async () => {
    const { replica } = await openReplica()
    await replica.applyLocal([{ kind: 'counter.incr', key: 'big', by: Number.MAX_SAFE_INTEGER }])
    const results = await Promise.allSettled([
      replica.applyLocal([{ kind: 'counter.incr', key: 'big', by: 1 }]),
      replica.applyLocal([{ kind: 'kv.put', key: 'fine', json: 'true' }])
    ])
    expect(results[0]).toMatchObject({ status: 'rejected', reason: { code: 'ERR_LIMIT_EXCEEDED' } })
    expect(results[1]?.status).toBe('fulfilled')
    expect((await replica.read('kv', 'fine')).siblings).toHaveLength(1)
  })

  it('lists bucket entries and streams states by bucket for anti-entropy', async () => {
    const { replica } = await openReplica()
    for (let i = 0; i < 100; i++) await replica.applyLocal([{ kind: 'set.add', key: `s${i}`, members: ['m'] }])
    let total = 0
    for await (const change of replica.statesInBuckets(0, 65536)) {
      total++
      const entries = await replica.bucketEntries(bucketOf(change.storeKey))
      const entry = entries.find(e => e.storeKey === change.storeKey)
      expect(entry).toBeDefined()
      expect(Buffer.from(entry?.leaf ?? []).equals(Buffer.from(leafHash(change.storeKey, change.state)))).toBe(true)
    }
    expect(total).toBe(100)
  })
  it('a local write committed together with a remote merge of the same key is still reported as local (so gossip publishes it)', async () => {
    const { replica } = await openReplica()
    const changes: AppliedChange[] = []
    replica.onChange(c => { changes.push(c) })
    const remote = { storeKey: 'c/hits', state: encodeCounter({ nodeB: { p: 5, n: 0, ops: 1 } }) }
    // Both enqueued in the same tick: one group commit, local first, remote last.
    await Promise.all([
      replica.applyLocal([{ kind: 'counter.incr', key: 'hits', by: 1 }]),
      replica.applyRemote([remote], 'nodeB')
    ])
    expect(replica.stats.commits).toBe(1)
    expect(changes.map(c => [c.storeKey, c.origin])).toEqual([['c/hits', 'local']])
  })
  it('regression: a group commit is capped in bytes, not only in jobs (MAX_COMMIT_BYTES)', async () => {
    const { replica } = await openReplica()
    const big = JSON.stringify('x'.repeat(900 * 1024)) // each write ~0.9 MiB, under the value limit
    const writes = Array.from({ length: 40 }, (_, i) => replica.applyLocal([{ kind: 'kv.put', key: `big${i}`, json: big }]))
    await Promise.all(writes)
    // 40 × 0.9 MiB = 36 MiB queued in one tick: at most 16 MiB per commit makes at least 3.
    expect(replica.stats.commits).toBeGreaterThanOrEqual(3)
    expect(replica.keyCount()).toBe(40)
  })
  it('lists the keys of the last bucket (0xffff) too', async () => {
    const { replica } = await openReplica()
    let key = ''
    for (let i = 0; key === ''; i++) if (bucketOf(`r/k${i}`) === 65535) key = `k${i}`
    await replica.applyLocal([{ kind: 'kv.put', key, json: '1' }])
    expect((await replica.bucketEntries(65535)).map(e => e.storeKey)).toEqual([`r/${key}`])
  })
  describe('tombstone collection', () => {
    /** A replica `A` holding key k deleted after `B`'s write: a lone tombstone that A may collect. */
    async function collectedKey (): Promise<{ replica: Replica, staleTombstone: Uint8Array, staleValue: Uint8Array }> {
      const { replica } = await openReplica(undefined, 'nodeA')
      const value = writeRegister(EMPTY_REGISTER, { node: 'nodeB', hlc: { wall: Date.now(), logical: 0 }, value: '"old"' })
      await replica.applyRemote([{ storeKey: 'r/k', state: encodeRegister(value) }], 'nodeB')
      await replica.applyLocal([{ kind: 'kv.delete', key: 'k' }]) // dot (nodeA, 1)
      const [bytes] = await replica.readStates(['r/k'])
      expect(await replica.purge([{ storeKey: 'r/k', expected: bytes as Uint8Array }])).toBe(1)
      expect(replica.keyCount()).toBe(0)
      return { replica, staleTombstone: bytes as Uint8Array, staleValue: encodeRegister(value) }
    }

    it('a zombie (the old value, or the tombstone itself) is refused; a concurrent new write is not', async () => {
      const { replica, staleTombstone, staleValue } = await collectedKey()
      expect(await replica.applyRemote([{ storeKey: 'r/k', state: staleValue }], 'old-member')).toMatchObject({ rejected: 1 })
      expect(await replica.applyRemote([{ storeKey: 'r/k', state: staleTombstone }], 'peer')).toMatchObject({ rejected: 1 })
      expect(replica.keyCount()).toBe(0)
      // A write that the tombstone never saw is new data, however old its timestamp.
      const fresh = writeRegister(EMPTY_REGISTER, { node: 'nodeC', hlc: { wall: 1, logical: 0 }, value: '"new"' })
      expect(await replica.applyRemote([{ storeKey: 'r/k', state: encodeRegister(fresh) }], 'nodeC')).toMatchObject({ applied: 1, changed: 1 })
      expect((await replica.read('kv', 'k')).siblings.map(s => s.value)).toEqual(['"new"'])
    })

    it('a key written again after collection never reuses a dot, so a stale tombstone elsewhere cannot delete it', async () => {
      const { replica, staleTombstone } = await collectedKey()
      const [state] = await replica.applyLocal([{ kind: 'kv.put', key: 'k', json: '"again"' }]) as RegisterState[]
      expect(state?.siblings[0]?.counter).toBeGreaterThan(1) // (nodeA, 1) was the collected tombstone's dot
      // A peer that still holds the tombstone sends it back: the new value survives.
      await replica.applyRemote([{ storeKey: 'r/k', state: staleTombstone }], 'peer')
      expect((await replica.read('kv', 'k')).siblings.map(s => s.value)).toEqual(['"again"'])
    })

    it('remembers its dot floor across restarts, after the record of the key is gone', async () => {
      const location = await tempDir()
      const store = await Store.open({ location, fsync: false })
      const replica = await Replica.open({ store, nodeId: 'nodeA', clock: new HybridLogicalClock(), logger: pino({ level: 'silent' }) })
      await replica.applyLocal([{ kind: 'kv.put', key: 'k', json: '1' }])
      await replica.applyLocal([{ kind: 'kv.delete', key: 'k' }]) // (nodeA, 2)
      const [bytes] = await replica.readStates(['r/k'])
      await replica.purge([{ storeKey: 'r/k', expected: bytes as Uint8Array }])
      expect(await replica.forgetCollected(Date.now() + 1)).toBe(1)
      await store.close()
      const again = await openReplica(location)
      const [state] = await again.replica.applyLocal([{ kind: 'kv.put', key: 'k', json: '2' }]) as RegisterState[]
      expect(state?.siblings[0]?.counter).toBe(3)
    })
  })
  it('a clean shutdown snapshot makes the next start skip the rebuild; a stale one is never trusted', async () => {
    const { replica, store, dir } = await openReplica()
    for (let i = 0; i < 100; i++) await replica.applyLocal([{ kind: 'kv.put', key: `k${i}`, json: String(i) }])
    await replica.saveSnapshot()
    const root = Buffer.from(replica.tree.root()).toString('hex')
    await store.close()

    const second = await openReplica(dir) // takes (and deletes) the snapshot
    expect(Buffer.from(second.replica.tree.root()).toString('hex')).toBe(root)
    expect(second.replica.keyCount()).toBe(100)
    await second.replica.applyLocal([{ kind: 'kv.put', key: 'after', json: '1' }])
    const moved = Buffer.from(second.replica.tree.root()).toString('hex')
    await second.store.close() // a "crash": no snapshot saved

    const third = await openReplica(dir) // must rebuild from the leaves, including 'after'
    expect(Buffer.from(third.replica.tree.root()).toString('hex')).toBe(moved)
    expect(third.replica.keyCount()).toBe(101)
    expect(moved).not.toBe(root)
  })
})
