/**
 * Map states at the replica (real LevelDB): a peer's state past the byte bound is refused before
 * it is decoded; a register field's HLC poison neither merges nor moves the clock; a peer that
 * shows our own writes of a map we never made is an identity conflict, as for the other spaces.
 */
import pino from 'pino'
import { describe, expect, it, onTestFinished } from 'vitest'
import { HybridLogicalClock } from '../../src/clock/index.js'
import { decodeOrMap, encodeOrMap } from '../../src/codec/index.js'
import { MAX_MAP_STATE_BYTES, MAX_MAP_STATE_FIELDS } from '../../src/constants.js'
import { leafId, type MapLeaf, type OrMapState } from '../../src/crdt/index.js'
import { Replica } from '../../src/replica/index.js'
import { Store } from '../../src/store/index.js'
import { tempDir } from '../helpers/nodes.js'

const NOW = 1_800_000_000_000

async function openReplica (nodeId = 'me'): Promise<{ replica: Replica, clock: HybridLogicalClock }> {
  const store = await Store.open({ location: await tempDir(), fsync: false })
  onTestFinished(async () => { await store.close() })
  const clock = new HybridLogicalClock({ now: () => NOW })
  const replica = await Replica.open({ store, nodeId, clock, logger: pino({ level: 'silent' }) })
  return { replica, clock }
}

const registerMap = (node: string, counter: number, hlc: { wall: number, logical: number }, value = '1'): OrMapState =>
  ({ vv: { [node]: counter }, leaves: new Map([['x', { type: 'register', path: ['f'], siblings: [{ node, counter, hlc, value }] }]]) })

/** A map of `fields` register fields written by `node`, each field named after the node. */
function wideMap (node: string, fields: number): OrMapState {
  const leaves = new Map<string, MapLeaf>()
  for (let i = 0; i < fields; i++) {
    const path = [`${node}${i}`]
    leaves.set(leafId(path, 'register'), { type: 'register', path, siblings: [{ node, counter: i + 1, hlc: { wall: NOW, logical: 0 }, value: '1' }] })
  }
  return { vv: { [node]: fields }, leaves }
}

describe('map states at the replica', () => {
  it(`refuses a peer's map whose merge with ours would hold more than ${MAX_MAP_STATE_FIELDS} fields: what is stored stays readable`, async () => {
    const { replica } = await openReplica()
    const half = MAX_MAP_STATE_FIELDS / 2 + 1
    expect(await replica.applyRemote([{ storeKey: 'm/k', state: encodeOrMap(wideMap('a', half)) }], 'a')).toMatchObject({ applied: 1, rejected: 0 })
    // Each side is within the bound; together they are not, and could not be decoded again.
    expect(await replica.applyRemote([{ storeKey: 'm/k', state: encodeOrMap(wideMap('b', half)) }], 'b')).toMatchObject({ rejected: 1 })
    expect(replica.stats.remoteRejected['out-of-range']).toBe(1)
    const [stored] = await replica.readStates(['m/k'])
    expect(decodeOrMap(stored as Uint8Array).leaves.size).toBe(half)
  })

  it(`refuses a peer's map of more than ${MAX_MAP_STATE_BYTES} bytes without decoding it`, async () => {
    const { replica } = await openReplica()
    const report = await replica.applyRemote([{ storeKey: 'm/k', state: new Uint8Array(MAX_MAP_STATE_BYTES + 1) }], 'eve')
    expect(report).toMatchObject({ applied: 0, rejected: 1 })
    expect(replica.stats.remoteRejected['too-large']).toBe(1)
  })

  it('refuses a register field stamped with logical 2^53-1; the clock does not move', async () => {
    const { replica, clock } = await openReplica()
    const report = await replica.applyRemote([{ storeKey: 'm/k', state: encodeOrMap(registerMap('eve', 1, { wall: NOW, logical: Number.MAX_SAFE_INTEGER })) }], 'eve')
    expect(report.rejected).toBe(1)
    expect(replica.stats.remoteRejected['out-of-range']).toBe(1)
    expect(clock.tick()).toEqual({ wall: NOW, logical: 0 })
    expect(replica.keyCount()).toBe(0)
  })

  it('a peer showing writes of ours we never made is an identity conflict', async () => {
    const conflicts: string[] = []
    const store = await Store.open({ location: await tempDir(), fsync: false })
    onTestFinished(async () => { await store.close() })
    const replica = await Replica.open({ store, nodeId: 'me', clock: new HybridLogicalClock({ now: () => NOW }), logger: pino({ level: 'silent' }), onIdentityConflict: c => { conflicts.push(c.storeKey) } })
    await replica.applyRemote([{ storeKey: 'm/k', state: encodeOrMap(registerMap('me', 3, { wall: NOW, logical: 0 })) }], 'copy')
    expect(conflicts).toEqual(['m/k'])
  })
})
