/**
 * Durable writes on real nodes: with gossip off and anti-entropy far away, the only way a write
 * reaches a peer before the call returns is the replicate protocol — so a read on the peers
 * the moment the call returns shows exactly what the acknowledgements promised.
 */
import { describe, expect, it } from 'vitest'
import { ReplicasTimeoutError } from '../../src/errors.js'
import type { ChorusNode } from '../../src/node/index.js'
import { ChorusClient, ChorusRpcError, startRpcServer } from '../../src/rpc/index.js'
import { connectAll, startNode, startNodes, tempDir, waitFor } from '../helpers/nodes.js'

/** No gossip, no scheduled anti-entropy: nothing spreads a write but the replicate protocol. */
const QUIET = { gossip: false, aeIntervalMs: 600_000 } as const

async function holders (nodes: ChorusNode[], key: string): Promise<number> {
  let n = 0
  for (const node of nodes) if ((await node.kvGet(key)).found) n++
  return n
}

async function threeNodes (): Promise<[ChorusNode, ChorusNode, ChorusNode]> {
  const [a, b, c] = await startNodes(3, QUIET)
  if (a === undefined || b === undefined || c === undefined) throw new Error('three nodes')
  await connectAll([a, b, c])
  // "majority" counts known members: wait until each node knows the other two.
  await waitFor(async () => (await Promise.all([a, b, c].map(async n => (await n.members()).length))).every(m => m === 2), { what: 'every node to know two members' })
  return [a, b, c]
}

async function metric (node: ChorusNode, name: string): Promise<number> {
  const line = (await node.metricsText()).split('\n').find(l => l.startsWith(`${name} `))
  return Number(line?.split(' ')[1] ?? NaN)
}

describe('durable writes (replicas)', () => {
  it('returns once k nodes hold the write: k=2, k=3 and "majority" on three nodes', async () => {
    const [a, b, c] = await threeNodes()
    await a.kvPut('two', 2, undefined, { replicas: 2 })
    expect(await holders([b, c], 'two')).toBeGreaterThanOrEqual(1)

    await a.kvPut('three', 3, undefined, { replicas: 3 })
    expect(await holders([b, c], 'three')).toBe(2)

    // 2 known members + this node = 3 nodes: a majority is 2.
    await b.kvPut('most', 'm', undefined, { replicas: 'majority' })
    expect(await holders([a, c], 'most')).toBeGreaterThanOrEqual(1)
    expect(await metric(a, 'chorus_replicated_write_wait_seconds_count{outcome="ok"}')).toBe(2)
  })

  it('every write method takes replicas: delete, batch, counter.incr, set.add, set.remove', async () => {
    const [a, b, c] = await threeNodes()
    await a.kvPut('gone', 1, undefined, { replicas: 3 })
    await a.kvDelete('gone', undefined, { replicas: 3 })
    for (const n of [b, c]) expect((await n.kvGet('gone', { all: true })).values?.[0]?.deleted).toBe(true)

    await a.kvBatch([{ op: 'put', key: 'x', value: 1 }, { op: 'put', key: 'y', value: 2 }], { replicas: 3 })
    for (const n of [b, c]) expect([(await n.kvGet('x')).value, (await n.kvGet('y')).value]).toEqual([1, 2])

    await a.counterIncr('hits', 5, { replicas: 3 })
    for (const n of [b, c]) expect((await n.counterGet('hits')).value).toBe(5)

    await a.setAdd('tags', ['red', 'green'], { replicas: 3 })
    await a.setRemove('tags', ['red'], { replicas: 3 })
    for (const n of [b, c]) expect((await n.setGet('tags')).members).toEqual(['green'])
  })

  it('k=3 with a node stopped: ERR_REPLICAS_TIMEOUT with data.replicas = 2; the write stays and spreads later', async () => {
    const cDir = await tempDir()
    const [a, b] = await startNodes(2, QUIET)
    if (a === undefined || b === undefined) throw new Error('two nodes')
    const c = await startNode({ ...QUIET, dataDir: cDir })
    await connectAll([a, b, c])
    await c.stop()

    const err = await a.kvPut('kept', 'yes', undefined, { replicas: 3, timeoutMs: 1_000 }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(ReplicasTimeoutError)
    expect((err as ReplicasTimeoutError).code).toBe('ERR_REPLICAS_TIMEOUT')
    expect((err as ReplicasTimeoutError).data).toEqual({ replicas: 2, required: 3 })
    // Not undone: here, and on the peer that acknowledged it.
    expect((await a.kvGet('kept')).value).toBe('yes')
    expect((await b.kvGet('kept')).value).toBe('yes')
    expect(await metric(a, 'chorus_replicated_write_wait_seconds_count{outcome="timeout"}')).toBe(1)

    const c2 = await startNode({ ...QUIET, dataDir: cDir })
    await c2.dial(a.multiaddrs()[0] as string)
    await waitFor(async () => {
      await c2.sync(a.peerId).catch(() => {})
      return (await c2.kvGet('kept')).value === 'yes'
    }, { what: 'the timed-out write to reach the restarted node' })
  })

  it('a node that connects while a write waits is pushed to, and counts', async () => {
    const [a, b] = await startNodes(2, QUIET)
    const c = await startNode(QUIET)
    if (a === undefined || b === undefined) throw new Error('two nodes')
    await connectAll([a, b])
    const write = a.kvPut('late', 1, undefined, { replicas: 3, timeoutMs: 30_000 })
    await c.dial(a.multiaddrs()[0] as string)
    await write
    expect((await c.kvGet('late')).found).toBe(true)
  })

  it('without replicas nothing changes: no push, the peers learn the write only by gossip or anti-entropy', async () => {
    const [a, b] = await startNodes(2, QUIET)
    if (a === undefined || b === undefined) throw new Error('two nodes')
    await connectAll([a, b])
    await a.kvPut('plain', 1)
    await a.counterIncr('plain', 1)
    await a.setAdd('plain', ['m'])
    expect((await b.kvGet('plain')).found).toBe(false)
    expect(await metric(a, 'chorus_replicate_pushes_total{outcome="acked"}')).toBe(0)
    expect(await metric(a, 'chorus_replicated_write_wait_seconds_count{outcome="ok"}')).toBe(0)
    // replicas: 1 is this node alone: no push either.
    await a.kvPut('one', 1, undefined, { replicas: 1 })
    expect(await metric(a, 'chorus_replicate_pushes_total{outcome="acked"}')).toBe(0)
  })

  it('over JSON-RPC: the error is -32030 with data.replicas; bad replicas / timeoutMs are -32602 naming the field', async () => {
    const [a, b] = await startNodes(2, QUIET)
    if (a === undefined || b === undefined) throw new Error('two nodes')
    await connectAll([a, b])
    const server = await startRpcServer({ api: a, host: '127.0.0.1', port: 0 })
    try {
      const client = new ChorusClient(server.url)
      await client.kvPut('rpc', 1, undefined, { replicas: 2 })
      expect((await b.kvGet('rpc')).found).toBe(true)
      const timeout = await client.kvPut('rpc', 2, undefined, { replicas: 3, timeoutMs: 300 }).catch((e: unknown) => e) as ChorusRpcError
      expect(timeout.code).toBe(-32030)
      expect(timeout.data).toMatchObject({ code: 'ERR_REPLICAS_TIMEOUT', replicas: 2, required: 3 })

      const bad: Array<[string, Record<string, unknown>, string]> = [
        ['kv.put', { key: 'k', value: 1, replicas: 0 }, 'params.replicas'],
        ['kv.put', { key: 'k', value: 1, replicas: 65 }, 'params.replicas'],
        ['kv.put', { key: 'k', value: 1, replicas: 'most' }, 'params.replicas'],
        ['kv.delete', { key: 'k', replicas: 1.5 }, 'params.replicas'],
        ['counter.incr', { key: 'k', replicas: 2, timeoutMs: -1 }, 'params.timeoutMs'],
        ['set.add', { key: 'k', members: ['m'], replicas: 2, timeoutMs: 60_001 }, 'params.timeoutMs'],
        ['kv.batch', { ops: [{ op: 'put', key: 'k', value: 1 }], replicas: [2] }, 'params.replicas']
      ]
      for (const [method, params, field] of bad) {
        const e = await client.call(method, params).catch((x: unknown) => x) as ChorusRpcError
        expect(e.code, `${method} ${JSON.stringify(params)}`).toBe(-32602)
        expect(e.data.field).toBe(field)
      }
      // Refused before anything was written.
      expect((await a.counterGet('k')).value).toBe(0)
    } finally {
      await server.close()
    }
  })

  it('a state larger than a replicate frame fails at once with data.reason too-large, the write kept', async () => {
    const [a, b] = await threeNodes()
    const big = (c: string): string => c.repeat(900_000)
    // Three siblings of 0.9 MB on one key: each write supersedes only the first version (its context).
    const { context } = await a.kvPut('big', 'first')
    await a.kvPut('big', big('x'), context)
    await a.kvPut('big', big('y'), context)
    const err = await a.kvPut('big', big('z'), context, { replicas: 2, timeoutMs: 30_000 }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(ReplicasTimeoutError)
    expect((err as ReplicasTimeoutError).data).toMatchObject({ replicas: 1, required: 2, reason: 'too-large' })
    expect((await a.kvGet('big', { all: true })).values).toHaveLength(3)
    expect((await b.kvGet('big')).found).toBe(false)
  })
})
