/**
 * JSON-RPC against a real node (createChorusNode + startRpcServer on port 0 + ChorusClient):
 * every method end to end, bad input leaving the node serving with its data intact, and
 * WebSocket watches including the slow-watcher bound.
 */
import { describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { ChorusRpcError } from '../../src/rpc/index.js'
import { startRealNode, waitFor } from './helpers.js'
import type { ChangeEvent } from '../../src/node/api.js'

async function rpcError (p: Promise<unknown>): Promise<ChorusRpcError> {
  const err = await p.then(() => undefined, (e: unknown) => e)
  expect(err).toBeInstanceOf(ChorusRpcError)
  return err as ChorusRpcError
}

describe('rpc against a real node', () => {
  it('serves every method through the typed client', async () => {
    const { client, node } = await startRealNode()

    const w = await client.kvPut('user/1', { name: 'ada' })
    expect(typeof w.context).toBe('string')
    const r = await client.kvGet('user/1')
    expect(r).toMatchObject({ found: true, value: { name: 'ada' }, conflict: false })
    const all = await client.kvGet('user/1', { all: true })
    expect(all.values).toHaveLength(1)
    expect(all.values?.[0]).toMatchObject({ value: { name: 'ada' }, node: node.peerId })
    expect(await client.kvGet('user/1', { after: w.context, timeoutMs: 1000 })).toMatchObject({ found: true })

    const missing = await client.kvGet('nope')
    expect(missing).toMatchObject({ found: false, value: null })

    const b = await client.kvBatch([{ op: 'put', key: 'user/2', value: 2 }, { op: 'put', key: 'user/3', value: 3 }, { op: 'delete', key: 'user/1' }])
    expect(b.contexts).toHaveLength(3)
    expect((await client.kvGet('user/1')).found).toBe(false)

    const page1 = await client.kvScan({ prefix: 'user/', limit: 1 })
    expect(page1.items.map(i => i.key)).toEqual(['user/2'])
    expect(page1.cursor).toEqual(expect.any(String))
    const page2 = await client.kvScan({ prefix: 'user/', limit: 1, cursor: page1.cursor! })
    expect(page2.items.map(i => i.key)).toEqual(['user/3'])
    const keys = []
    for await (const item of client.kvScanAll({ prefix: 'user/', limit: 1 })) keys.push(item.key)
    expect(keys).toEqual(['user/2', 'user/3'])

    expect(await client.kvConflicts()).toMatchObject({ keys: [] })
    const d = await client.kvDelete('user/2')
    expect(typeof d.context).toBe('string')

    expect((await client.counterIncr('hits', 5)).value).toBe(5)
    expect((await client.counterIncr('hits', -2)).value).toBe(3)
    expect((await client.counterIncr('hits')).value).toBe(4)
    expect((await client.counterGet('hits')).value).toBe(4)
    expect((await client.counterGet('absent')).value).toBe(0)

    expect((await client.setAdd('tags', ['b', 'a', 'c'])).members).toEqual(['a', 'b', 'c'])
    expect((await client.setRemove('tags', ['b'])).members).toEqual(['a', 'c'])
    expect((await client.setGet('tags')).members).toEqual(['a', 'c'])

    // the three key spaces never collide
    await client.kvPut('same', 'register')
    await client.counterIncr('same', 7)
    await client.setAdd('same', ['m'])
    expect((await client.kvGet('same')).value).toBe('register')
    expect((await client.counterGet('same')).value).toBe(7)
    expect((await client.setGet('same')).members).toEqual(['m'])

    const info = await client.info()
    expect(info).toMatchObject({ peerId: node.peerId, rpcUrl: client.url })
    expect(info.keys).toBeGreaterThan(0)
    expect(info.digest).toMatch(/^[0-9a-f]+$/)
    expect(await client.peers()).toEqual([])
    const noPeer = await rpcError(client.sync())
    expect(noPeer.data.code).toBe('ERR_NO_PEER')
    expect(noPeer.code).toBe(-32003)

    expect(await client.health()).toBe(true)
    expect(await client.metrics()).toMatch(/^# (HELP|TYPE) /m)
  })

  it('a value shaped like the node\'s checked-value wrapper is only a value: stored and read back as sent', async () => {
    const { client } = await startRealNode()
    for (const value of [{ json: '{not json' }, { json: '1' }, [{ json: '"x"' }]]) {
      await client.kvPut('wrapped', value)
      expect((await client.kvGet('wrapped')).value).toEqual(value)
      await client.kvBatch([{ op: 'put', key: 'wrapped-b', value }])
      expect((await client.kvGet('wrapped-b')).value).toEqual(value)
    }
    await expect(client.kvPut('deep', JSON.parse('['.repeat(600) + ']'.repeat(600)))).rejects.toMatchObject({ code: -32602 })
  })

  it('bad requests are refused and leave the node serving with its data intact', async () => {
    const { client, server } = await startRealNode()
    await client.kvPut('keep', { precious: true })
    await client.counterIncr('count', 3)
    const before = (await client.info()).digest

    expect((await rpcError(client.kvPut('', 1))).message).toMatch(/^params\.key: must not be empty/)
    expect((await rpcError(client.kvPut('x'.repeat(2000), 1))).code).toBe(-32602)
    expect((await rpcError(client.call('kv.put', { key: 'k', value: 'x'.repeat(1024 * 1024 + 10) }))).message).toMatch(/^params\.value: must be at most/)
    expect((await rpcError(client.kvPut('keep', 1, 'not-a-context'))).code).toBe(-32602)
    expect((await rpcError(client.call('counter.incr', { key: 'count', by: 1.5 }))).message).toMatch(/^params\.by/)
    expect((await rpcError(client.call('set.add', { key: 's', members: [1] }))).message).toMatch(/^params\.members\[0\]/)
    expect((await rpcError(client.call('kv.unknown', {}))).code).toBe(-32601)
    expect((await rpcError(client.kvGet('keep', { after: 'garbage', timeoutMs: 10 }))).code).toBe(-32602)

    const post = async (body: string): Promise<unknown> => {
      const res = await fetch(`${server.url}/rpc`, { method: 'POST', headers: { 'content-type': 'application/json' }, body })
      return await res.json()
    }
    expect(await post('{not json')).toMatchObject({ error: { code: -32700 } })
    expect(await post('[]')).toMatchObject({ error: { code: -32600 } })
    expect(await post('{"jsonrpc":"2.0","id":1}')).toMatchObject({ error: { code: -32600 } })
    expect(await post('[{"jsonrpc":"2.0","id":1,"method":"kv.put","params":{"key":"","value":1}},{"jsonrpc":"2.0","id":2,"method":"kv.get","params":{"key":"keep"}}]'))
      .toEqual([expect.objectContaining({ id: 1, error: expect.objectContaining({ code: -32602 }) }), expect.objectContaining({ id: 2, result: expect.objectContaining({ value: { precious: true } }) })])

    expect((await client.kvGet('keep')).value).toEqual({ precious: true })
    expect((await client.counterGet('count')).value).toBe(3)
    expect((await client.info()).digest).toBe(before)
    expect(await client.health()).toBe(true)
  })

  it('regression: a scan bound with a lone surrogate is refused, not encoded as U+FFFD (which listed keys outside it)', async () => {
    const { client, node } = await startRealNode()
    await client.kvPut('\uFFFDx', 'replacement')
    expect((await rpcError(client.kvScan({ prefix: '\uD800' }))).data).toEqual({ field: 'params.prefix', code: 'ERR_INVALID_PARAMS' })
    expect((await rpcError(client.kvScan({ start: '\uDFFF', end: '\uFFFE' }))).data).toEqual({ field: 'params.start', code: 'ERR_INVALID_PARAMS' })
    // the node refuses them too when called as a library
    await expect(node.kvScan({ prefix: '\uD800' })).rejects.toMatchObject({ code: 'ERR_INVALID_PARAMS', data: { field: 'prefix' } })
    await expect(node.kvScan({ end: 'a\uD83D' })).rejects.toMatchObject({ code: 'ERR_INVALID_PARAMS', data: { field: 'end' } })
    await expect(node.kvConflicts({ prefix: 'a\uDFFF' })).rejects.toMatchObject({ code: 'ERR_INVALID_PARAMS', data: { field: 'prefix' } })
    expect((await client.kvScan({ prefix: '\uFFFD' })).items.map(i => i.key)).toEqual(['\uFFFDx'])
  })

  it('regression: scan bounds follow the stored (UTF-8 byte) order, so a range holds only its keys and paging ends', async () => {
    const { client } = await startRealNode()
    for (const key of ['a\uffffz', 'a😀1', 'a😀2']) await client.kvPut(key, key)
    // In UTF-16 'a\uffff' sorts above 'a😀'; in UTF-8 bytes, as LevelDB stores them, below.
    expect((await client.kvScan({ prefix: 'a😀', start: 'a\uffff' })).items.map(i => i.key)).toEqual(['a😀1', 'a😀2'])
    const keys: string[] = []
    for await (const item of client.kvScanAll({ start: 'a\uffff', limit: 1 })) {
      keys.push(item.key)
      if (keys.length > 10) break
    }
    expect(keys).toEqual(['a\uffffz', 'a😀1', 'a😀2'])
  })

  it('regression: invalid UTF-8 is a parse error over HTTP and WebSocket, never a key with U+FFFD; deep values are refused', async () => {
    const { client, server } = await startRealNode()
    const body = (key: Buffer): Buffer => Buffer.concat([Buffer.from('{"jsonrpc":"2.0","id":7,"method":"kv.put","params":{"key":"'), key, Buffer.from('","value":1}}')])
    const bad = body(Buffer.from([0x6b, 0xff, 0xfe]))
    const res = await fetch(`${server.url}/rpc`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: new Uint8Array(bad) })
    expect(await res.json()).toMatchObject({ id: null, error: { code: -32700, message: 'Parse error: the body is not valid UTF-8', data: { code: 'ERR_PARSE' } } })
    const good = await fetch(`${server.url}/rpc`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: new Uint8Array(body(Buffer.from('ké😀'))) })
    expect(await good.json()).toMatchObject({ id: 7, result: { conflict: false } })
    expect((await client.kvScan()).items.map(i => i.key)).toEqual(['ké😀'])

    const ws = new WebSocket(`${client.url.replace('http', 'ws')}/rpc`)
    await new Promise(resolve => ws.once('open', resolve))
    const replies: unknown[] = []
    ws.on('message', data => replies.push(JSON.parse(data.toString())))
    ws.send(bad, { binary: true })
    // Sent as text: the test's own JSON.stringify could not serialise the value.
    ws.send('{"jsonrpc":"2.0","id":8,"method":"kv.put","params":{"key":"deep","value":' + '['.repeat(20_000) + ']'.repeat(20_000) + '}}')
    await waitFor('two WebSocket replies', () => replies.length >= 2)
    expect(replies).toEqual([
      expect.objectContaining({ id: null, error: expect.objectContaining({ code: -32700 }) }),
      expect.objectContaining({ id: 8, error: expect.objectContaining({ code: -32602, message: 'params.value: must nest arrays and objects at most 512 deep' }) })
    ])
    ws.close()
    expect((await client.kvScan()).items.map(i => i.key)).toEqual(['ké😀'])
    expect(await client.health()).toBe(true)
  })

  it('read-your-writes across nodes with `after`, and cluster.peers/cluster.sync with a peer', async () => {
    const a = await startRealNode()
    const addr = a.node.multiaddrs()[0]!
    const b = await startRealNode({ bootstrap: [addr.includes('/p2p/') ? addr : `${addr}/p2p/${a.node.peerId}`] })
    await waitFor('b to see a as a connected peer', async () => (await b.client.peers()).some(p => p.peerId === a.node.peerId && p.connected))
    const w = await a.client.kvPut('ryw', 'from-a')
    const r = await b.client.kvGet('ryw', { after: w.context, timeoutMs: 15_000 })
    expect(r).toMatchObject({ found: true, value: 'from-a' })
    const report = await b.client.sync(a.node.peerId)
    expect(report.peer).toBe(a.node.peerId)
    await waitFor('digests to converge', async () => (await a.client.info()).digest === (await b.client.info()).digest)
  })

  it('kv.watch over WebSocket: local changes under the prefix, unwatch stops them', async () => {
    const { client } = await startRealNode()
    const events: ChangeEvent[] = []
    const handle = await client.watch('app/', { onEvent: e => events.push(e) })
    await client.kvPut('other/x', 1)
    await client.kvPut('app/a', { v: 1 })
    await client.kvDelete('app/a')
    await waitFor('two watch events', () => events.length >= 2)
    expect(events.map(e => [e.space, e.key, e.found, e.origin])).toEqual([['kv', 'app/a', true, 'local'], ['kv', 'app/a', false, 'local']])
    expect(events[0]?.value).toEqual({ v: 1 })
    await handle.close()

    // raw protocol: the subscription id, notifications, kv.unwatch
    const ws = new WebSocket(`${client.url.replace('http', 'ws')}/rpc`)
    await new Promise(resolve => ws.once('open', resolve))
    const messages: any[] = []
    ws.on('message', d => messages.push(JSON.parse(d.toString())))
    ws.send(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'kv.watch', params: { prefix: 'n/' } }))
    await waitFor('subscription id', () => messages.some(m => m.id === 1))
    const sub = messages.find(m => m.id === 1).result as string
    expect(typeof sub).toBe('string')
    await client.counterIncr('n/c', 2)
    await waitFor('notification', () => messages.some(m => m.method === 'kv.watch'))
    expect(messages.find(m => m.method === 'kv.watch')).toEqual({ jsonrpc: '2.0', method: 'kv.watch', params: { subscription: sub, event: expect.objectContaining({ space: 'counter', key: 'n/c', value: 2, origin: 'local' }) } })
    ws.send(JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'kv.unwatch', params: { subscription: sub } }))
    await waitFor('unwatch reply', () => messages.some(m => m.id === 2))
    expect(messages.find(m => m.id === 2).result).toBe(true)
    const count = messages.length
    await client.counterIncr('n/c', 1)
    // a later request's reply proves the server handled the write's event before answering
    ws.send(JSON.stringify({ jsonrpc: '2.0', id: 3, method: 'node.info' }))
    await waitFor('info reply', () => messages.some(m => m.id === 3))
    expect(messages.length).toBe(count + 1)
    // the same methods work over WebSocket, errors included
    ws.send(JSON.stringify({ jsonrpc: '2.0', id: 4, method: 'kv.put', params: { key: '' } }))
    await waitFor('error reply', () => messages.some(m => m.id === 4))
    expect(messages.find(m => m.id === 4).error.code).toBe(-32602)
    ws.close()
  })

  it('a slow watcher is bounded: events are dropped, then one {missed: N} after it drains; the node stays fast', async () => {
    const { client } = await startRealNode({ wsMaxBufferedBytes: 64 * 1024 })
    const ws = new WebSocket(`${client.url.replace('http', 'ws')}/rpc`)
    await new Promise(resolve => ws.once('open', resolve))
    const messages: any[] = []
    ws.on('message', d => messages.push(JSON.parse(d.toString())))
    ws.send(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'kv.watch', params: {} }))
    await waitFor('subscription', () => messages.some(m => m.id === 1))
    const sub = messages.find(m => m.id === 1).result as string

    // Stop reading: the server's send buffer fills once the kernel buffers are full.
    const socket = (ws as unknown as { _socket: import('node:net').Socket })._socket
    socket.pause()
    const big = 'x'.repeat(160 * 1024)
    const N = 96
    const t0 = Date.now()
    for (let i = 0; i < N; i++) await client.kvPut(`slow/${i}`, big)
    const writeMs = Date.now() - t0
    socket.resume()

    await waitFor('the missed notification', () => messages.some(m => m.method === 'kv.watch' && typeof m.params.missed === 'number'), 30_000)
    const delivered = messages.filter(m => m.method === 'kv.watch' && m.params.event !== undefined).length
    const missedMsgs = messages.filter(m => m.method === 'kv.watch' && typeof m.params.missed === 'number')
    const missed = missedMsgs.reduce((s, m) => s + (m.params.missed as number), 0)
    expect(missedMsgs[0].params.subscription).toBe(sub)
    expect(missed).toBeGreaterThan(0)
    expect(delivered + missed).toBe(N)
    // writes were not held back by the stalled watcher (generous bound for a loaded machine)
    expect(writeMs).toBeLessThan(30_000)
    // the watcher resumes normally afterwards
    await client.kvPut('slow/after', 1)
    await waitFor('events resume', () => messages.some(m => m.params?.event?.key === 'slow/after'))
    ws.close()
  })

  it('GET /health, /metrics and the status page reflect the real node; /health turns 503 once it stops', async () => {
    const a = await startRealNode()
    const addr = a.node.multiaddrs()[0]!
    const b = await startRealNode({ bootstrap: [addr.includes('/p2p/') ? addr : `${addr}/p2p/${a.node.peerId}`] })
    await b.client.kvPut('page/key', 'v')
    await waitFor('a to know b', async () => (await a.client.peers()).some(p => p.peerId === b.node.peerId && p.connected))
    // no change in flight, so that the digest read below is the one the page shows
    await waitFor('the write to reach a', async () => (await a.client.kvGet('page/key')).found)

    const health = await fetch(`${a.server.url}/health`)
    expect(health.status).toBe(200)
    expect(await health.json()).toEqual({ status: 'ok' })

    const metrics = await fetch(`${a.server.url}/metrics`)
    expect(metrics.status).toBe(200)
    expect(metrics.headers.get('content-type')).toMatch(/^text\/plain/)
    expect(await metrics.text()).toMatch(/^# TYPE \S+ (counter|gauge|histogram|summary)$/m)

    const info = await a.client.info()
    const page = await fetch(`${a.server.url}/`)
    expect(page.headers.get('content-type')).toMatch(/^text\/html/)
    const html = await page.text()
    expect(html).toContain(a.node.peerId)
    expect(html).toContain(info.digest)
    expect(html).toContain(b.node.peerId)
    expect(html).toMatch(/<th>keys<\/th><td>\d+<\/td>/)
    expect(html).not.toMatch(/(src|href)="?https?:/)

    await b.node.stop()
    const stopped = await fetch(`${b.server.url}/health`)
    expect(stopped.status).toBe(503)
  })
})
