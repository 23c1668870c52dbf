/**
 * Issue 13's additions exercised from outside, exactly as the interface spec (§3) words them:
 * raw JSON-RPC over HTTP against three `bin/chorus start` processes.
 */
import { describe, expect, it } from 'vitest'
import { waitFor } from '../helpers/nodes.js'
import { rpc, startProcess, type ChorusProcess } from '../helpers/processes.js'

interface RpcError { code: number, message: string, data?: Record<string, unknown> }

/** One raw call that returns the JSON-RPC error instead of throwing. */
async function call (url: string, method: string, params: unknown): Promise<{ result?: any, error?: RpcError }> {
  const res = await fetch(`${url}/rpc`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params })
  })
  return await res.json() as { result?: any, error?: RpcError }
}

async function meshOf (n: number, args: string[] = []): Promise<ChorusProcess[]> {
  const first = await startProcess(args)
  const rest: ChorusProcess[] = []
  for (let i = 1; i < n; i++) rest.push(await startProcess([...args, '--bootstrap', first.listen, ...rest.flatMap(p => ['--bootstrap', p.listen])]))
  const all = [first, ...rest]
  await waitFor(async () => {
    for (const p of all) if ((await rpc<any[]>(p.url, 'cluster.peers')).filter(x => x.connected).length < n - 1) return false
    return true
  }, { what: 'a full mesh', timeoutMs: 60_000 })
  return all
}

async function holders (nodes: ChorusProcess[], key: string): Promise<number> {
  const found = await Promise.all(nodes.map(async p => (await rpc(p.url, 'kv.get', { key })).found === true))
  return found.filter(Boolean).length
}

describe('issue 13 through raw JSON-RPC on bin/chorus processes', () => {
  it('durable writes: replicas k and "majority" hold on return; a timeout says how many nodes had it and keeps the write', async () => {
    const nodes = await meshOf(3)
    const [a, , c] = nodes as [ChorusProcess, ChorusProcess, ChorusProcess]
    const two = await call(a.url, 'kv.put', { key: 'r2', value: 1, replicas: 2, timeoutMs: 20_000 })
    expect(two.error).toBeUndefined()
    expect(typeof two.result.context).toBe('string')
    expect(await holders(nodes, 'r2')).toBeGreaterThanOrEqual(2)

    const majority = await call(a.url, 'counter.incr', { key: 'rm', by: 5, replicas: 'majority', timeoutMs: 20_000 })
    expect(majority.error).toBeUndefined()
    expect(majority.result.value).toBe(5)
    const counts = await Promise.all(nodes.map(async p => (await rpc(p.url, 'counter.get', { key: 'rm' })).value))
    expect(counts.filter(v => v === 5).length).toBeGreaterThanOrEqual(2)

    c.child.kill('SIGKILL')
    await c.exited
    const three = await call(a.url, 'kv.put', { key: 'r3', value: 3, replicas: 3, timeoutMs: 1500 })
    expect(three.error?.data?.code).toBe('ERR_REPLICAS_TIMEOUT')
    expect(three.error?.data?.replicas).toBe(2)
    expect(await rpc(a.url, 'kv.get', { key: 'r3' })).toMatchObject({ found: true, value: 3 })

    const bad = await call(a.url, 'kv.put', { key: 'x', value: 1, replicas: 0 })
    expect(bad.error?.code).toBe(-32602)
    expect(bad.error?.message).toMatch(/replicas/)
  })

  it('sessions: every data result carries a session token, and another node honours it', async () => {
    const [a, b] = await meshOf(2) as [ChorusProcess, ChorusProcess]
    const put = await rpc(a.url, 'kv.put', { key: 's/1', value: 'mine' })
    expect(typeof put.session).toBe('string')
    const read = await rpc(b.url, 'kv.get', { key: 's/1', session: put.session, timeoutMs: 20_000 })
    expect(read).toMatchObject({ found: true, value: 'mine' })
    expect(typeof read.session).toBe('string')
    for (const [method, params] of [
      ['counter.incr', { key: 's/c' }], ['counter.get', { key: 's/c' }],
      ['set.add', { key: 's/s', members: ['m'] }], ['set.get', { key: 's/s' }],
      ['kv.delete', { key: 's/1' }], ['kv.batch', { ops: [{ op: 'put', key: 's/2', value: 2 }] }], ['kv.scan', {}]
    ] as const) {
      const result = await rpc(b.url, method, { ...params, session: read.session })
      expect(typeof result.session, method).toBe('string')
    }
    const hostile = await call(b.url, 'kv.get', { key: 's/1', session: '!!not a token!!' })
    expect(hostile.error?.code).toBe(-32602)
    expect(hostile.error?.message).toMatch(/session/)
  })

  it('change feed: kv.changes pages through every change in order; since returns exactly the rest', async () => {
    const [a] = await meshOf(1) as [ChorusProcess]
    await rpc(a.url, 'kv.put', { key: 'f/1', value: 1 })
    await rpc(a.url, 'counter.incr', { key: 'f/2' })
    await rpc(a.url, 'set.add', { key: 'f/3', members: ['x'] })
    const first = await rpc(a.url, 'kv.changes', {})
    expect(first.changes.map((c: any) => [c.space, c.key])).toEqual([['kv', 'f/1'], ['counter', 'f/2'], ['set', 'f/3']])
    const seqs = first.changes.map((c: any) => c.seq)
    expect([...seqs].sort((x: number, y: number) => x - y)).toEqual(seqs)
    expect(typeof first.cursor).toBe('string')
    const none = await rpc(a.url, 'kv.changes', { since: first.cursor })
    expect(none.changes).toEqual([])
    await rpc(a.url, 'kv.delete', { key: 'f/1' })
    const next = await rpc(a.url, 'kv.changes', { since: first.cursor })
    expect(next.changes.map((c: any) => [c.space, c.key])).toEqual([['kv', 'f/1']])
    const limited = await rpc(a.url, 'kv.changes', { limit: 2 })
    expect(limited.changes).toHaveLength(2)
    const rest = await rpc(a.url, 'kv.changes', { since: limited.cursor })
    expect(rest.changes.map((c: any) => c.key)).toEqual(['f/3', 'f/1'])
  })

  it('expiry: a key written with ttlMs reads as absent on every node once expired', async () => {
    const nodes = await meshOf(2)
    const [a] = nodes as [ChorusProcess]
    await rpc(a.url, 'kv.put', { key: 't/kv', value: 'soon gone', ttlMs: 1500 })
    await rpc(a.url, 'counter.incr', { key: 't/c', by: 3, ttlMs: 1500 })
    await rpc(a.url, 'set.add', { key: 't/s', members: ['m'], ttlMs: 1500 })
    await rpc(a.url, 'kv.put', { key: 't/kept', value: 'stays' })
    await waitFor(async () => {
      for (const p of nodes) {
        if ((await rpc(p.url, 'kv.get', { key: 't/kv' })).found) return false
        if ((await rpc(p.url, 'counter.get', { key: 't/c' })).value !== 0) return false
        if ((await rpc(p.url, 'set.get', { key: 't/s' })).members.length !== 0) return false
      }
      return true
    }, { what: 'expiry on every node', timeoutMs: 30_000 })
    for (const p of nodes) expect(await rpc(p.url, 'kv.get', { key: 't/kept' })).toMatchObject({ found: true, value: 'stays' })
    const bad = await call(a.url, 'kv.put', { key: 't/x', value: 1, ttlMs: -5 })
    expect(bad.error?.code).toBe(-32602)
    expect(bad.error?.message).toMatch(/ttlMs/)
  })

  it('maps: map.update on two leaders, fields merged one by one; map.get shows the same map everywhere', async () => {
    const nodes = await meshOf(2)
    const [a, b] = nodes as [ChorusProcess, ChorusProcess]
    const w = await rpc(a.url, 'map.update', { key: 'doc', ops: [{ op: 'set', field: 'title', value: 'hi' }, { op: 'incr', field: 'views', by: 2 }] })
    expect(typeof w.context).toBe('string')
    await rpc(b.url, 'map.update', { key: 'doc', ops: [{ op: 'add', field: 'tags', members: ['x'] }, { op: 'update', field: 'meta', ops: [{ op: 'set', field: 'lang', value: 'en' }] }] })
    const want = { title: 'hi', views: 2, tags: ['x'], meta: { lang: 'en' } }
    await waitFor(async () => {
      for (const p of nodes) {
        const got = await rpc(p.url, 'map.get', { key: 'doc' })
        const sorted = (o: object): string => JSON.stringify(Object.entries(o).sort(([x], [y]) => x < y ? -1 : 1))
        if (got.found !== true || sorted(got.value) !== sorted(want)) return false
      }
      return true
    }, { what: 'the merged map on both nodes', timeoutMs: 30_000 })
    const bad = await call(a.url, 'map.update', { key: 'doc', ops: [{ op: 'incr', field: 'views', by: 'one' }] })
    expect(bad.error?.code).toBe(-32602)
    expect(bad.error?.message).toMatch(/ops\[0\]/)
  })
})
