/**
 * What sessions cost. Used by the `promises` suite (bench/suites/promises.ts), and standalone:
 *   node --import tsx bench/session-cost.ts        (KEYS=1000 for a smaller store)
 * Two real nodes in this process (loopback TCP, LevelDB in temp dirs, gossip on), the RPC
 * handler called directly (no HTTP, so the figure is the node's own work):
 *   - the token's size;
 *   - per call on the node that gave the token (nothing to wait for): kv.get with and without
 *     `session`, interleaved in rounds, wall and CPU per call, median of the rounds after the first;
 *   - a hop: a put on A, then a kv.get with its token on B (one vector query and one explicit
 *     anti-entropy exchange), against the same get without the token.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createChorusNode, type ChorusNode } from '../src/node/index.js'
import { createRpcHandler } from '../src/rpc/index.js'
import { cpuUs, interleaved, median, type PerCall } from './lib/cost.js'
import { now } from './lib/stats.js'

export interface SessionOptions { keys: number, rounds: number, calls: number, hops: number }
export interface SessionCost {
  keys: number
  tokenChars: number
  tokenBytes: number
  getPlain: PerCall
  getSession: PerCall
  /** ms, median and max of the hops; then the same get on B without the token. */
  hopMs: { median: number, max: number }
  noHopMs: number
  /** CPU of both nodes (this process) per get on B, µs: with A's token (the hop) and without. */
  hopCpuUs: number
  noHopCpuUs: number
  hops: number
}

async function start (dir: string): Promise<ChorusNode> {
  return await createChorusNode({ dataDir: dir, listen: ['/ip4/127.0.0.1/tcp/0'], mdns: false, logLevel: 'silent', aeIntervalMs: 60_000 })
}

export async function measureSessions (opts: SessionOptions): Promise<SessionCost> {
  const dirs = [await mkdtemp(join(tmpdir(), 'sess-a-')), await mkdtemp(join(tmpdir(), 'sess-b-'))]
  const a = await start(dirs[0] as string)
  const b = await start(dirs[1] as string)
  try {
    await a.dial(b.multiaddrs()[0] as string)
    const ha = createRpcHandler({ api: a })
    const hb = createRpcHandler({ api: b })
    let id = 0
    const call = async (h: typeof ha, method: string, params: Record<string, unknown>): Promise<any> => {
      const reply = await h.handle({ jsonrpc: '2.0', id: ++id, method, params }) as { result?: any, error?: any }
      if (reply.error !== undefined) throw new Error(JSON.stringify(reply.error))
      return reply.result
    }
    const { keys } = opts
    for (let i = 0; i < keys; i += 500) await a.kvBatch(Array.from({ length: Math.min(500, keys - i) }, (_, j) => ({ op: 'put' as const, key: `k${i + j}`, value: i + j })))
    await b.sync(a.peerId)

    const token = (await call(ha, 'kv.put', { key: 'x', value: 1 })).session as string
    const gets = await interleaved({
      plain: async i => await call(ha, 'kv.get', { key: `k${i % keys}` }),
      withSession: async i => await call(ha, 'kv.get', { key: `k${i % keys}`, session: token })
    }, opts.calls, opts.rounds)

    const hop: number[] = []
    const noHop: number[] = []
    const hopCpu: number[] = []
    const noHopCpu: number[] = []
    for (let i = 0; i < opts.hops; i++) {
      const put = await call(ha, 'kv.put', { key: `hop${i}`, value: i })
      let c = cpuUs()
      let t = now()
      await call(hb, 'kv.get', { key: `hop${i}` })
      noHop.push(now() - t)
      noHopCpu.push(cpuUs() - c)
      c = cpuUs()
      t = now()
      const read = await call(hb, 'kv.get', { key: `hop${i}`, session: put.session })
      hop.push(now() - t)
      hopCpu.push(cpuUs() - c)
      if (read.found !== true) throw new Error('the hop did not read the write')
    }
    return {
      keys,
      tokenChars: token.length,
      tokenBytes: Buffer.from(token, 'base64url').length,
      getPlain: gets.plain,
      getSession: gets.withSession,
      hopMs: { median: median(hop), max: Math.max(...hop) },
      noHopMs: median(noHop),
      hopCpuUs: median(hopCpu),
      noHopCpuUs: median(noHopCpu),
      hops: opts.hops
    }
  } finally {
    await a.stop()
    await b.stop()
    for (const d of dirs) await rm(d, { recursive: true, force: true })
  }
}

if (import.meta.url === `file://${process.argv[1] ?? ''}`) {
  const r = await measureSessions({ keys: Number(process.env.KEYS ?? 10_000), rounds: 21, calls: 500, hops: 40 })
  console.log(`token: ${r.tokenChars} characters (${r.tokenBytes} bytes)`)
  console.log(`kv.get on the token's node: ${r.getPlain.wallUs.toFixed(1)} µs (CPU ${r.getPlain.cpuUs.toFixed(1)}) without session, ${r.getSession.wallUs.toFixed(1)} µs (CPU ${r.getSession.cpuUs.toFixed(1)}) with`)
  console.log(`a hop (${r.keys} keys, gossip on): kv.get on B with A's token ${r.hopMs.median.toFixed(2)} ms median, max ${r.hopMs.max.toFixed(1)} ms, CPU ${r.hopCpuUs.toFixed(0)} µs; without the token ${r.noHopMs.toFixed(2)} ms, CPU ${r.noHopCpuUs.toFixed(0)} µs`)
}
