/**
 * `--replicas` on the CLI's write commands, run as real processes against real nodes: the write
 * returns once that many nodes hold it; a timeout exits 1 naming ERR_REPLICAS_TIMEOUT and how
 * many nodes had it; a bad value is a usage error.
 */
import { describe, expect, it, onTestFinished } from 'vitest'
import { startRpcServer } from '../../src/rpc/index.js'
import { connectAll, startNodes } from '../helpers/nodes.js'
import { chorus } from './helpers.js'

describe('chorus put/del/incr/sadd/srem --replicas', () => {
  it('waits for the replicas, reports a timeout, refuses bad values', async () => {
    // No gossip and no scheduled anti-entropy: only the replicate protocol spreads a write.
    const [a, b] = await startNodes(2, { gossip: false, aeIntervalMs: 600_000 })
    if (a === undefined || b === undefined) throw new Error('two nodes')
    await connectAll([a, b])
    const server = await startRpcServer({ api: a, host: '127.0.0.1', port: 0 })
    onTestFinished(async () => { await server.close() })
    const u = ['--url', server.url]

    const put = await chorus(['put', 'order', '"paid"', '--replicas', '2', '--timeout', '10000', ...u])
    expect(put.code, put.stderr).toBe(0)
    expect((await b.kvGet('order')).value).toBe('paid')

    expect((await chorus(['incr', 'n', '3', '--replicas', 'majority', ...u])).code).toBe(0)
    expect((await b.counterGet('n')).value).toBe(3)
    expect((await chorus(['sadd', 's', 'x', 'y', '--replicas', '2', ...u])).code).toBe(0)
    expect((await chorus(['srem', 's', 'x', '--replicas', '2', ...u])).code).toBe(0)
    expect((await b.setGet('s')).members).toEqual(['y'])
    expect((await chorus(['del', 'order', '--replicas', '2', ...u])).code).toBe(0)
    expect((await b.kvGet('order')).found).toBe(false)

    const late = await chorus(['put', 'more', '1', '--replicas', '3', '--timeout', '500', ...u])
    expect(late.code).toBe(1)
    expect(late.stderr).toMatch(/committed on 2 of the 3 nodes.*\(ERR_REPLICAS_TIMEOUT, -32030\)/)

    for (const bad of [['--replicas', '0'], ['--replicas', 'all'], ['--replicas', '2', '--timeout', '60001']]) {
      const r = await chorus(['put', 'k', '1', ...bad, ...u])
      expect(r.code, bad.join(' ')).toBe(2)
    }
    expect((await a.kvGet('k')).found).toBe(false)
  })
})
