/**
 * Map states at the replica (real LevelDB): a peer's state past the byte bound is refused before
 * it is decoded; a register field's HLC poison neither merges nor moves the clock; a peer that
 * shows our own writes of a map we never made is an identity conflict, as for the other spaces.
 */
import pino from 'pino'
import { describe, expect, it, onTestFinished } from 'vitest'
import { HybridLogicalClock } from '../../src/clock/index.js'
import { encodeOrMap } from '../../src/codec/index.js'
import { MAX_MAP_STATE_BYTES } from '../../src/constants.js'
import type { OrMapState } from '../../src/crdt/index.js'
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

describe('map states at the replica', () => {
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
