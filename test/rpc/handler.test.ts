/**
 * The transport-free handler: every standard error code, field-naming -32602 messages, the
 * mapping of ChorusError subclasses, batches. Pure logic over a fake ChorusApi.
 */
import { describe, expect, it } from 'vitest'
import { MAX_KEY_BYTES, MAX_RPC_BATCH } from '../../src/constants.js'
import { createRpcHandler, serialiseReply } from '../../src/rpc/index.js'
import { createFakeApi } from './fake-api.js'
import type { JSONRPCResponse } from 'json-rpc-2.0'

function setup (): { api: ReturnType<typeof createFakeApi>, call: (method: string, params?: unknown) => Promise<JSONRPCResponse>, handler: ReturnType<typeof createRpcHandler> } {
  const api = createFakeApi()
  const handler = createRpcHandler({ api })
  let id = 0
  const call = async (method: string, params?: unknown): Promise<JSONRPCResponse> =>
    await handler.handle({ jsonrpc: '2.0', id: ++id, method, ...(params !== undefined ? { params } : {}) }) as JSONRPCResponse
  return { api, call, handler }
}

describe('rpc handler', () => {
  it('routes each method to the api with validated params', async () => {
    const { api, call } = setup()
    expect((await call('kv.put', { key: 'a', value: { x: 1 } })).result).toEqual({ context: 'ctx1', conflict: false })
    expect((await call('kv.get', { key: 'a' })).result).toMatchObject({ found: true, value: { x: 1 } })
    expect((await call('kv.batch', { ops: [{ op: 'put', key: 'b', value: 1 }, { op: 'delete', key: 'a', context: 'c' }] })).result).toEqual({ contexts: ['ctx2', 'ctx3'], conflicts: [false, false] })
    expect(api.calls.at(-1)).toEqual({ method: 'kvBatch', args: [[{ op: 'put', key: 'b', value: 1 }, { op: 'delete', key: 'a', context: 'c' }]] })
    expect((await call('counter.incr', { key: 'n', by: -3 })).result).toEqual({ value: -3, context: 'c' })
    expect((await call('counter.incr', { key: 'n' })).result).toMatchObject({ value: 1 })
    expect((await call('set.add', { key: 's', members: ['y', 'x'] })).result).toMatchObject({ members: ['x', 'y'] })
    expect((await call('kv.scan')).result).toMatchObject({ items: [{ key: 'a', value: { x: 1 } }] })
    expect((await call('kv.conflicts', { prefix: 'a' })).result).toEqual({ keys: [] })
    expect(Array.isArray((await call('cluster.peers')).result)).toBe(true)
    expect((await call('node.info', {})).result).toMatchObject({ version: '0.1.0' })
    // null is a valid register value
    expect((await call('kv.put', { key: 'nil', value: null })).error).toBeUndefined()
  })

  it('-32700 for unparsable JSON, with id null', async () => {
    const { handler } = setup()
    const r = await handler.handleText('{"jsonrpc": "2.0", "method": ') as JSONRPCResponse
    expect(r.id).toBeNull()
    expect(r.error?.code).toBe(-32700)
    expect(r.error?.data).toEqual({ code: 'ERR_PARSE' })
  })

  it('-32700 for bytes that are not UTF-8; valid UTF-8 (BOM-less, multi-byte) is served', async () => {
    const { handler } = setup()
    for (const bad of [[0xff], [0xc3], [0xed, 0xa0, 0x80], [0xe2, 0x82]]) {
      const r = await handler.handleBytes(Buffer.concat([Buffer.from('{"jsonrpc":"2.0","id":1,"method":"kv.get","params":{"key":"'), Buffer.from(bad), Buffer.from('"}}')])) as JSONRPCResponse
      expect(r.error?.code, String(bad)).toBe(-32700)
    }
    const ok = await handler.handleBytes(Buffer.from('{"jsonrpc":"2.0","id":2,"method":"kv.get","params":{"key":"é😀"}}')) as JSONRPCResponse
    expect(ok.error).toBeUndefined()
  })

  it('a result that cannot be serialised becomes -32603 for its own request only', () => {
    let deep: unknown = 1
    for (let i = 0; i < 200_000; i++) deep = [deep]
    const one = JSON.parse(serialiseReply({ jsonrpc: '2.0', id: 3, result: deep }))
    expect(one).toEqual({ jsonrpc: '2.0', id: 3, error: { code: -32603, message: 'Internal error: the result cannot be serialised as JSON', data: { code: 'ERR_INTERNAL' } } })
    const batch = JSON.parse(serialiseReply([{ jsonrpc: '2.0', id: 1, result: 'fine' }, { jsonrpc: '2.0', id: 2, result: deep }]))
    expect(batch).toEqual([{ jsonrpc: '2.0', id: 1, result: 'fine' }, expect.objectContaining({ id: 2, error: expect.objectContaining({ code: -32603 }) })])
  })

  it('-32600 for requests that are not JSON-RPC 2.0', async () => {
    const { handler } = setup()
    for (const bad of [null, 42, 'x', {}, { jsonrpc: '1.0', id: 1, method: 'kv.get' }, { jsonrpc: '2.0', id: 1, method: 7 },
      { jsonrpc: '2.0', id: {}, method: 'node.info' }, { jsonrpc: '2.0', id: 1, method: 'node.info', params: 'x' }]) {
      const r = await handler.handle(bad) as JSONRPCResponse
      expect(r.error?.code, JSON.stringify(bad)).toBe(-32600)
      expect(r.error?.data).toEqual({ code: 'ERR_INVALID_REQUEST' })
    }
    // the id is echoed when it is valid
    const r = await handler.handle({ jsonrpc: '2.0', id: 'abc', method: 5 }) as JSONRPCResponse
    expect(r.id).toBe('abc')
  })

  it('-32601 for unknown methods, and for kv.watch outside WebSocket', async () => {
    const { call } = setup()
    const r = await call('kv.nope', {})
    expect(r.error?.code).toBe(-32601)
    expect(r.error?.message).toContain('kv.nope')
    expect(r.error?.data).toEqual({ code: 'ERR_METHOD_NOT_FOUND' })
    const w = await call('kv.watch', {})
    expect(w.error?.code).toBe(-32601)
    expect(w.error?.message).toMatch(/WebSocket/)
    // regression: params are not judged for a method that does not exist here
    for (const [method, params] of [['kv.unwatch', { subscription: '' }], ['kv.unwatch', {}], ['kv.watch', { prefix: 1 }], ['kv.watch', ['x']]] as const) {
      const r = await call(method, params)
      expect(r.error?.code, `${method} ${JSON.stringify(params)}`).toBe(-32601)
    }
  })

  it('-32602 names the field', async () => {
    const { api, call } = setup()
    const cases: Array<[string, unknown, RegExp]> = [
      ['kv.put', { key: '', value: 1 }, /^params\.key: must not be empty/],
      ['kv.put', { value: 1 }, /^params\.key: is required/],
      ['kv.put', { key: 5, value: 1 }, /^params\.key: must be a string/],
      ['kv.put', { key: 'k' }, /^params\.value: is required/],
      ['kv.put', { key: 'x'.repeat(MAX_KEY_BYTES + 1), value: 1 }, /^params\.key: must be at most 1024 bytes/],
      ['kv.put', { key: '\uD800', value: 1 }, /^params\.key: must be valid UTF-8/],
      ['kv.put', { key: 'k', value: 1, contxt: 'c' }, /^params\.contxt: is not a known parameter/],
      ['kv.put', ['k', 1], /^params: must be an object/],
      ['kv.get', { key: 'k', timeoutMs: -1 }, /^params\.timeoutMs: must be at least 0/],
      ['kv.get', { key: 'k', all: 'yes' }, /^params\.all: must be a boolean/],
      ['kv.batch', { ops: [] }, /^params\.ops: must hold at least 1 item/],
      ['kv.batch', { ops: [{ op: 'put', key: 'a', value: 1 }, { op: 'zap', key: 'b' }] }, /^params\.ops\[1\]\.op: must be one of "put", "delete"/],
      ['kv.batch', { ops: [{ op: 'put', key: 'a' }] }, /^params\.ops\[0\]\.value: is required/],
      ['kv.scan', { limit: 0 }, /^params\.limit: must be at least 1/],
      ['kv.scan', { limit: 1.5 }, /^params\.limit: must be an integer/],
      ['kv.scan', { prefix: '\uD800' }, /^params\.prefix: must be valid UTF-8/],
      ['kv.scan', { start: 'a\uDFFF' }, /^params\.start: must be valid UTF-8/],
      ['kv.scan', { end: 'user/\uD83D' }, /^params\.end: must be valid UTF-8/],
      ['kv.conflicts', { prefix: '\uDC00' }, /^params\.prefix: must be valid UTF-8/],
      ['counter.incr', { key: 'n', by: 0.5 }, /^params\.by: must be an integer/],
      ['set.add', { key: 's', members: ['a', 3] }, /^params\.members\[1\]: must be a string/],
      ['set.add', { key: 's' }, /^params\.members: is required/],
      ['cluster.sync', { peer: '' }, /^params\.peer: must not be empty/],
      ['node.info', { verbose: true }, /^params\.verbose: is not a known parameter/]
    ]
    for (const [method, params, message] of cases) {
      const r = await call(method, params)
      expect(r.error?.code, `${method} ${JSON.stringify(params).slice(0, 80)}`).toBe(-32602)
      expect(r.error?.message).toMatch(message)
      expect((r.error?.data as { code: string }).code).toBe('ERR_INVALID_PARAMS')
    }
    // nothing invalid reached the api
    expect(api.calls.filter(c => c.method === 'kvPut' || c.method === 'kvBatch' || c.method === 'setAdd')).toEqual([])
  })

  it('maps ChorusError subclasses to their rpcCode with data.code', async () => {
    const { call } = setup()
    const t = await call('kv.get', { key: 'k', after: 'never' })
    expect(t.error).toMatchObject({ code: -32001, data: { code: 'ERR_AFTER_TIMEOUT' } })
    const s = await call('cluster.sync', {})
    expect(s.error).toMatchObject({ code: -32003, data: { code: 'ERR_NO_PEER' } })
  })

  it('regression: a field the node refuses is named like the schema names it, in the message and in data.field', async () => {
    const { call } = setup()
    const node = await call('kv.get', { key: 'k', after: 'foreign' })
    expect(node.error).toEqual({ code: -32602, message: 'params.after: belongs to another key', data: { field: 'params.after', code: 'ERR_INVALID_CONTEXT' } })
    const schema = await call('kv.get', { key: 'k', after: '' })
    expect(schema.error?.data).toEqual({ field: 'params.after', code: 'ERR_INVALID_PARAMS' })
  })

  it('-32603 for unexpected errors, without leaking details', async () => {
    const { call } = setup()
    const r = await call('kv.put', { key: 'explode', value: 1 })
    expect(r.error?.code).toBe(-32603)
    expect(r.error?.data).toEqual({ code: 'ERR_INTERNAL' })
    expect(JSON.stringify(r)).not.toMatch(/secret|stack|\/home/)
  })

  it('batches: mixed results in one array; notifications get no reply', async () => {
    const { handler } = setup()
    const r = await handler.handle([
      { jsonrpc: '2.0', id: 1, method: 'kv.put', params: { key: 'a', value: 1 } },
      { jsonrpc: '2.0', method: 'kv.put', params: { key: 'b', value: 2 } },
      { jsonrpc: '2.0', id: 2, method: 'kv.get', params: { key: '' } },
      { jsonrpc: '2.0', id: 3, method: 'missing' },
      42
    ]) as JSONRPCResponse[]
    expect(Array.isArray(r)).toBe(true)
    expect(r).toHaveLength(4)
    expect(r.find(x => x.id === 1)?.result).toMatchObject({ context: expect.any(String) })
    expect(r.find(x => x.id === 2)?.error?.code).toBe(-32602)
    expect(r.find(x => x.id === 3)?.error?.code).toBe(-32601)
    expect(r.find(x => x.id === null)?.error?.code).toBe(-32600)
    // a batch of one still answers with an array
    const one = await handler.handle([{ jsonrpc: '2.0', id: 9, method: 'node.info' }])
    expect(Array.isArray(one)).toBe(true)
    // only notifications: nothing to send back
    expect(await handler.handle([{ jsonrpc: '2.0', method: 'kv.put', params: { key: 'c', value: 3 } }])).toBeNull()
    expect(await handler.handle({ jsonrpc: '2.0', method: 'kv.put', params: { key: '', value: 3 } })).toBeNull()
  })

  it('batches: empty and oversize arrays are -32600', async () => {
    const { api, handler } = setup()
    const empty = await handler.handle([]) as JSONRPCResponse
    expect(empty.error?.code).toBe(-32600)
    const big = Array.from({ length: MAX_RPC_BATCH + 1 }, (_, i) => ({ jsonrpc: '2.0', id: i, method: 'kv.put', params: { key: `k${i}`, value: i } }))
    const r = await handler.handle(big) as JSONRPCResponse
    expect(r.error?.code).toBe(-32600)
    expect(r.error?.message).toContain(String(MAX_RPC_BATCH))
    expect(api.calls).toEqual([])
    const max = await handler.handle(big.slice(0, MAX_RPC_BATCH)) as JSONRPCResponse[]
    expect(max).toHaveLength(MAX_RPC_BATCH)
  })
})
