/**
 * JSON-RPC over one WebSocket: the typed client's 'ws' transport against a real node (many
 * calls in flight, answers matched by id, errors with their codes, tokens, reconnects,
 * timeouts), and the node's bound on what one socket may have in flight.
 */
import { once } from 'node:events'
import { describe, expect, it, onTestFinished } from 'vitest'
import WebSocket, { WebSocketServer } from 'ws'
import { MAX_RPC_BATCH, MAX_WS_IN_FLIGHT } from '../../src/constants.js'
import { ChorusClient, ChorusRpcError, startRpcServer } from '../../src/rpc/index.js'
import { createFakeApi } from './fake-api.js'
import { startRealNode, waitFor } from './helpers.js'

function wsClient (url: string, options: ConstructorParameters<typeof ChorusClient>[1] = {}): ChorusClient {
  const client = new ChorusClient(url, { transport: 'ws', ...options })
  onTestFinished(async () => { await client.close() })
  return client
}

describe('ChorusClient over WebSocket', () => {
  it('carries 2,000 writes in flight on one socket, each answered with its own result', async () => {
    const { server, client: http } = await startRealNode()
    const ws = wsClient(server.url.replace(/^http/, 'ws'))
    const n = 2000
    const results = await Promise.all(Array.from({ length: n }, async (_, i) => await ws.kvPut(`k/${i}`, { i })))
    expect(results).toHaveLength(n)
    expect(new Set(results.map(r => r.context)).size).toBe(n)
    for (const i of [0, 1, 999, 1999]) {
      expect((await http.kvGet(`k/${i}`)).value).toEqual({ i })
      expect((await ws.kvGet(`k/${i}`)).value).toEqual({ i })
    }
    const batch = await ws.batch([{ method: 'kv.get', params: { key: 'k/7' } }, { method: 'kv.put', params: { key: '' } }])
    expect(batch[0]).toMatchObject({ found: true, value: { i: 7 } })
    expect(batch[1]).toBeInstanceOf(ChorusRpcError)
    expect((batch[1] as ChorusRpcError).data?.code).toBe('ERR_INVALID_PARAMS')
  })

  it('refuses, on either transport, a batch the node would refuse whole (empty, or more than 1,000 calls)', async () => {
    const { server, client: http } = await startRealNode()
    const ws = wsClient(server.url)
    const calls = Array.from({ length: MAX_RPC_BATCH + 1 }, () => ({ method: 'node.info' }))
    for (const client of [http, ws]) {
      await expect(client.batch([])).rejects.toMatchObject({ code: -32600, data: { code: 'ERR_INVALID_REQUEST' } })
      await expect(client.batch(calls)).rejects.toMatchObject({ code: -32600, data: { code: 'ERR_INVALID_REQUEST' } })
      expect(await client.batch(calls.slice(0, MAX_RPC_BATCH))).toHaveLength(MAX_RPC_BATCH)
    }
  })

  it('gives a refused call its JSON-RPC code, and a refused token -32007 ERR_UNAUTHORIZED', async () => {
    const { server } = await startRealNode({ token: 'tok' })
    const wrong = wsClient(server.url, { token: 'nope' })
    await expect(wrong.info()).rejects.toMatchObject({ code: -32007, data: { code: 'ERR_UNAUTHORIZED' } })
    const right = wsClient(server.url, { token: 'tok' })
    await expect(right.kvPut('', 1)).rejects.toMatchObject({ code: -32602, data: { code: 'ERR_INVALID_PARAMS' } })
    expect((await right.kvPut('a', 1)).context).toEqual(expect.any(String))
  })

  it('fails calls with ERR_CONNECTION when the node goes away, and opens a new socket for the next call', async () => {
    const api = createFakeApi()
    let server = await startRpcServer({ api, host: '127.0.0.1', port: 0 })
    const port = Number(new URL(server.url).port)
    const client = wsClient(server.url)
    expect((await client.kvPut('a', 1)).context).toEqual(expect.any(String))
    await server.close()
    await expect(client.kvGet('a')).rejects.toMatchObject({ data: { code: 'ERR_CONNECTION' } })
    server = await startRpcServer({ api, host: '127.0.0.1', port })
    onTestFinished(async () => { await server.close() })
    expect(await client.kvGet('a')).toMatchObject({ found: true, value: 1 })
    await client.close()
    expect(await client.kvGet('a')).toMatchObject({ found: true, value: 1 })
  })

  it('fails a call the node does not answer with ERR_TIMEOUT after timeoutMs', async () => {
    const silent = new WebSocketServer({ host: '127.0.0.1', port: 0 })
    onTestFinished(async () => { for (const c of silent.clients) c.terminate(); await new Promise(resolve => silent.close(resolve)) })
    await once(silent, 'listening')
    const { port } = silent.address() as { port: number }
    const client = wsClient(`http://127.0.0.1:${port}`, { timeoutMs: 300 })
    const err = await client.info().catch((e: unknown) => e)
    expect(err).toBeInstanceOf(ChorusRpcError)
    expect(err).toMatchObject({ data: { code: 'ERR_TIMEOUT' } })
  })
})

describe('the node bounds what one socket has in flight', () => {
  it('stops reading a socket at MAX_WS_IN_FLIGHT unanswered requests and reads on as they are answered', async () => {
    const api = createFakeApi()
    let release!: () => void
    const gate = new Promise<void>(resolve => { release = resolve })
    let started = 0
    api.kvGet = async () => { started++; await gate; return { found: false, value: null, conflict: false, context: 'c' } }
    const server = await startRpcServer({ api, host: '127.0.0.1', port: 0 })
    onTestFinished(async () => { await server.close() })
    const ws = new WebSocket(server.url.replace(/^http/, 'ws') + '/rpc')
    onTestFinished(() => { ws.terminate() })
    await once(ws, 'open')
    const total = 20_000
    const answered = new Set<number>()
    ws.on('message', (data) => { answered.add((JSON.parse(data.toString()) as { id: number }).id) })
    // About 1.3 MB of requests: more than the node may read ahead while its handlers hang.
    for (let id = 0; id < total; id++) ws.send(JSON.stringify({ jsonrpc: '2.0', id, method: 'kv.get', params: { key: `k${id}` } }))
    await waitFor('the node to start MAX_WS_IN_FLIGHT calls', () => started >= MAX_WS_IN_FLIGHT)
    // Absence needs a window: the node must not keep reading while nothing is answered.
    const seen = started
    await new Promise(resolve => setTimeout(resolve, 500))
    expect(started).toBe(seen)
    expect(started).toBeLessThan(MAX_WS_IN_FLIGHT * 8)
    release()
    await waitFor('every request to be answered', () => answered.size === total, 30_000)
    expect(started).toBe(total)
  })
})
