/**
 * What `replicas` adds to a write: `node --import tsx bench/durable-writes.ts [writes]`.
 *
 * For clusters of 3 and 5 `bin/chorus` processes on loopback (run `npm run build` first), one
 * client writes 100-byte values to one node, one call at a time, interleaving the modes
 * (plain, `replicas: 2`, `replicas: "majority"`) so that a drift of the machine's load hits
 * them alike; prints latency percentiles per mode and what a push puts on the wire per peer.
 * Not part of `npm run bench` (it rewrites no docs); figures go to docs/consistency.md by hand.
 */
import { encodeRegister } from '../src/codec/index.js'
import { encodePush } from '../src/replication/index.js'
import { cpuDuring, killAll, startCluster, stopAll, waitMesh } from './lib/chorus.js'
import { distribution, now, round, value100 } from './lib/stats.js'

const WRITES = Number(process.argv[2] ?? 300)
const WARMUP = 30
const MODES = [
  { name: 'plain', params: {} },
  { name: 'replicas: 2', params: { replicas: 2 } },
  { name: 'replicas: majority', params: { replicas: 'majority' } }
] as const

async function measure (size: number): Promise<void> {
  const nodes = await startCluster(size)
  try {
    if (!await waitMesh(nodes, 30_000)) throw new Error('no full mesh')
    const writer = nodes[0]
    if (writer === undefined) throw new Error('no node')
    // "majority" counts known members: wait until the writer knows every other node.
    for (let i = 0; i < 300; i++) {
      const members = await writer.rpc.call<unknown[]>('cluster.members', {})
      if (members.length >= size - 1) break
      await new Promise(resolve => setTimeout(resolve, 100))
    }
    const samples = new Map<string, number[]>(MODES.map(m => [m.name, []]))
    for (let i = 0; i < WARMUP + WRITES; i++) {
      for (const mode of MODES) {
        const t0 = now()
        await writer.rpc.call('kv.put', { key: `bench/${mode.name}/${i}`, value: value100(i), ...mode.params })
        if (i >= WARMUP) samples.get(mode.name)?.push(now() - t0)
      }
    }
    // CPU per write, all nodes together: one block of writes per mode (CPU cannot be told apart when interleaved).
    const cpu = new Map<string, number>()
    for (const mode of MODES) {
      const { cpuMs } = await cpuDuring(nodes, async () => {
        for (let i = 0; i < WRITES; i++) await writer.rpc.call('kv.put', { key: `cpu/${mode.name}/${i}`, value: value100(i), ...mode.params })
      })
      cpu.set(mode.name, cpuMs.reduce<number>((sum, ms) => sum + (ms ?? 0), 0) / WRITES)
    }
    for (const mode of MODES) {
      process.stdout.write(`${size} nodes  ${mode.name.padEnd(20)} CPU of all nodes per write ${round((cpu.get(mode.name) ?? 0) * 1000, 0)} µs\n`)
    }
    for (const mode of MODES) {
      const d = distribution(samples.get(mode.name) ?? [])
      process.stdout.write(`${size} nodes  ${mode.name.padEnd(20)} n=${d.n}  p50 ${round(d.p50, 3)} ms  p95 ${round(d.p95, 3)} ms  p99 ${round(d.p99, 3)} ms  mean ${round(d.mean, 3)} ms\n`)
    }
  } finally {
    await stopAll(nodes)
  }
}

/** The PUSH frame of one such write: a register with one version of a 100-byte value. */
function pushBytes (): number {
  const node = '12D3KooW' + 'x'.repeat(44)
  const state = encodeRegister({ vv: { [node]: 1 }, siblings: [{ node, counter: 1, hlc: { wall: Date.now(), logical: 0 }, value: JSON.stringify(value100(1)) }] })
  return encodePush([{ storeKey: `r/bench/replicas: 2/${WRITES}`, state }]).byteLength
}

process.on('SIGINT', () => { killAll(); process.exit(130) })
process.stdout.write(`PUSH frame for a 100-byte value: ${pushBytes()} B per peer (+ its length prefix); ACK frame: 4 B\n`)
for (const size of [3, 5]) await measure(size)
