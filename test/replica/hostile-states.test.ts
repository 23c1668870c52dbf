/**
 * States a compromised or buggy member could send: well-formed, canonical, and chosen to sit at
 * the edge of the safe integers so that the receiver's next write (or clock) overflows. Each
 * case is a regression: before the bounds, the node accepted them and then acknowledged writes
 * it could not read back. Real replica, real LevelDB.
 */
import pino from 'pino'
import { describe, expect, it, onTestFinished } from 'vitest'
import type { RegisterState } from '../../src/causal/index.js'
import { HybridLogicalClock } from '../../src/clock/index.js'
import { decodeRegister, encodeCounter, encodeOrSet, encodeRegister } from '../../src/codec/index.js'
import { MAX_EVENT_COUNTER, MAX_HLC_LOGICAL, MAX_SET_MEMBERS, MAX_STATE_SIBLINGS, MAX_VALUE_DEPTH } from '../../src/constants.js'
import { counterValue } from '../../src/crdt/index.js'
import { Replica } from '../../src/replica/index.js'
import { Store } from '../../src/store/index.js'
import { tempDir } from '../helpers/nodes.js'

const NOW = 1_800_000_000_000

async function openReplica (nodeId = 'me'): Promise<{ replica: Replica, store: Store }> {
  const store = await Store.open({ location: await tempDir(), fsync: false })
  onTestFinished(async () => { await store.close() })
  const replica = await Replica.open({ store, nodeId, clock: new HybridLogicalClock({ now: () => NOW }), logger: pino({ level: 'silent' }) })
  return { replica, store }
}

async function codeOf (p: Promise<unknown>): Promise<string | undefined> {
  try { await p } catch (err) { return (err as { code?: string }).code ?? String(err) }
  return undefined
}

const register = (state: RegisterState): Uint8Array => encodeRegister(state)

describe('hostile remote states', () => {
  it('regression (HLC poison): a sibling with a plausible wall time and logical 2^53-1 is refused and does not move the clock', async () => {
    const { replica } = await openReplica()
    const poison = register({ vv: { eve: 1 }, siblings: [{ node: 'eve', counter: 1, hlc: { wall: NOW, logical: Number.MAX_SAFE_INTEGER }, value: '1' }] })
    const report = await replica.applyRemote([{ storeKey: 'r/k', state: poison }], 'eve')
    expect(report.rejected).toBe(1)
    expect(replica.stats.remoteRejected['out-of-range']).toBe(1)
    // The node's own writes stay readable: its clock was not dragged to the edge.
    await replica.applyLocal([{ kind: 'kv.put', key: 'k', json: '2' }])
    await replica.applyLocal([{ kind: 'kv.put', key: 'other', json: '3' }])
    const state = await replica.read('kv', 'other')
    expect(state.siblings[0]?.hlc.logical).toBeLessThanOrEqual(MAX_HLC_LOGICAL)
    expect(decodeRegister(encodeRegister(state))).toEqual(state)
  })

  it('a logical counter at the bound itself is accepted but cannot carry the clock past it', async () => {
    const { replica } = await openReplica()
    const edge = register({ vv: { eve: 1 }, siblings: [{ node: 'eve', counter: 1, hlc: { wall: NOW, logical: MAX_HLC_LOGICAL }, value: '1' }] })
    expect((await replica.applyRemote([{ storeKey: 'r/k', state: edge }], 'eve')).rejected).toBe(0)
    await replica.applyLocal([{ kind: 'kv.put', key: 'k', json: '2' }])
    const mine = (await replica.read('kv', 'k')).siblings.find(s => s.node === 'me')
    expect(mine?.hlc).toEqual({ wall: NOW + 1, logical: 0 })
  })

  it('regression (dot poison): counters above MAX_EVENT_COUNTER are refused in registers, counters and sets', async () => {
    const { replica } = await openReplica()
    const high = MAX_EVENT_COUNTER + 1
    const states = [
      { storeKey: 'r/t', state: register({ vv: { other: Number.MAX_SAFE_INTEGER }, siblings: [{ node: 'other', counter: Number.MAX_SAFE_INTEGER, hlc: { wall: NOW, logical: 0 } }] }) },
      { storeKey: 'r/u', state: register({ vv: { other: high }, siblings: [] }) },
      { storeKey: 'c/n', state: encodeCounter({ other: { p: 1, n: 0, ops: high } }) },
      { storeKey: 's/s', state: encodeOrSet({ vv: { other: high }, entries: new Map([['m', [{ node: 'other', counter: high }]]]) }) }
    ]
    const report = await replica.applyRemote(states, 'eve')
    expect(report.rejected).toBe(4)
    expect(replica.keyCount()).toBe(0)
  })

  it('a state at MAX_EVENT_COUNTER naming another node is kept; the node it names takes it for another writer, and refuses writes clearly', async () => {
    const edge = register({ vv: { other: MAX_EVENT_COUNTER }, siblings: [{ node: 'other', counter: MAX_EVENT_COUNTER, hlc: { wall: NOW, logical: 0 }, value: '1' }] })
    const { replica: bystander } = await openReplica('bystander')
    await bystander.applyLocal([{ kind: 'kv.put', key: 'k', json: '0' }])
    expect((await bystander.applyRemote([{ storeKey: 'r/k', state: edge }], 'eve')).rejected).toBe(0)
    await bystander.applyLocal([{ kind: 'kv.put', key: 'k', json: '2' }])
    expect((await bystander.read('kv', 'k')).vv).toEqual({ bystander: 2, other: MAX_EVENT_COUNTER })
    const { replica: other } = await openReplica('other')
    await other.applyRemote([{ storeKey: 'r/k', state: edge }], 'eve')
    expect(await codeOf(other.applyLocal([{ kind: 'kv.put', key: 'k', json: '3' }]))).toBe('ERR_IDENTITY_CONFLICT')
    expect((await other.read('kv', 'k')).siblings.map(s => s.value)).toEqual(['1'])
  })

  it('asserted: a write whose own counter would pass MAX_EVENT_COUNTER is refused with ERR_LIMIT_EXCEEDED and stores nothing', async () => {
    // The dot floor (the highest counter of a collected key) is the one way a node's own
    // counter starts high; put it at the bound directly.
    const location = await tempDir()
    const seed = await Store.open({ location, fsync: false })
    await seed.commit([seed.metaWrite('dotFloor', String(MAX_EVENT_COUNTER))])
    await seed.close()
    const store = await Store.open({ location, fsync: false })
    onTestFinished(async () => { await store.close() })
    const replica = await Replica.open({ store, nodeId: 'me', clock: new HybridLogicalClock({ now: () => NOW }), logger: pino({ level: 'silent' }) })
    expect(await codeOf(replica.applyLocal([{ kind: 'kv.put', key: 'k', json: '1' }]))).toBe('ERR_LIMIT_EXCEEDED')
    expect(replica.keyCount()).toBe(0)
    expect(await store.getState('r/k')).toBeUndefined()
    // Counters and sets do not use the floor.
    await replica.applyLocal([{ kind: 'counter.incr', key: 'k', by: 1 }])
  })

  it('regression (counter poison): a forged total of ours is evidence of another writer, not a reason to stop counting', async () => {
    const { replica } = await openReplica('me')
    await replica.applyLocal([{ kind: 'counter.incr', key: 'n', by: 5 }])
    const forged = encodeCounter({ me: { p: Number.MAX_SAFE_INTEGER, n: 0, ops: 1 } })
    await replica.applyRemote([{ storeKey: 'c/n', state: forged }], 'eve')
    // The identity check stops local writes with a clear error (restart renews the identity) instead
    // of acknowledging an increment that overflows.
    expect(await codeOf(replica.applyLocal([{ kind: 'counter.incr', key: 'n', by: 1 }]))).toBe('ERR_IDENTITY_CONFLICT')
  })

  it('another node\'s forged total at the safe-integer edge does not stop this node counting', async () => {
    const { replica } = await openReplica('me')
    await replica.applyRemote([{ storeKey: 'c/n', state: encodeCounter({ other: { p: Number.MAX_SAFE_INTEGER, n: 0, ops: 1 } }) }], 'eve')
    await replica.applyLocal([{ kind: 'counter.incr', key: 'n', by: -1 }])
    expect(counterValue(await replica.read('counter', 'n'))).toBe(Number.MAX_SAFE_INTEGER - 1)
  })

  it('regression (review): merges past the sibling bound are taken, so honest nodes converge; the next local write caps the key', async () => {
    const { replica } = await openReplica()
    const many = (node: string, n: number): Uint8Array => register({
      vv: { [node]: n },
      siblings: Array.from({ length: n }, (_, i) => ({ node, counter: i + 1, hlc: { wall: NOW, logical: i }, value: String(i) }))
    })
    const half = MAX_STATE_SIBLINGS / 2 + 1
    expect((await replica.applyRemote([{ storeKey: 'r/k', state: many('aa', half) }], 'p1')).rejected).toBe(0)
    expect((await replica.applyRemote([{ storeKey: 'r/k', state: many('bb', half) }], 'p2')).rejected).toBe(0)
    expect((await replica.read('kv', 'k')).siblings).toHaveLength(2 * half)
    await replica.applyLocal([{ kind: 'kv.put', key: 'k', json: '"resolved"' }])
    expect((await replica.read('kv', 'k')).siblings).toHaveLength(1)
  })

  it('regression (review): two full sets that each gained a member merge on both sides; only local growth past the bound is refused', async () => {
    const { replica: x } = await openReplica('xx')
    const { replica: y } = await openReplica('yy')
    const members = Array.from({ length: MAX_SET_MEMBERS - 1 }, (_, i) => `m${String(i).padStart(6, '0')}`)
    const base = encodeOrSet({ vv: { other: members.length }, entries: new Map(members.map((m, i) => [m, [{ node: 'other', counter: i + 1 }]])) })
    for (const r of [x, y]) expect((await r.applyRemote([{ storeKey: 's/t', state: base }], 'other')).rejected).toBe(0)
    await x.applyLocal([{ kind: 'set.add', key: 't', members: ['from-x'] }])
    await y.applyLocal([{ kind: 'set.add', key: 't', members: ['from-y'] }])
    const [sx, sy] = [await x.readStates(['s/t']), await y.readStates(['s/t'])]
    expect((await x.applyRemote([{ storeKey: 's/t', state: sy[0] as Uint8Array }], 'yy')).rejected).toBe(0)
    expect((await y.applyRemote([{ storeKey: 's/t', state: sx[0] as Uint8Array }], 'xx')).rejected).toBe(0)
    expect((await x.read('set', 't')).entries.size).toBe(MAX_SET_MEMBERS + 1)
    expect(x.tree.root()).toEqual(y.tree.root())
    // Past the bound: adding a new member is refused, re-adding, removing and reading are not.
    expect(await codeOf(x.applyLocal([{ kind: 'set.add', key: 't', members: ['one-more'] }]))).toBe('ERR_LIMIT_EXCEEDED')
    await x.applyLocal([{ kind: 'set.add', key: 't', members: ['m000000'] }])
    await x.applyLocal([{ kind: 'set.remove', key: 't', members: ['m000001', 'm000002'] }])
    expect((await x.read('set', 't')).entries.size).toBe(MAX_SET_MEMBERS - 1)
    await x.applyLocal([{ kind: 'set.add', key: 't', members: ['fits-again'] }])
  })

  it('regression (deep value): a sibling nested past MAX_VALUE_DEPTH is refused; it would fail every read of the key', async () => {
    const { replica } = await openReplica()
    const deep = '['.repeat(MAX_VALUE_DEPTH + 1) + ']'.repeat(MAX_VALUE_DEPTH + 1)
    const edge = '['.repeat(MAX_VALUE_DEPTH) + ']'.repeat(MAX_VALUE_DEPTH)
    const state = (value: string): Uint8Array => register({ vv: { eve: 1 }, siblings: [{ node: 'eve', counter: 1, hlc: { wall: NOW, logical: 0 }, value }] })
    expect((await replica.applyRemote([{ storeKey: 'r/deep', state: state(deep) }], 'eve')).rejected).toBe(1)
    expect(replica.stats.remoteRejected['out-of-range']).toBe(1)
    expect((await replica.read('kv', 'deep')).siblings).toEqual([])
    expect((await replica.applyRemote([{ storeKey: 'r/edge', state: state(edge) }], 'eve')).rejected).toBe(0)
  })

  it('regression (1e400): a sibling whose JSON holds a number beyond a double is refused; every read would give null', async () => {
    const { replica } = await openReplica()
    const state = (value: string): Uint8Array => register({ vv: { eve: 1 }, siblings: [{ node: 'eve', counter: 1, hlc: { wall: NOW, logical: 0 }, value }] })
    const beyond = ['1e400', '[1, -2E308]', `{"a": 1${'0'.repeat(309)}}`]
    for (const [i, value] of beyond.entries()) {
      expect((await replica.applyRemote([{ storeKey: `r/big${i}`, state: state(value) }], 'eve')).rejected, value).toBe(1)
      expect((await replica.read('kv', `big${i}`)).siblings).toEqual([])
    }
    expect(replica.stats.remoteRejected['out-of-range']).toBe(beyond.length)
    // Large but finite numbers, and "e" in strings, are taken.
    for (const [i, value] of ['1.7976931348623157e308', '"1e400"', `1${'0'.repeat(308)}`].entries()) {
      expect((await replica.applyRemote([{ storeKey: `r/fine${i}`, state: state(value) }], 'eve')).rejected, value).toBe(0)
    }
  })
})
