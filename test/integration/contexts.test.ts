/**
 * Contexts as an outside client uses them: raw JSON-RPC against real bin/chorus processes.
 * Regressions for issue 10: a context bound to its key, a write's context that keeps the
 * siblings the writer never saw, and forged contexts that can no longer brick a key.
 */
import { describe, expect, it } from 'vitest'
import { contextOf } from '../../src/causal/index.js'
import { encodeContext } from '../../src/codec/index.js'
import { MAX_EVENT_COUNTER } from '../../src/constants.js'
import { waitFor } from '../helpers/nodes.js'
import { rpc, startProcess } from '../helpers/processes.js'

async function rpcError (url: string, method: string, params: unknown): Promise<{ rpcCode?: number, message: string }> {
  try {
    await rpc(url, method, params)
  } catch (err) {
    return err as { rpcCode?: number, message: string }
  }
  throw new Error(`${method} succeeded; an error was expected`)
}

describe('contexts over raw JSON-RPC', () => {
  it('a context read from one key is refused on another key and in another key space (-32602)', async () => {
    const a = await startProcess()
    const { context } = await rpc(a.url, 'kv.put', { key: 'x', value: 1 })
    await rpc(a.url, 'kv.put', { key: 'y', value: 'y1' })
    const err = await rpcError(a.url, 'kv.put', { key: 'y', value: 'y2', context })
    expect(err.rpcCode).toBe(-32602)
    expect(err.message).toMatch(/context: .*another key/)
    expect((await rpcError(a.url, 'kv.delete', { key: 'y', context })).rpcCode).toBe(-32602)
    expect((await rpcError(a.url, 'kv.get', { key: 'y', after: context, timeoutMs: 100 })).rpcCode).toBe(-32602)
    expect((await rpcError(a.url, 'kv.batch', { ops: [{ op: 'put', key: 'y', value: 3, context }] })).rpcCode).toBe(-32602)
    const { context: counterContext } = await rpc(a.url, 'counter.incr', { key: 'x' })
    expect((await rpcError(a.url, 'kv.get', { key: 'x', after: counterContext, timeoutMs: 100 })).rpcCode).toBe(-32602)
    // Nothing was written by the refused calls.
    expect(await rpc(a.url, 'kv.get', { key: 'y' })).toMatchObject({ found: true, value: 'y1', conflict: false })
  })

  it('a write with a stale context keeps the version it never saw, says conflict, and its context keeps it too', async () => {
    const a = await startProcess()
    const first = await rpc(a.url, 'kv.put', { key: 'k', value: 'v1' })
    expect(first.conflict).toBe(false)
    // v2 supersedes v1; a second client, still holding v1's context, writes v3.
    await rpc(a.url, 'kv.put', { key: 'k', value: 'v2', context: first.context })
    const stale = await rpc(a.url, 'kv.put', { key: 'k', value: 'v3', context: first.context })
    expect(stale.conflict).toBe(true)
    // Writing again with what that write returned supersedes v3 only: v2 stays.
    const again = await rpc(a.url, 'kv.put', { key: 'k', value: 'v4', context: stale.context })
    expect(again.conflict).toBe(true)
    const all = await rpc(a.url, 'kv.get', { key: 'k', all: true })
    expect(all.conflict).toBe(true)
    expect(all.values.map((v: { value: string }) => v.value).sort()).toEqual(['v2', 'v4'])
    // A read's context covers both: writing with it resolves the conflict.
    const resolved = await rpc(a.url, 'kv.put', { key: 'k', value: 'merged', context: all.context })
    expect(resolved.conflict).toBe(false)
    expect(await rpc(a.url, 'kv.get', { key: 'k', all: true })).toMatchObject({ value: 'merged', conflict: false, values: [{ value: 'merged' }] })
    // The same in a batch.
    const b1 = await rpc(a.url, 'kv.batch', { ops: [{ op: 'put', key: 'b', value: 1 }] })
    await rpc(a.url, 'kv.put', { key: 'b', value: 2, context: b1.contexts[0] })
    const b3 = await rpc(a.url, 'kv.batch', { ops: [{ op: 'put', key: 'b', value: 3, context: b1.contexts[0] }, { op: 'put', key: 'c', value: 1 }] })
    expect(b3.conflicts).toEqual([true, false])
  })

  it('forged contexts (counters at the bound, or beyond it) cannot brick a key; both nodes converge', async () => {
    const a = await startProcess(['--ae-interval', '500'])
    const b = await startProcess(['--bootstrap', a.listen, '--ae-interval', '500'])
    await waitFor(async () => (await rpc<any[]>(a.url, 'cluster.peers')).some(p => p.connected), { what: 'a connected to b', timeoutMs: 30_000 })
    await rpc(a.url, 'kv.put', { key: 'victim', value: 'before' })
    const atBound = encodeContext('r/victim', contextOf({ [a.peerId]: MAX_EVENT_COUNTER, [b.peerId]: MAX_EVENT_COUNTER }))
    const beyond = encodeContext('r/victim', contextOf({ [a.peerId]: 2 ** 53 - 1 }))
    const refused = await rpcError(a.url, 'kv.put', { key: 'victim', value: 'poison', context: beyond })
    expect(refused.rpcCode).toBe(-32602)
    // At the bound the context is accepted, supersedes only what a has seen, and invents nothing.
    const forged = await rpc(a.url, 'kv.put', { key: 'victim', value: 'forged', context: atBound })
    expect(forged.conflict).toBe(false)
    const next = await rpc(a.url, 'kv.put', { key: 'victim', value: 'after', context: forged.context })
    await rpc(a.url, 'kv.put', { key: 'victim', value: 'blind' })
    expect(next.conflict).toBe(false)
    expect(await rpc(a.url, 'kv.get', { key: 'victim' })).toMatchObject({ found: true, value: 'blind', conflict: false })
    await waitFor(async () => (await rpc(b.url, 'kv.get', { key: 'victim' })).value === 'blind', { what: 'b sees the last write', timeoutMs: 30_000 })
    await rpc(b.url, 'kv.put', { key: 'victim', value: 'from b' })
    await waitFor(async () => {
      const [da, db] = await Promise.all([rpc(a.url, 'node.info'), rpc(b.url, 'node.info')])
      return da.digest === db.digest
    }, { what: 'equal digests', timeoutMs: 30_000 })
    expect(await rpc(a.url, 'kv.get', { key: 'victim' })).toMatchObject({ found: true, value: 'from b', conflict: false })
  })
})
