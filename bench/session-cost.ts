/**
 * What sessions cost, measured roughly (docs/consistency.md "Sessions", Cost):
 *   node --import tsx bench/session-cost.ts
 * Two real nodes in this process (loopback TCP, LevelDB in temp dirs, gossip on), the RPC
 * handler called directly (no HTTP, so the figure is the node's own work):
 *   - the token's size;
 *   - µs per call on the node that gave the token (nothing to wait for): kv.get with and
 *     without `session`, interleaved in rounds, median of the rounds;
 *   - a hop: a put on A, then a kv.get with its token on B (one vector query and one explicit
 *     anti-entropy exchange), against the same get without the token, over KEYS keys.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createChorusNode, type ChorusNode } from '../src/node/index.js'
import { createRpcHandler } from '../src/rpc/index.js'

const KEYS = Number(process.env.KEYS ?? 10_000)
const ROUNDS = 20
const CALLS = 500
const HOPS = 40

async function start (dir: string): Promise<ChorusNode> {
  return await createChorusNode({ dataDir: dir, listen: ['/ip4/127.0.0.1/tcp/0'], mdns: false, logLevel: 'silent', aeIntervalMs: 60_000 })
}

function median (xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.floor(s.length / 2)] as number
}

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
  for (let i = 0; i < KEYS; i += 500) await a.kvBatch(Array.from({ length: Math.min(500, KEYS - i) }, (_, j) => ({ op: 'put' as const, key: `k${i + j}`, value: i + j })))
  await b.sync(a.peerId)

  const token = (await call(ha, 'kv.put', { key: 'x', value: 1 })).session as string
  console.log(`token: ${token.length} characters (${Buffer.from(token, 'base64url').length} bytes)`)

  const plain: number[] = []
  const withSession: number[] = []
  for (let r = 0; r < ROUNDS; r++) {
    let t = performance.now()
    for (let i = 0; i < CALLS; i++) await call(ha, 'kv.get', { key: `k${i}` })
    plain.push((performance.now() - t) * 1000 / CALLS)
    t = performance.now()
    for (let i = 0; i < CALLS; i++) await call(ha, 'kv.get', { key: `k${i}`, session: token })
    withSession.push((performance.now() - t) * 1000 / CALLS)
  }
  console.log(`kv.get on the token's node: ${median(plain).toFixed(1)} µs without session, ${median(withSession).toFixed(1)} µs with (+${(median(withSession) - median(plain)).toFixed(1)} µs)`)

  const hop: number[] = []
  const noHop: number[] = []
  for (let i = 0; i < HOPS; i++) {
    const put = await call(ha, 'kv.put', { key: `hop${i}`, value: i })
    let t = performance.now()
    await call(hb, 'kv.get', { key: `hop${i}` })
    noHop.push(performance.now() - t)
    t = performance.now()
    const read = await call(hb, 'kv.get', { key: `hop${i}`, session: put.session })
    hop.push(performance.now() - t)
    if (read.found !== true) throw new Error('the hop did not read the write')
  }
  console.log(`a hop (${KEYS} keys, gossip on): kv.get on B with A's token ${median(hop).toFixed(2)} ms median, max ${Math.max(...hop).toFixed(1)} ms; without the token ${median(noHop).toFixed(2)} ms`)
} finally {
  await a.stop()
  await b.stop()
  for (const d of dirs) await rm(d, { recursive: true, force: true })
}
