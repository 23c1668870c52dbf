/**
 * many: 10 and 25 Chorus nodes in one process (50 saturate one event loop: that needs nodes spread over processes) (the library's createChorusNode, real libp2p
 * over loopback TCP, real LevelDB in temp dirs), each dialling 3 random earlier nodes. At a low
 * fixed write rate: write-to-visible latency on every other node, gossip and anti-entropy
 * traffic per node, the peers' penalty counters (an honest cluster must show none), and the
 * idle anti-entropy traffic per node per minute.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createChorusNode, type ChorusNode } from '../../src/node/index.js'
import { distribution, now, round, sleep, value100 } from '../lib/stats.js'
import type { LatencyChart, Suite, SuiteResult, SuiteRow } from '../lib/types.js'

const DIALS_PER_NODE = 3

/** Starts `count` nodes into `nodes` (the caller's, so it can stop those started if one fails). */
async function startMany (count: number, dirs: string[], nodes: ChorusNode[]): Promise<ChorusNode[]> {
  for (let i = 0; i < count; i++) {
    const dir = await mkdtemp(join(tmpdir(), 'chorus-many-'))
    dirs.push(dir)
    const node = await createChorusNode({ dataDir: dir, listen: ['/ip4/127.0.0.1/tcp/0'], mdns: false, logLevel: 'silent' })
    nodes.push(node)
    const earlier = nodes.slice(0, -1).sort(() => Math.random() - 0.5).slice(0, DIALS_PER_NODE)
    for (const peer of earlier) await node.dial(peer.multiaddrs()[0] as string).catch(() => {})
  }
  return nodes
}

async function digestsAgree (nodes: ChorusNode[], timeoutMs: number): Promise<number | null> {
  const t0 = now()
  while (now() - t0 < timeoutMs) {
    const digests = new Set(await Promise.all(nodes.map(async n => (await n.info()).digest)))
    if (digests.size === 1) return now() - t0
    await sleep(50)
  }
  return null
}

/** Sum over the nodes of a counter (all its label sets, or those whose labels contain `labels`). */
async function counterSum (nodes: ChorusNode[], name: string, labels = ''): Promise<number> {
  let sum = 0
  for (const node of nodes) {
    for (const line of (await node.metricsText()).split('\n')) {
      if (!line.startsWith(name) || line.startsWith('#')) continue
      const rest = line.slice(name.length)
      if (rest[0] !== ' ' && rest[0] !== '{') continue
      if (labels !== '' && !rest.includes(labels)) continue
      sum += Number(line.slice(line.lastIndexOf(' ') + 1))
    }
  }
  return sum
}

interface LatencyResult { latencies: number[], expected: number, writes: number }

/** `rate` kv.put/s round-robin over the nodes for `durationMs`; each write timed until every other node's watcher sees it. */
async function latencyAt (nodes: ChorusNode[], rate: number, durationMs: number, tag: string): Promise<LatencyResult> {
  const sentAt = new Map<string, number>()
  const latencies: number[] = []
  const unwatch = nodes.map((node, at) => node.watch(`many/${tag}/`, (event) => {
    const t = sentAt.get(event.key)
    // The writer's own event is not replication.
    if (t !== undefined && Number(event.key.slice(event.key.lastIndexOf('/') + 1)) % nodes.length !== at) latencies.push(now() - t)
  }))
  const total = Math.round(rate * durationMs / 1000)
  const t0 = now()
  for (let i = 0; i < total; i++) {
    const due = t0 + (i * 1000) / rate
    if (due > now()) await sleep(due - now())
    const key = `many/${tag}/${i}`
    sentAt.set(key, now())
    await (nodes[i % nodes.length] as ChorusNode).kvPut(key, value100(i))
  }
  const expected = total * (nodes.length - 1)
  const deadline = now() + 20_000
  while (latencies.length < expected && now() < deadline) await sleep(50)
  for (const u of unwatch) u()
  return { latencies: latencies.sort((a, b) => a - b), expected, writes: total }
}

/** CHORUS_BENCH_MANY=10,25 picks the cluster sizes. */
function sizesFromEnv (): number[] | undefined {
  const v = process.env.CHORUS_BENCH_MANY
  if (v === undefined || v === '') return undefined
  const sizes = v.split(',').map(Number).filter(x => Number.isInteger(x) && x >= 2)
  return sizes.length > 0 ? sizes : undefined
}

export const suite: Suite = {
  name: 'many',
  description: 'N Chorus nodes in one process (createChorusNode: real libp2p over loopback TCP, real LevelDB), each dialling 3 random earlier nodes, default gossip and anti-entropy settings. At 20 kv.put/s round-robin over the nodes for 20 s: time from a write to its change event on each other node, gossip bytes sent per write per node (`chorus_gossip_bytes_sent_total`: relayed messages, IHAVE/IWANT and mesh control, digest announcements), anti-entropy bytes per write per node, penalties and bans (an honest cluster has none). Then 30 s idle: gossip and anti-entropy bytes per node per minute. CPU of the whole process per write.',
  order: 70,
  async run ({ quick }): Promise<SuiteResult> {
    const sizes = sizesFromEnv() ?? (quick ? [5] : [10, 25])
    const progress = (line: string): void => { process.stderr.write(`many: ${line}\n`) }
    const rate = 20
    const durationMs = quick ? 3000 : 20_000
    const idleMs = quick ? 3000 : 30_000
    const rows: SuiteRow[] = []
    const data: Record<string, unknown> = {}
    const notes: string[] = []
    const series: LatencyChart['series'] = []
    for (const n of sizes) {
      const dirs: string[] = []
      const nodes: ChorusNode[] = []
      try {
        const t0 = now()
        await startMany(n, dirs, nodes)
        progress(`${n} nodes started in ${((now() - t0) / 1000).toFixed(1)} s`)
        const warm = await Promise.all(nodes.map(async (node, i) => await node.kvPut(`warm/${i}`, value100(i))))
        const agreeMs = await digestsAgree(nodes, 60_000)
        if (agreeMs == null) notes.push(`${n} nodes: digests did not agree within 60 s of the warm-up (${warm.length} writes).`)
        const startS = (now() - t0) / 1000
        progress(`${n} nodes agree after ${startS.toFixed(1)} s`)
        const aeBefore = await counterSum(nodes, 'chorus_ae_bytes_total', 'direction="sent"')
        const gossipBefore = await counterSum(nodes, 'chorus_gossip_bytes_sent_total')
        const cpuBefore = process.cpuUsage()
        const r = await latencyAt(nodes, rate, durationMs, `n${n}`)
        const cpu = process.cpuUsage(cpuBefore)
        const aeDuring = await counterSum(nodes, 'chorus_ae_bytes_total', 'direction="sent"') - aeBefore
        const gossipPerWritePerNode = (await counterSum(nodes, 'chorus_gossip_bytes_sent_total') - gossipBefore) / r.writes / n
        data[`n${n}GossipBytesPerWritePerNode`] = gossipPerWritePerNode
        const d = distribution(r.latencies)
        data[`n${n}`] = d
        const cpuUsPerWrite = (cpu.user + cpu.system) / r.writes
        data[`n${n}CpuUsPerWrite`] = cpuUsPerWrite
        progress(`${n} nodes: latency run done, ${r.latencies.length}/${r.expected} seen`)
        const idleBefore = await counterSum(nodes, 'chorus_ae_bytes_total', 'direction="sent"')
        const idleGossipBefore = await counterSum(nodes, 'chorus_gossip_bytes_sent_total')
        await sleep(idleMs)
        const idlePerNodePerMin = (await counterSum(nodes, 'chorus_ae_bytes_total', 'direction="sent"') - idleBefore) / n / (idleMs / 60_000)
        const idleGossipPerNodePerMin = (await counterSum(nodes, 'chorus_gossip_bytes_sent_total') - idleGossipBefore) / n / (idleMs / 60_000)
        data[`n${n}IdleAeBytesPerNodePerMin`] = idlePerNodePerMin
        data[`n${n}IdleGossipBytesPerNodePerMin`] = idleGossipPerNodePerMin
        const penalties = await counterSum(nodes, 'chorus_peer_penalties_total')
        const bans = await counterSum(nodes, 'chorus_peer_bans_total')
        data[`n${n}Penalties`] = penalties
        rows.push({
          name: `${n} nodes, ${rate} writes/s, write → visible`,
          metrics: {
            p50: round(d.p50, 1),
            p95: round(d.p95, 1),
            p99: round(d.p99, 1),
            max: round(d.max, 0),
            seen: `${r.latencies.length}/${r.expected}`,
            'process CPU/write': Math.round(cpuUsPerWrite),
            'gossip sent per write per node': Math.round(gossipPerWritePerNode),
            'AE sent per write per node': Math.round(aeDuring / r.writes / n),
            'gossip idle per node per minute': Math.round(idleGossipPerNodePerMin),
            'AE idle per node per minute': Math.round(idlePerNodePerMin),
            'penalties / bans': `${penalties} / ${bans}`,
            'start + agree': round(startS, 1)
          }
        })
        series.push({ label: `${n} nodes`, p50: d.p50, p95: d.p95, p99: d.p99, max: d.max })
      } catch (err) {
        notes.push(`${n} nodes: failed: ${(err as Error).message.split('\n')[0] ?? ''}`)
      } finally {
        await Promise.allSettled(nodes.map(async node => { await node.stop() }))
        await Promise.allSettled(dirs.map(async dir => { await rm(dir, { recursive: true, force: true }) }))
      }
    }
    notes.unshift('All nodes share one Node.js process (one event loop) and the machine\'s 2 cores, so latency grows with N partly because the nodes queue behind each other; read it as an upper bound. "process CPU/write" is the whole process (every node, the client, and each node\'s background work: gossipsub heartbeats, digest announcements, anti-entropy rounds) over the write phase, per write: at this low rate mostly the background.')
    return {
      units: { p50: 'ms', p95: 'ms', p99: 'ms', max: 'ms', 'process CPU/write': 'µs', 'gossip sent per write per node': 'B', 'gossip idle per node per minute': 'B', 'AE sent per write per node': 'B', 'AE idle per node per minute': 'B', 'start + agree': 's' },
      rows,
      data,
      notes,
      charts: [{ kind: 'latency', id: 'many-latency', title: 'Write-to-visible latency vs node count (20 writes/s, in one process)', unit: 'ms', log: true, series }]
    }
  }
}
