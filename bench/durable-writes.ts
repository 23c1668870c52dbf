/**
 * What `replicas` adds to a write. Used by the `promises` suite (bench/suites/promises.ts), and
 * standalone: `node --import tsx bench/durable-writes.ts [writes]` (run `npm run build` first).
 *
 * For clusters of 3 and 5 `bin/chorus` processes on loopback, one client writes 100-byte values
 * to one node, one call at a time, interleaving the modes (plain, `replicas: 2`,
 * `replicas: "majority"`) so that a drift of the machine's load hits them alike: latency
 * percentiles per mode. Then one block of writes per mode for the CPU all nodes used per write
 * (CPU cannot be told apart when the modes are interleaved). Also what a push puts on the wire.
 */
import { encodeRegister } from '../src/codec/index.js'
import { encodePush } from '../src/replication/index.js'
import { cpuDuring, killAll, startCluster, stopAll, waitMesh } from './lib/chorus.js'
import { distribution, now, round, sleep, value100, type Distribution } from './lib/stats.js'

export const DURABLE_MODES = [
  { name: 'plain', params: {} },
  { name: 'replicas: 2', params: { replicas: 2 } },
  { name: 'replicas: "majority"', params: { replicas: 'majority' } }
] as const

export interface DurableModeResult { mode: string, latency: Distribution, cpuUsPerWrite: number | null }
export interface DurableSizeResult { nodes: number, modes: DurableModeResult[] }
export interface DurableOptions { sizes: number[], writes: number, warmup: number }

/** One cluster of `size` nodes: interleaved latency, then CPU per write per mode, summed over all nodes. */
async function measureSize (size: number, writes: number, warmup: number): Promise<DurableSizeResult> {
  const nodes = await startCluster(size)
  try {
    if (!await waitMesh(nodes, 30_000)) throw new Error(`${size} nodes: no full mesh in 30 s`)
    const writer = nodes[0]
    if (writer === undefined) throw new Error('no node')
    // "majority" counts known members: wait until the writer knows every other node.
    for (let i = 0; i < 300; i++) {
      const members = await writer.rpc.call<unknown[]>('cluster.members', {})
      if (members.length >= size - 1) break
      await sleep(100)
    }
    const samples = new Map<string, number[]>(DURABLE_MODES.map(m => [m.name, []]))
    for (let i = 0; i < warmup + writes; i++) {
      for (const mode of DURABLE_MODES) {
        const t0 = now()
        await writer.rpc.call('kv.put', { key: `bench/${mode.name}/${i}`, value: value100(i), ...mode.params })
        if (i >= warmup) samples.get(mode.name)?.push(now() - t0)
      }
    }
    const modes: DurableModeResult[] = []
    for (const mode of DURABLE_MODES) {
      const { cpuMs } = await cpuDuring(nodes, async () => {
        for (let i = 0; i < writes; i++) await writer.rpc.call('kv.put', { key: `cpu/${mode.name}/${i}`, value: value100(i), ...mode.params })
      })
      const cpuUsPerWrite = cpuMs.some(c => c == null) ? null : (cpuMs as number[]).reduce((sum, ms) => sum + ms, 0) * 1000 / writes
      modes.push({ mode: mode.name, latency: distribution(samples.get(mode.name) ?? []), cpuUsPerWrite })
    }
    return { nodes: size, modes }
  } finally {
    await stopAll(nodes)
  }
}

export async function measureDurableWrites (opts: DurableOptions): Promise<DurableSizeResult[]> {
  const out: DurableSizeResult[] = []
  for (const size of opts.sizes) out.push(await measureSize(size, opts.writes, opts.warmup))
  return out
}

/** The PUSH frame of one such write: a register with one version of a 100-byte value. */
export function pushFrameBytes (): number {
  const node = '12D3KooW' + 'x'.repeat(44)
  const state = encodeRegister({ vv: { [node]: 1 }, siblings: [{ node, counter: 1, hlc: { wall: Date.now(), logical: 0 }, value: JSON.stringify(value100(1)) }] })
  return encodePush([{ storeKey: 'r/bench/replicas: 2/300', state }]).byteLength
}

if (import.meta.url === `file://${process.argv[1] ?? ''}`) {
  process.on('SIGINT', () => { killAll(); process.exit(130) })
  const writes = Number(process.argv[2] ?? 300)
  process.stdout.write(`PUSH frame for a 100-byte value: ${pushFrameBytes()} B per peer (+ its length prefix); ACK frame: 4 B\n`)
  for (const r of await measureDurableWrites({ sizes: [3, 5], writes, warmup: 30 })) {
    for (const m of r.modes) {
      const d = m.latency
      process.stdout.write(`${r.nodes} nodes  ${m.mode.padEnd(22)} n=${d.n}  p50 ${round(d.p50, 3)} ms  p95 ${round(d.p95, 3)} ms  p99 ${round(d.p99, 3)} ms  CPU of all nodes per write ${round(m.cpuUsPerWrite, 0)} µs\n`)
    }
  }
}
