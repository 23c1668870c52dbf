/**
 * Maps across real leaders: real libp2p nodes over loopback, real LevelDB, the real write path.
 * Concurrent field edits converge to one map and one digest, anti-entropy alone repairs maps,
 * an export round trip carries them, watchers hear of them, and hostile map states are refused.
 */
import { describe, expect, it } from 'vitest'
import { encodeCanonical } from '../../src/codec/index.js'
import { encodeOrMap } from '../../src/codec/index.js'
import { MAX_EVENT_COUNTER, MAX_MAP_FIELDS, MAX_VALUE_BYTES } from '../../src/constants.js'
import { encodeGossip } from '../../src/gossip/message.js'
import type { ChangeEvent, ExportItem } from '../../src/node/api.js'
import type { ChorusNode } from '../../src/node/index.js'
import { connectGossipLiar } from '../helpers/gossip-liar.js'
import { connectAll, startNode, startNodes, waitConverged, waitFor } from '../helpers/nodes.js'

const metric = async (node: { metricsText: () => Promise<string> }, name: string): Promise<number> => {
  const line = (await node.metricsText()).split('\n').find(l => l.startsWith(`${name} `))
  return Number(line?.split(' ')[1] ?? 0)
}

async function exportAll (node: ChorusNode): Promise<ExportItem[]> {
  const items: ExportItem[] = []
  let page = await node.exportPage({ limit: 100 })
  items.push(...page.items)
  while (page.cursor !== undefined) {
    page = await node.exportPage({ cursor: page.cursor, limit: 100 })
    items.push(...page.items)
  }
  return items
}

describe('maps across real leaders', () => {
  it('concurrent edits on three leaders converge to the same map and digest; one register field edited twice keeps both', async () => {
    const nodes = await startNodes(3)
    const [a, b, c] = nodes as [ChorusNode, ChorusNode, ChorusNode]
    await connectAll(nodes)
    await a.mapUpdate('doc', [{ op: 'set', field: 'title', value: 'draft' }, { op: 'add', field: 'tags', members: ['x'] }])
    await waitFor(async () => (await c.mapGet('doc')).found && (await b.mapGet('doc')).found, { what: 'the map on b and c' })
    // a and b write the title with what they read (the draft), so each write supersedes the draft
    // only, however fast the other's write reaches it: the two titles are concurrent.
    const [readA, readB] = await Promise.all([a.mapGet('doc'), b.mapGet('doc')])
    await Promise.all([
      a.mapUpdate('doc', [{ op: 'set', field: 'title', value: 'A' }, { op: 'incr', field: 'views', by: 5 }], readA.context),
      b.mapUpdate('doc', [{ op: 'set', field: 'title', value: 'B' }, { op: 'update', field: 'meta', ops: [{ op: 'set', field: 'lang', value: 'en' }] }], readB.context),
      c.mapUpdate('doc', [{ op: 'add', field: 'tags', members: ['y'] }, { op: 'incr', field: 'views', by: -2 }])
    ])
    const digest = await waitConverged(nodes)
    expect(digest).toMatch(/^[0-9a-f]+$/)
    const views = await Promise.all(nodes.map(async n => await n.mapGet('doc', { all: true })))
    for (const v of views) {
      expect(v.value).toEqual(views[0]?.value)
      expect(v.value).toMatchObject({ tags: ['x', 'y'], views: 3, meta: { lang: 'en' } })
      expect(['A', 'B']).toContain(v.value.title)
      expect(v.conflicts).toEqual([['title']])
      expect(v.fields?.find(f => f.path[0] === 'title')?.values?.map(s => s.value).sort()).toEqual(['A', 'B'])
    }
    // Resolving with the read's context leaves one title everywhere.
    await b.mapUpdate('doc', [{ op: 'set', field: 'title', value: 'AB' }], views[1]?.context)
    await waitFor(async () => {
      const all = await Promise.all(nodes.map(async n => await n.mapGet('doc')))
      return all.every(v => v.value.title === 'AB' && !v.conflict)
    }, { what: 'the resolved title on every node' })
    await waitConverged(nodes)
  })

  it('a removed field updated concurrently elsewhere survives with the update (update wins)', async () => {
    const [a, b] = await startNodes(2) as [ChorusNode, ChorusNode]
    await connectAll([a, b])
    await a.mapUpdate('cart', [{ op: 'add', field: 'items', members: ['apple'] }, { op: 'update', field: 'ship', ops: [{ op: 'set', field: 'city', value: 'Oslo' }] }])
    await waitFor(async () => (await b.mapGet('cart')).found, { what: 'the cart on b' })
    // a removes what it read; b's update, wherever it lands first, is one a never saw.
    const seen = (await a.mapGet('cart')).context
    await Promise.all([
      a.mapUpdate('cart', [{ op: 'delete', field: 'items', type: 'set' }, { op: 'delete', field: 'ship', type: 'map' }], seen),
      b.mapUpdate('cart', [{ op: 'add', field: 'items', members: ['pear'] }, { op: 'update', field: 'ship', ops: [{ op: 'set', field: 'zip', value: '0150' }] }])
    ])
    await waitConverged([a, b])
    for (const node of [a, b]) expect((await node.mapGet('cart')).value).toEqual({ items: ['pear'], ship: { zip: '0150' } })
  })

  it('with gossip off, anti-entropy alone repairs maps', async () => {
    const [a, b] = await startNodes(2, { gossip: false, aeIntervalMs: 200 }) as [ChorusNode, ChorusNode]
    // Written before the nodes meet: b's write of m0 is concurrent with a's.
    for (let i = 0; i < 20; i++) await a.mapUpdate(`m${i}`, [{ op: 'incr', field: 'n', by: i }, { op: 'set', field: 'who', value: 'a' }])
    await b.mapUpdate('m0', [{ op: 'set', field: 'who', value: 'b' }])
    await connectAll([a, b])
    await waitConverged([a, b], { timeoutMs: 60_000 })
    expect((await b.mapGet('m19')).value).toEqual({ n: 19, who: 'a' })
    expect((await a.mapGet('m0')).conflicts).toEqual([['who']])
    expect((await b.mapScan({ prefix: 'm1' })).items.map(i => i.key)).toEqual(['m1', 'm10', 'm11', 'm12', 'm13', 'm14', 'm15', 'm16', 'm17', 'm18', 'm19'])
  })

  it('an export round trip carries maps: an empty node that imports it has the same digest and maps', async () => {
    const a = await startNode()
    await a.kvPut('plain', 1)
    await a.mapUpdate('profile', [{ op: 'set', field: 'name', value: 'Ada' }, { op: 'update', field: 'stats', ops: [{ op: 'incr', field: 'logins', by: 3 }] }])
    await a.mapUpdate('emptied', [{ op: 'set', field: 'x', value: 1 }])
    await a.mapDelete('emptied')
    const items = await exportAll(a)
    expect(items.filter(i => i.space === 'map').map(i => i.key).sort()).toEqual(['emptied', 'profile'])
    const fresh = await startNode()
    const report = await fresh.importStates(items)
    expect(report).toMatchObject({ added: 3, rejected: 0 })
    expect((await fresh.info()).digest).toBe((await a.info()).digest)
    expect((await fresh.mapGet('profile')).value).toEqual({ name: 'Ada', stats: { logins: 3 } })
    expect((await fresh.mapGet('emptied')).found).toBe(false)
    expect(await fresh.importStates(items)).toMatchObject({ added: 0, updated: 0, unchanged: 3 })
  })

  it('watchers hear of map changes, local and remote', async () => {
    const [a, b] = await startNodes(2) as [ChorusNode, ChorusNode]
    await connectAll([a, b])
    const seen: ChangeEvent[] = []
    b.watch('w', e => { seen.push(e) })
    await a.mapUpdate('watched', [{ op: 'incr', field: 'n', by: 2 }])
    await waitFor(() => seen.some(e => e.space === 'map'), { what: 'b to hear of the map' })
    expect(seen.find(e => e.space === 'map')).toMatchObject({ space: 'map', key: 'watched', found: true, value: { n: 2 }, conflict: false, origin: 'remote' })
  })

  it('holds local writes to the map bounds: fields and bytes; a write that shrinks a map is always allowed', async () => {
    const a = await startNode()
    const fields = Array.from({ length: MAX_MAP_FIELDS }, (_, i) => ({ op: 'incr' as const, field: `f${i}` }))
    await a.mapUpdate('wide', fields)
    await expect(a.mapUpdate('wide', [{ op: 'set', field: 'one-more', value: 1 }])).rejects.toMatchObject({ code: 'ERR_LIMIT_EXCEEDED' })
    expect(Object.keys((await a.mapGet('wide')).value)).toHaveLength(MAX_MAP_FIELDS)
    await a.mapUpdate('wide', [{ op: 'incr', field: 'f0', by: 2 }, { op: 'delete', field: 'f1', type: 'counter' }])
    expect((await a.mapGet('wide')).value).toMatchObject({ f0: 3 })
    const big = 'x'.repeat(MAX_VALUE_BYTES - 10)
    await a.mapUpdate('big', [{ op: 'set', field: 'a', value: big }])
    await expect(a.mapUpdate('big', [{ op: 'set', field: 'b', value: big }, { op: 'set', field: 'c', value: 1 }])).rejects.toMatchObject({ code: 'ERR_LIMIT_EXCEEDED' })
    expect(Object.keys((await a.mapGet('big')).value)).toEqual(['a']) // nothing of the refused update
  })

  it('refuses hostile map states from a peer and from an import; valid ones still merge', async () => {
    const a = await startNode()
    const { liar, pubsub, topic } = await connectGossipLiar(a)
    const id = liar.peerId.toString()
    const hlc = { wall: Date.now(), logical: 0 }
    const hostile: Array<[string, Uint8Array]> = [
      // a path deeper than MAX_MAP_DEPTH
      ['deep', encodeCanonical([[[id, 1]], [[['1', '2', '3', '4', '5', '6', '7', '8', '9'], 'c', [[id, 1, 1, 0]]]]])],
      // a dot its version vector does not cover
      ['uncovered', encodeCanonical([[[id, 1]], [[['f'], 'c', [[id, 2, 1, 0]]]]])],
      // one dot used by two fields
      ['twice', encodeCanonical([[[id, 1]], [[['f'], 'c', [[id, 1, 1, 0]]], [['g'], 'c', [[id, 1, 1, 0]]]]])],
      // a register value that is not JSON
      ['notjson', encodeCanonical([[[id, 1]], [[['f'], 'r', [[id, 1, hlc.wall, 0, '{nope']]]]])],
      // an event counter past the bound (no room left for the next write)
      ['huge', encodeOrMap({ vv: { [id]: MAX_EVENT_COUNTER + 1 }, leaves: new Map([['x', { type: 'counter', path: ['f'], shares: [{ node: id, counter: MAX_EVENT_COUNTER + 1, p: 1, n: 0 }] }]]) })],
      // a field name past MAX_MAP_FIELD_NAME_BYTES
      ['longname', encodeCanonical([[[id, 1]], [[['n'.repeat(257)], 'c', [[id, 1, 1, 0]]]]])]
    ]
    const valid = encodeOrMap({ vv: { [id]: 1 }, leaves: new Map([['x', { type: 'register', path: ['f'], siblings: [{ node: id, counter: 1, hlc, value: '"fine"' }] }]]) })
    await pubsub.publish(topic, encodeGossip([...hostile.map(([key, state]) => ({ storeKey: `m/${key}`, state })), { storeKey: 'm/valid', state: valid }]))
    await waitFor(async () => (await a.mapGet('valid')).found, { what: 'the valid map merged' })
    for (const [key] of hostile) expect((await a.mapGet(key)).found, key).toBe(false)
    expect(await metric(a, 'chorus_remote_rejected_total{reason="corrupt"}') + await metric(a, 'chorus_remote_rejected_total{reason="out-of-range"}')).toBe(hostile.length)
    // The same through node.import: counted as rejected, nothing stored.
    const report = await a.importStates(hostile.map(([key, state]) => ({ space: 'map', key: `i-${key}`, state: Buffer.from(state).toString('base64url') })))
    expect(report).toMatchObject({ added: 0, rejected: hostile.length })
    expect((await a.info()).keys).toBe(1)
  })
})
