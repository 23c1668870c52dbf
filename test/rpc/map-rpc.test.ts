/** map.* over JSON-RPC against a real node: the typed client end to end, and -32602 naming the path. */
import { describe, expect, it } from 'vitest'
import { ChorusRpcError } from '../../src/rpc/index.js'
import { startRealNode } from './helpers.js'

async function rpcError (p: Promise<unknown>): Promise<ChorusRpcError> {
  const err = await p.then(() => undefined, (e: unknown) => e)
  expect(err).toBeInstanceOf(ChorusRpcError)
  return err as ChorusRpcError
}

describe('map methods over JSON-RPC', () => {
  it('update, get (plain and all), scan and delete through the typed client', async () => {
    const { client, node } = await startRealNode()
    const w = await client.mapUpdate('doc', [
      { op: 'set', field: 'title', value: { text: 'hi' } },
      { op: 'incr', field: 'views', by: 3 },
      { op: 'add', field: 'tags', members: ['b', 'a'] },
      { op: 'update', field: 'meta', ops: [{ op: 'set', field: 'lang', value: 'en' }] }
    ])
    expect(w).toEqual({ context: expect.any(String), conflict: false, session: expect.any(String) })
    const r = await client.mapGet('doc')
    expect(r).toEqual({ found: true, value: { meta: { lang: 'en' }, tags: ['a', 'b'], title: { text: 'hi' }, views: 3 }, conflict: false, conflicts: [], context: expect.any(String), session: expect.any(String) })
    const all = await client.mapGet('doc', { all: true, after: w.context, timeoutMs: 1000 })
    expect(all.fields?.map(f => [f.path.join('.'), f.type])).toEqual([['meta.lang', 'register'], ['tags', 'set'], ['title', 'register'], ['views', 'counter']])
    expect(all.fields?.[0]?.values?.[0]).toMatchObject({ value: 'en', node: node.peerId })
    expect((await client.mapScan()).items).toEqual([{ key: 'doc', value: r.value, conflict: false }])
    await client.mapDelete('doc', r.context)
    expect(await client.mapGet('doc')).toMatchObject({ found: false, value: {} })
    expect((await client.mapScan()).items).toEqual([])
    // The other key spaces do not see it, and a map does not see them.
    await client.kvPut('doc', 1)
    expect((await client.mapGet('doc')).found).toBe(false)
  })

  it('refuses bad input with -32602 naming the field, and stores nothing', async () => {
    const { client, node } = await startRealNode()
    const cases: Array<[unknown, string]> = [
      [[], 'params.ops'],
      [[{ op: 'set', field: 'a' }], 'params.ops[0].value'],
      [[{ op: 'incr', field: 'a', by: 2 ** 60 }], 'params.ops[0].by'],
      [[{ op: 'update', field: 'a', ops: [{ op: 'add', field: 'b', members: ['x', 7] }] }], 'params.ops[0].ops[0].members[1]'],
      [[{ op: 'delete', field: 'a' }], 'params.ops[0].type'],
      [[{ op: 'set', field: 'a', value: 1, extra: true }], 'params.ops[0].extra']
    ]
    for (const [ops, field] of cases) {
      const err = await rpcError(client.call('map.update', { key: 'k', ops }))
      expect(err.code, field).toBe(-32602)
      expect(err.data).toMatchObject({ field })
    }
    const { context } = await client.mapGet('other')
    const foreign = await rpcError(client.mapUpdate('k', [{ op: 'incr', field: 'n' }], context))
    expect(foreign.code).toBe(-32602)
    expect((await node.info()).keys).toBe(0)
  })
})
