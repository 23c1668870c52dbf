/**
 * node.export / node.import on real nodes (real LevelDB, real libp2p): the export is one
 * snapshot whatever is written meanwhile, import merges like a peer's state (idempotent, never
 * rolls a key back, keeps concurrent versions, refuses what a peer's state would be refused
 * for), and the listing methods of counters and sets.
 */
import { describe, expect, it } from 'vitest'
import type { NodeInit } from '../../src/config.js'
import { MAX_OPEN_EXPORTS } from '../../src/constants.js'
import type { ChorusNode } from '../../src/node/index.js'
import type { ExportItem, ExportPage } from '../../src/node/api.js'
import { connectAll, startNode, waitConverged, waitFor } from '../helpers/nodes.js'
import { startRealNode } from '../rpc/helpers.js'

/** Every item of a new export, page by page, with the snapshot the pages share. */
async function exportAll (node: ChorusNode, limit = 1000): Promise<{ items: ExportItem[], snapshot: ExportPage['snapshot'] }> {
  let page = await node.exportPage({ limit })
  const items = [...page.items]
  while (page.cursor !== undefined) {
    page = await node.exportPage({ cursor: page.cursor, limit })
    items.push(...page.items)
  }
  return { items, snapshot: page.snapshot }
}

async function importAll (node: ChorusNode, items: ExportItem[]): Promise<{ added: number, updated: number, unchanged: number, rejected: number, superseded: number }> {
  const total = { added: 0, updated: 0, unchanged: 0, rejected: 0, superseded: 0 }
  for (let i = 0; i < items.length; i += 1000) {
    const r = await node.importStates(items.slice(i, i + 1000))
    for (const k of Object.keys(total) as Array<keyof typeof total>) total[k] += r[k]
  }
  return total
}

describe('node.export', () => {
  it('pages one snapshot: writes made during the export are not in it, and its digest is that of the data it holds', async () => {
    const a = await startNode()
    for (let i = 0; i < 250; i++) await a.kvPut(`k/${String(i).padStart(3, '0')}`, i)
    await a.counterIncr('hits', 3)
    await a.setAdd('tags', ['x'])
    const before = await a.info()

    const first = await a.exportPage({ limit: 100 })
    expect(first.items).toHaveLength(100)
    expect(first.cursor).toBeDefined()
    expect(first.snapshot).toMatchObject({ node: a.peerId, keys: 252, digest: before.digest })
    // Meanwhile: a key past the first page is overwritten, one is added, one deleted.
    await a.kvPut('k/200', 'changed')
    await a.kvPut('k/999', 'new')
    await a.kvDelete('k/150')
    await a.counterIncr('hits', 1)

    const items = [...first.items]
    let page = first
    while (page.cursor !== undefined) {
      page = await a.exportPage({ cursor: page.cursor, limit: 100 })
      expect(page.snapshot).toEqual(first.snapshot)
      items.push(...page.items)
    }
    expect(items).toHaveLength(252)
    expect(items.map(i => i.key)).not.toContain('k/999')

    // Imported into an empty node, the pages give exactly the data of the moment the export began.
    const b = await startNode()
    expect(await importAll(b, items)).toEqual({ added: 252, updated: 0, unchanged: 0, rejected: 0, superseded: 0 })
    expect((await b.info()).digest).toBe(before.digest)
    expect((await b.kvGet('k/200')).value).toBe(200)
    expect((await b.kvGet('k/150')).value).toBe(150)
    expect((await b.counterGet('hits')).value).toBe(3)
    expect((await b.setGet('tags')).members).toEqual(['x'])
  })

  it('gives the same page for the same cursor (a retry), and refuses a cursor once the export ended', async () => {
    const a = await startNode()
    for (let i = 0; i < 5; i++) await a.kvPut(`k${i}`, i)
    const first = await a.exportPage({ limit: 2 })
    const second = await a.exportPage({ cursor: first.cursor as string, limit: 2 })
    const again = await a.exportPage({ cursor: first.cursor as string, limit: 2 })
    expect(again.items).toEqual(second.items)
    const last = await a.exportPage({ cursor: second.cursor as string, limit: 2 })
    expect(last.items.map(i => i.key)).toEqual(['k4'])
    expect(last.cursor).toBeUndefined()
    await expect(a.exportPage({ cursor: second.cursor as string })).rejects.toMatchObject({ code: 'ERR_CURSOR_EXPIRED', data: { field: 'cursor' } })
    await expect(a.exportPage({ cursor: 'nonsense' })).rejects.toMatchObject({ code: 'ERR_INVALID_PARAMS' })
  })

  it('bounds the exports open at once; one that ends frees its place', async () => {
    const a = await startNode()
    await a.kvPut('a', 1)
    await a.kvPut('b', 2)
    const open: ExportPage[] = []
    for (let i = 0; i < MAX_OPEN_EXPORTS; i++) open.push(await a.exportPage({ limit: 1 }))
    await expect(a.exportPage({ limit: 1 })).rejects.toMatchObject({ code: 'ERR_LIMIT_EXCEEDED' })
    const end = await a.exportPage({ cursor: open[0]?.cursor as string, limit: 1 })
    expect(end.cursor).toBeUndefined()
    expect((await a.exportPage({ limit: 1 })).items).toHaveLength(1)
  })
})

describe('node.import', () => {
  it('is idempotent and never rolls a key back to an older version', async () => {
    const a = await startNode()
    await a.kvPut('doc', 'v1')
    await a.counterIncr('n', 2)
    await a.setAdd('s', ['a'])
    const old = await exportAll(a)
    // The node moves on after the export.
    await a.kvPut('doc', 'v2')
    await a.counterIncr('n', 5)
    await a.setRemove('s', ['a'])
    await a.setAdd('s', ['b'])
    const moved = (await a.info()).digest

    expect(await importAll(a, old.items)).toEqual({ added: 0, updated: 0, unchanged: 3, rejected: 0, superseded: 0 })
    expect((await a.info()).digest).toBe(moved)
    expect(await a.kvGet('doc')).toMatchObject({ value: 'v2', conflict: false })
    expect((await a.counterGet('n')).value).toBe(7)
    expect((await a.setGet('s')).members).toEqual(['b'])

    // Into an empty node: added once, unchanged the second time.
    const b = await startNode()
    expect(await importAll(b, old.items)).toMatchObject({ added: 3, updated: 0, unchanged: 0 })
    const digest = (await b.info()).digest
    expect(await importAll(b, old.items)).toEqual({ added: 0, updated: 0, unchanged: 3, rejected: 0, superseded: 0 })
    expect((await b.info()).digest).toBe(digest)
    expect(digest).toBe(old.snapshot.digest)
  })

  it('keeps a concurrent version as a sibling, as a merge with a peer would', async () => {
    const a = await startNode()
    const b = await startNode()
    await a.kvPut('doc', 'from a')
    await b.kvPut('doc', 'from b')
    await b.counterIncr('n', 1)
    const fromA = await exportAll(a)
    expect(await importAll(b, fromA.items)).toEqual({ added: 0, updated: 1, unchanged: 0, rejected: 0, superseded: 0 })
    const read = await b.kvGet('doc', { all: true })
    expect(read.conflict).toBe(true)
    expect(read.values?.map(v => v.value).sort()).toEqual(['from a', 'from b'])
  })

  it('refuses states a peer\'s state would be refused for, and counts them', async () => {
    const a = await startNode()
    await a.kvPut('good', 1)
    const { items } = await exportAll(a)
    const good = items[0] as ExportItem
    const garbage: ExportItem = { space: 'kv', key: 'bad', state: Buffer.from([0xff, 0x00, 0x13]).toString('base64url') }
    // A register's bytes offered as a counter's: they do not decode as one.
    const wrongSpace: ExportItem = { ...good, space: 'counter', key: 'other' }
    const b = await startNode()
    expect(await b.importStates([good, garbage, wrongSpace])).toEqual({ added: 1, updated: 0, unchanged: 0, rejected: 2, superseded: 0 })
    expect((await b.info()).keys).toBe(1)
    await expect(b.importStates([{ ...good, state: 'not base64!' }])).rejects.toMatchObject({ code: 'ERR_INVALID_PARAMS', data: { field: 'items[0].state' } })
    await expect(b.importStates([{ ...good, key: '' }])).rejects.toMatchObject({ code: 'ERR_INVALID_PARAMS', data: { field: 'items[0].key' } })
    await expect(b.importStates([])).rejects.toMatchObject({ code: 'ERR_INVALID_PARAMS', data: { field: 'items' } })
  })

  it('does not bring back a key whose tombstone this node collected (superseded)', async () => {
    const gc: NodeInit = { tombstoneGraceMs: 300, maxDriftMs: 50, gcIntervalMs: 60_000 }
    const a = await startNode(gc)
    await a.kvPut('gone', 'old value')
    const old = await exportAll(a)
    await a.kvDelete('gone')
    await waitFor(async () => { await a.collectGarbage(); return (await a.info()).keys === 0 }, { what: 'the tombstone collected' })
    expect(await a.importStates(old.items)).toEqual({ added: 0, updated: 0, unchanged: 0, rejected: 0, superseded: 1 })
    expect((await a.kvGet('gone')).found).toBe(false)
    expect((await a.info()).keys).toBe(0)
  })

  it('merges into a live node in a cluster, and anti-entropy carries what it imported', async () => {
    const source = await startNode()
    for (let i = 0; i < 50; i++) await source.kvPut(`imported/${i}`, i)
    const { items } = await exportAll(source)
    const [a, b] = [await startNode({ aeIntervalMs: 300 }), await startNode({ aeIntervalMs: 300 })]
    await connectAll([a, b] as ChorusNode[])
    await (a as ChorusNode).kvPut('live', 1)
    expect(await importAll(a as ChorusNode, items)).toMatchObject({ added: 50 })
    await waitConverged([a, b] as ChorusNode[])
    expect((await (b as ChorusNode).kvGet('imported/7')).value).toBe(7)
  })
})

describe('counter.scan and set.scan over JSON-RPC', () => {
  it('list each space in key order with kv.scan\'s prefix, bounds and cursors', async () => {
    const { client } = await startRealNode()
    for (const k of ['c/a', 'c/b', 'c/c', 'other']) await client.counterIncr(k, k.length)
    await client.counterIncr('c/b', -4)
    await client.setAdd('tags/1', ['x', 'a'])
    await client.setAdd('tags/2', ['y'])
    await client.setRemove('tags/2', ['y'])
    await client.kvPut('c/a', 'a register, not a counter')

    const first = await client.counterScan({ prefix: 'c/', limit: 2 })
    expect(first.items).toEqual([{ key: 'c/a', value: 3 }, { key: 'c/b', value: -1 }])
    const rest = await client.counterScan({ prefix: 'c/', limit: 2, cursor: first.cursor as string })
    expect(rest).toEqual({ items: [{ key: 'c/c', value: 3 }], session: expect.any(String) })
    expect((await client.counterScan({ start: 'c/b', end: 'c/c' })).items.map(i => i.key)).toEqual(['c/b'])
    expect(await client.setScan()).toEqual({ items: [{ key: 'tags/1', members: ['a', 'x'] }, { key: 'tags/2', members: [] }], session: expect.any(String) })
    await expect(client.setScan({ limit: 0 })).rejects.toMatchObject({ code: -32602, data: { field: 'params.limit' } })
  })

  it('node.export and node.import validate their params, naming the field', async () => {
    const { client } = await startRealNode()
    await expect(client.nodeExport({ limit: 10_001 })).rejects.toMatchObject({ code: -32602, data: { field: 'params.limit' } })
    await expect(client.nodeImport([{ space: 'list' as 'kv', key: 'k', state: 'AA' }])).rejects.toMatchObject({ code: -32602, data: { field: 'params.items[0].space' } })
    await expect(client.nodeImport(Array.from({ length: 1001 }, () => ({ space: 'kv' as const, key: 'k', state: 'AA' })))).rejects.toMatchObject({ code: -32602, data: { field: 'params.items' } })
    await expect(client.call('node.export', { cursor: 'AAAAAAAAAAAAAAAA.AA' })).rejects.toMatchObject({ code: -32602, data: { code: 'ERR_CURSOR_EXPIRED', field: 'params.cursor' } })
  })
})
