/** Expiring keys over JSON-RPC and the typed client, against a real node: ttlMs and its limits. */
import { describe, expect, it } from 'vitest'
import { MAX_TTL_MS } from '../../src/constants.js'
import { ChorusRpcError } from '../../src/rpc/index.js'
import { startRealNode, waitFor } from './helpers.js'

async function rpcError (p: Promise<unknown>): Promise<ChorusRpcError> {
  const err = await p.then(() => undefined, (e: unknown) => e)
  expect(err).toBeInstanceOf(ChorusRpcError)
  return err as ChorusRpcError
}

const BAD_TTLS: unknown[] = [0, -1, 1.5, '300', null, true, MAX_TTL_MS + 1, Number.MAX_SAFE_INTEGER]

describe('ttlMs over JSON-RPC', () => {
  it('kv.put, kv.batch, counter.incr and set.add take ttlMs; the results say when the key expires; then it reads as absent', async () => {
    const { client } = await startRealNode()
    const before = Date.now()
    await client.kvPut('k', 'v', undefined, { ttlMs: 400 })
    const r = await client.kvGet('k')
    expect(r).toMatchObject({ found: true, value: 'v' })
    expect(r.expiresAt).toBeGreaterThanOrEqual(before + 400)
    await client.kvBatch([{ op: 'put', key: 'b', value: 1, ttlMs: 400 }])
    expect((await client.counterIncr('c', 3, { ttlMs: 400 })).expiresAt).toBeGreaterThanOrEqual(before + 400)
    expect((await client.setAdd('s', ['m'], { ttlMs: 400 })).expiresAt).toBeGreaterThanOrEqual(before + 400)
    await waitFor('every key to expire', async () => !(await client.kvGet('k')).found && !(await client.kvGet('b')).found &&
      (await client.counterGet('c')).value === 0 && (await client.setGet('s')).members.length === 0)
    expect((await client.kvScan()).items).toEqual([])
    // The largest ttl is accepted.
    expect((await client.kvPut('far', 1, undefined, { ttlMs: MAX_TTL_MS })).context).toEqual(expect.any(String))
  })

  it('refuses a ttlMs that is not an integer from 1 to MAX_TTL_MS with -32602 naming the field, writing nothing', async () => {
    const { client, node } = await startRealNode()
    for (const ttlMs of BAD_TTLS) {
      for (const [method, params, field] of [
        ['kv.put', { key: 'k', value: 1, ttlMs }, 'params.ttlMs'],
        ['counter.incr', { key: 'c', ttlMs }, 'params.ttlMs'],
        ['set.add', { key: 's', members: ['m'], ttlMs }, 'params.ttlMs'],
        ['kv.batch', { ops: [{ op: 'put', key: 'k', value: 1, ttlMs }] }, 'params.ops[0].ttlMs']
      ] as const) {
        const err = await rpcError(client.call(method, params))
        expect(err.code, `${method} ${String(ttlMs)}`).toBe(-32602)
        expect(err.data).toMatchObject({ field, code: 'ERR_INVALID_PARAMS' })
      }
    }
    // Not for deletes and removes.
    expect((await rpcError(client.call('kv.batch', { ops: [{ op: 'delete', key: 'k', ttlMs: 5 }] }))).data.field).toBe('params.ops[0].ttlMs')
    expect((await rpcError(client.call('kv.delete', { key: 'k', ttlMs: 5 }))).data.field).toBe('params.ttlMs')
    expect((await rpcError(client.call('set.remove', { key: 's', members: ['m'], ttlMs: 5 }))).data.field).toBe('params.ttlMs')
    expect((await node.info()).keys).toBe(0)
    // The node checks again for callers of the library.
    await expect(node.kvPut('k', 1, undefined, { ttlMs: 0 })).rejects.toMatchObject({ code: 'ERR_INVALID_PARAMS', data: { field: 'ttlMs' } })
    await expect(node.counterIncr('c', 1, { ttlMs: MAX_TTL_MS + 1 })).rejects.toMatchObject({ code: 'ERR_INVALID_PARAMS', data: { field: 'ttlMs' } })
    await expect(node.setAdd('s', ['m'], { ttlMs: 1.5 })).rejects.toMatchObject({ code: 'ERR_INVALID_PARAMS', data: { field: 'ttlMs' } })
    await expect(node.kvBatch([{ op: 'put', key: 'k', value: 1, ttlMs: -1 }])).rejects.toMatchObject({ code: 'ERR_INVALID_PARAMS', data: { field: 'ops[0].ttlMs' } })
    expect((await node.info()).keys).toBe(0)
  })
})
