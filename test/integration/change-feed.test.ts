/**
 * The change feed on real nodes (libp2p over loopback TCP, LevelDB in temp dirs, the real RPC
 * server and client): kv.changes in the order applied and exact after any cursor, across all
 * three key spaces, remote merges, restarts and retention; foreign cursors refused; kv.watch
 * resuming after a disconnect and after a `missed` notice with every write seen exactly once.
 */
import { rm } from 'node:fs/promises'
import { describe, expect, it, onTestFinished } from 'vitest'
import WebSocket from 'ws'
import type { NodeInit } from '../../src/config.js'
import { HistoryGoneError, InvalidParamsError } from '../../src/errors.js'
import type { ChangeEntry, ChangeEvent } from '../../src/node/api.js'
import type { ChorusNode } from '../../src/node/index.js'
import { ChorusClient, ChorusRpcError, startRpcServer } from '../../src/rpc/index.js'
import { connectAll, startNode, tempDir, waitFor } from '../helpers/nodes.js'

/** A node with its RPC server on port 0 and a client; both closed when the test ends. */
async function serve (init: NodeInit = {}, rpc: { wsMaxBufferedBytes?: number } = {}): Promise<{ node: ChorusNode, client: ChorusClient, url: string }> {
  const node = await startNode(init)
  const server = await startRpcServer({ api: node, host: '127.0.0.1', port: 0, ...rpc })
  onTestFinished(async () => { await server.close() })
  return { node, client: new ChorusClient(server.url), url: server.url }
}

/** Every change after `since`, one page of `limit` at a time, with the cursor after each page. */
async function pages (node: ChorusNode, since: string | undefined, limit: number): Promise<Array<{ changes: ChangeEntry[], cursor: string }>> {
  const out: Array<{ changes: ChangeEntry[], cursor: string }> = []
  let cursor = since
  while (true) {
    const page = await node.changes({ ...(cursor !== undefined ? { since: cursor } : {}), limit })
    if (page.changes.length === 0) return out
    out.push(page)
    cursor = page.cursor
  }
}

async function rejection (p: Promise<unknown>): Promise<unknown> {
  return await p.then(() => undefined, (err: unknown) => err)
}

describe('kv.changes', () => {
  it('lists every change of all three key spaces in the order applied; from any cursor, exactly the rest', async () => {
    const node = await startNode()
    const expected: Array<[string, string, boolean]> = []
    for (let i = 0; i < 8; i++) {
      await node.kvPut(`doc/${i}`, { i }); expected.push(['kv', `doc/${i}`, false])
      await node.counterIncr(`hits/${i % 3}`, i + 1); expected.push(['counter', `hits/${i % 3}`, false])
      await node.setAdd(`tags/${i % 2}`, [`m${i}`]); expected.push(['set', `tags/${i % 2}`, false])
    }
    await node.kvDelete('doc/3'); expected.push(['kv', 'doc/3', true])
    await node.setRemove('tags/0', ['m0']); expected.push(['set', 'tags/0', false])
    await node.kvBatch([{ op: 'put', key: 'b/1', value: 1 }, { op: 'put', key: 'b/2', value: 2 }]); expected.push(['kv', 'b/1', false], ['kv', 'b/2', false])

    const all = await node.changes()
    expect(all.changes.map(c => [c.space, c.key, c.deleted])).toEqual(expected)
    expect(all.changes.map(c => c.seq)).toEqual(expected.map((_, i) => i + 1))
    expect(all.changes.every(c => c.origin === 'local' && !Number.isNaN(Date.parse(c.at)))).toBe(true)

    // Walk one change at a time: after the k-th cursor come exactly changes k+1…
    const steps = await pages(node, undefined, 1)
    expect(steps.map(p => p.changes[0]?.seq)).toEqual(all.changes.map(c => c.seq))
    for (const [k, step] of steps.entries()) {
      const rest = await node.changes({ since: step.cursor })
      expect(rest.changes, `after change ${k + 1}`).toEqual(all.changes.slice(k + 1))
    }
    // The last cursor: nothing more, and the same cursor back (nothing skipped, nothing repeated).
    const tail = await node.changes({ since: all.cursor })
    expect(tail).toEqual({ changes: [], cursor: all.cursor })
    await node.kvPut('doc/new', 1)
    expect((await node.changes({ since: all.cursor })).changes.map(c => c.key)).toEqual(['doc/new'])
  })

  it('with a prefix returns only those keys, and its cursor moves past the others', async () => {
    const node = await startNode()
    for (const key of ['a/1', 'b/1', 'a/2', 'b/2', 'b/3']) await node.kvPut(key, 1)
    const page = await node.changes({ prefix: 'a/' })
    expect(page.changes.map(c => c.key)).toEqual(['a/1', 'a/2'])
    expect((await node.changes({ since: page.cursor })).changes).toEqual([]) // b/3 was examined too
    await node.kvPut('a/3', 1)
    expect((await node.changes({ since: page.cursor, prefix: 'a/' })).changes.map(c => c.key)).toEqual(['a/3'])
  })

  it('lists remote merges as origin remote, once per change that moved this node\'s state', async () => {
    const [a, b] = [await startNode({ aeIntervalMs: 500 }), await startNode({ aeIntervalMs: 500 })] as [ChorusNode, ChorusNode]
    await connectAll([a, b])
    const start = (await b.changes()).cursor
    await a.kvPut('r/x', 'from a')
    await a.counterIncr('r/c', 2)
    await a.setAdd('r/s', ['m'])
    await a.kvDelete('r/x')
    const seen = await waitFor(async () => {
      const page = await b.changes({ since: start })
      const last = page.changes.filter(c => c.key === 'r/x').at(-1)
      return page.changes.some(c => c.key === 'r/s') && last?.deleted === true ? page.changes : undefined
    }, { what: 'a\'s changes in b\'s feed', timeoutMs: 60_000 })
    expect(seen.every(c => c.origin === 'remote')).toBe(true)
    expect(new Set(seen.map(c => `${c.space} ${c.key}`))).toEqual(new Set(['kv r/x', 'counter r/c', 'set r/s']))
    // A writes' own feed says local.
    expect((await a.changes()).changes.every(c => c.origin === 'local')).toBe(true)
  })

  it('survives a restart: the next change continues the seqs and an old cursor still resumes exactly', async () => {
    const dataDir = await tempDir()
    let node = await startNode({ dataDir })
    for (let i = 0; i < 5; i++) await node.kvPut(`k${i}`, i)
    const cursor = (await node.changes()).cursor
    await node.stop()
    node = await startNode({ dataDir })
    for (let i = 5; i < 8; i++) await node.counterIncr(`k${i}`)
    const rest = await node.changes({ since: cursor })
    expect(rest.changes.map(c => [c.seq, c.key])).toEqual([[6, 'k5'], [7, 'k6'], [8, 'k7']])
    expect((await node.changes()).changes).toHaveLength(8)
  })

  it('keeps --feed-retain changes: an older cursor gets ERR_HISTORY_GONE (-32032) with the cursor to resume from', async () => {
    const { node, client } = await serve({ feedRetain: 5 })
    const early = (await node.changes()).cursor
    for (let i = 0; i < 20; i++) await node.kvPut(`k${i}`, i)
    const middle = (await node.changes({ limit: 17 })).cursor // after change 17: its successors are kept
    expect(await node.pruneFeed()).toBe(15)
    const kept = await node.changes()
    expect(kept.changes.map(c => c.seq)).toEqual([16, 17, 18, 19, 20])
    expect((await node.changes({ since: middle })).changes.map(c => c.seq)).toEqual([18, 19, 20])

    const gone = await rejection(node.changes({ since: early }))
    expect(gone).toBeInstanceOf(HistoryGoneError)
    const err = await rejection(client.changes({ since: early })) as ChorusRpcError
    expect(err).toBeInstanceOf(ChorusRpcError)
    expect(err.code).toBe(-32032)
    expect(err.data.code).toBe('ERR_HISTORY_GONE')
    // Re-read, then resume from data.cursor: what is written after comes exactly.
    await node.kvPut('after', 1)
    expect((await client.changes({ since: err.data.cursor as string })).changes.map(c => c.key)).toEqual(['after'])
    // kv.watch with that cursor says so plainly too.
    const watchErr = await rejection(client.watch({ since: early }, { onEvent: () => {} })) as ChorusRpcError
    expect(watchErr.data.code).toBe('ERR_HISTORY_GONE')
  })

  it('refuses a cursor of another node, or of a data directory that was reset: -32602 naming since', async () => {
    const a = await serve()
    const b = await serve()
    await a.node.kvPut('x', 1)
    const cursorA = (await a.node.changes()).cursor
    const err = await rejection(b.client.changes({ since: cursorA })) as ChorusRpcError
    expect(err.code).toBe(-32602)
    expect(err.data).toMatchObject({ field: 'params.since', reason: 'foreign-cursor' })
    expect(err.message).toContain(a.node.peerId)
    expect((await rejection(b.client.changes({ since: 'not-a-cursor' })) as ChorusRpcError).code).toBe(-32602)
    expect((await rejection(b.client.changes({ limit: 10_001 })) as ChorusRpcError).data.field).toBe('params.limit')

    // The same directory, reset: the node starts afresh and the old cursor means nothing there.
    const dataDir = await tempDir()
    let node = await startNode({ dataDir })
    await node.kvPut('y', 1)
    const old = (await node.changes()).cursor
    await node.stop()
    await rm(dataDir, { recursive: true, force: true })
    node = await startNode({ dataDir })
    await node.kvPut('y', 1)
    const reset = await rejection(node.changes({ since: old }))
    expect(reset).toBeInstanceOf(InvalidParamsError)
    expect((reset as InvalidParamsError).data).toMatchObject({ field: 'since', reason: 'foreign-cursor' })
  })
})

describe('kv.watch with since', () => {
  it('resumes after a disconnect: writes before, during and after it, each seen exactly once and in order', async () => {
    const { client, node } = await serve()
    const N = 60
    const events: ChangeEvent[] = []
    const first = await client.watch({ prefix: 'w/' }, { onEvent: e => events.push(e) })
    for (let i = 0; i < N; i++) await node.kvPut(`w/${i}`, i)
    await waitFor(() => events.length >= N, { what: 'the first batch of events' })
    await first.close()
    const cursor = events.at(-1)?.cursor as string
    // While no one watches.
    for (let i = N; i < 2 * N; i++) await node.counterIncr(`w/${i}`)
    // Resume, while more writes land during the replay.
    const writing = (async () => { for (let i = 2 * N; i < 3 * N; i++) await node.setAdd(`w/${i}`, ['m']) })()
    const second = await client.watch({ prefix: 'w/', since: cursor }, { onEvent: e => events.push(e) })
    await writing
    await waitFor(() => events.length >= 3 * N, { what: 'every event after the resume', timeoutMs: 60_000 })
    await node.kvPut('w/last', 1)
    await waitFor(() => events.some(e => e.key === 'w/last'), { what: 'the live event after catching up' })
    await second.close()
    const keys = events.map(e => e.key)
    expect(keys).toEqual([...Array.from({ length: 3 * N }, (_, i) => `w/${i}`), 'w/last'])
    const seqs = events.map(e => e.seq as number)
    expect(seqs.every((s, i) => i === 0 || s > (seqs[i - 1] as number))).toBe(true)
    expect(events.slice(N, 2 * N).every(e => e.replayed === true && e.space === 'counter' && e.value === 1)).toBe(true)
  })

  it('under a constant write load, repeated disconnects and resumes lose nothing and repeat nothing', async () => {
    // A send buffer no test run fills: this test is about resuming, not about slow watchers.
    const { client, node } = await serve({}, { wsMaxBufferedBytes: 1024 * 1024 * 1024 })
    // Resume from before the first write: the first round must not depend on subscribing first.
    let cursor: string | undefined = (await client.changes({})).cursor
    let written = 0
    let writing = true
    // Writers without pause: changes commit during every phase of each resume.
    const writers = Array.from({ length: 4 }, async () => {
      while (writing) await node.kvPut(`load/${written++}`, 1)
    })
    const events: ChangeEvent[] = []
    for (let round = 0; round < 5; round++) {
      const seenBefore = events.length
      const handle = await client.watch({ prefix: 'load/', ...(cursor !== undefined ? { since: cursor } : {}) }, { onEvent: e => events.push(e) })
      // Until this round has caught up with the writers and seen some live changes too.
      await waitFor(() => events.length > seenBefore + 200 && events.at(-1)?.replayed !== true, { what: `round ${round} to go live`, timeoutMs: 60_000 })
      await handle.close()
      cursor = events.at(-1)?.cursor
      // Writes land while no one watches.
      const gapUntil = written + 300
      await waitFor(() => written >= gapUntil, { what: 'writes in the gap' })
    }
    writing = false
    await Promise.all(writers)
    const handle = await client.watch({ prefix: 'load/', since: cursor as string }, { onEvent: e => events.push(e) })
    await waitFor(() => events.length >= written, { what: 'every write, once', timeoutMs: 60_000 })
    await handle.close()
    const keys = events.map(e => e.key)
    expect(new Set(keys).size).toBe(keys.length)
    expect(keys.length).toBe(written)
    const seqs = events.map(e => e.seq as number)
    expect(seqs.every((seq, i) => i === 0 || seq > (seqs[i - 1] as number))).toBe(true)
  })

  it('says so plainly when the history goes while it is being replayed, and delivers nothing past the gap', async () => {
    const node = await startNode({ feedRetain: 5, feedPruneIntervalMs: 3_600_000 })
    const start = (await node.changes()).cursor
    for (let i = 0; i < 20; i++) await node.kvPut(`g/${i}`, i)
    const events: ChangeEvent[] = []
    let ended: unknown
    node.watchFeed({ prefix: '', since: start }, e => events.push(e), err => { ended = err })
    // The replay starts on the next turn of the event loop; the pruner moves the oldest entry now.
    const pruning = node.pruneFeed()
    await waitFor(() => ended !== undefined, { what: 'the subscription to end' })
    await pruning
    expect(ended).toBeInstanceOf(HistoryGoneError)
    expect(events).toEqual([])
    await node.kvPut('g/after', 1)
    expect(events).toEqual([])
  })

  it('a `missed` notice carries the cursor to resume from: with it, every missed change arrives', async () => {
    const { client, url } = await serve({}, { wsMaxBufferedBytes: 64 * 1024 })
    const ws = new WebSocket(`${url.replace('http', 'ws')}/rpc`)
    await new Promise(resolve => ws.once('open', resolve))
    onTestFinished(() => { ws.close() })
    const messages: any[] = []
    ws.on('message', d => messages.push(JSON.parse(d.toString())))
    ws.send(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'kv.watch', params: { prefix: 'slow/' } }))
    await waitFor(() => messages.some(m => m.id === 1), { what: 'the subscription' })
    const socket = (ws as unknown as { _socket: import('node:net').Socket })._socket
    socket.pause()
    const big = 'x'.repeat(160 * 1024)
    const N = 64
    for (let i = 0; i < N; i++) await client.kvPut(`slow/${i}`, big)
    socket.resume()
    const notice = await waitFor(() => messages.find(m => m.method === 'kv.watch' && typeof m.params.missed === 'number'), { what: 'the missed notice', timeoutMs: 60_000 })
    expect(notice.params.cursor).toEqual(expect.any(String))
    const delivered = messages.filter(m => m.params?.event !== undefined).map(m => m.params.event as ChangeEvent)
    const resumed: ChangeEvent[] = []
    const handle = await client.watch({ prefix: 'slow/', since: notice.params.cursor }, { onEvent: e => resumed.push(e) })
    await waitFor(() => new Set([...delivered, ...resumed].map(e => e.key)).size >= N, { what: 'every missed change, resumed', timeoutMs: 60_000 })
    await handle.close()
    // Nothing the first subscription delivered before the notice's cursor comes again.
    const cursorSeq = Math.max(0, ...delivered.filter(e => e.cursor === notice.params.cursor).map(e => e.seq as number))
    expect(resumed.every(e => (e.seq as number) > cursorSeq)).toBe(true)
    expect(new Set(resumed.map(e => e.seq)).size).toBe(resumed.length)
  })
})

describe('kv.watch and expiring keys', () => {
  it('a replayed or live event for an expired key says found: false, as a read would', async () => {
    const { node, client } = await serve()
    const since = (await client.changes({})).cursor
    await node.kvPut('short', 'v', undefined, { ttlMs: 50 })
    await node.counterIncr('shortc', 3, { ttlMs: 50 })
    await waitFor(async () => !(await node.kvGet('short')).found && (await node.counterGet('shortc')).value === 0, { what: 'both keys to expire' })
    const events: ChangeEvent[] = []
    const handle = await client.watch({ since }, { onEvent: e => events.push(e) })
    await waitFor(() => events.length >= 2, { what: 'the two replayed events' })
    // Live: a late copy of the expired register arrives already expired.
    const other = await startNode()
    await other.kvPut('late', 'x', undefined, { ttlMs: 1 })
    await waitFor(async () => !(await other.kvGet('late')).found, { what: 'the late copy to expire on its node' })
    await connectAll([node, other])
    await node.sync(other.peerId)
    await waitFor(() => events.some(e => e.key === 'late'), { what: 'the late copy\'s event' })
    await handle.close()
    expect(events.map(e => [e.key, e.found])).toEqual([['short', false], ['shortc', false], ['late', false]])
  })
})
