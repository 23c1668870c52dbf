/**
 * many: 10, 25 and 50 Chorus nodes, 5 to a process (one event loop saturates at about 25
 * nodes), each an in-process node of the library's createChorusNode (real libp2p over loopback
 * TCP, real LevelDB in temp dirs) dialling 3 random earlier nodes. At a low fixed write rate:
 * write-to-visible latency on every other node, gossip and anti-entropy bytes per write per
 * node, the peers' penalty counters (an honest cluster must show none), the idle traffic per
 * node per minute, and the time to agree again after half the cluster was partitioned for a minute.
 */
import { NodeHosts, type HostedEvent } from '../lib/node-hosts.js'
import { distribution, now, round, sleep, value100 } from '../lib/stats.js'
import type { LatencyChart, Suite, SuiteResult, SuiteRow } from '../lib/types.js'

const DIALS_PER_NODE = 3
const NODES_PER_PROCESS = 5

/** A cluster, and the dials that connected it (node, node it dialled). */
async function startMany (count: number): Promise<{ cluster: NodeHosts, edges: Array<[number, number]> }> {
  const cluster = await NodeHosts.start(count, NODES_PER_PROCESS)
  const edges: Array<[number, number]> = []
  try {
    for (let i = 1; i < count; i++) {
      const earlier = Array.from({ length: i }, (_, j) => j).sort(() => Math.random() - 0.5).slice(0, DIALS_PER_NODE)
      for (const j of earlier) edges.push([i, j])
      await Promise.all(earlier.map(async j => { await cluster.dial(i, cluster.addrs[j] as string) }))
    }
  } catch (err) {
    await cluster.stop()
    throw err
  }
  return { cluster, edges }
}

/** Writes `rate` kv.put/s round-robin over the nodes for `ms` (no timing); the writes made. */
async function writeFor (cluster: NodeHosts, rate: number, ms: number, tag: string): Promise<number> {
  const total = Math.round(rate * ms / 1000)
  const t0 = now()
  for (let i = 0; i < total; i++) {
    const due = t0 + (i * 1000) / rate
    if (due > now()) await sleep(due - now())
    await cluster.put(i % cluster.size, `many/${tag}/${i}`, value100(i))
  }
  return total
}

/**
 * About half the cluster (whole processes) cut off from the rest for `ms` while both sides take
 * writes; then the dials are made again and the time until every digest agrees is measured.
 */
async function partitionHeal (cluster: NodeHosts, edges: Array<[number, number]>, rate: number, ms: number, tag: string): Promise<{ at: number, writes: number, healMs: number | null }> {
  const at = Math.max(NODES_PER_PROCESS, Math.floor(cluster.size / 2 / NODES_PER_PROCESS) * NODES_PER_PROCESS)
  const cutAt = now()
  await cluster.partition(at, ms)
  const writes = await writeFor(cluster, rate, ms - (now() - cutAt) - 500, tag)
  await sleep(Math.max(0, cutAt + ms + 100 - now())) // the bans have run out
  const healAt = now()
  await Promise.all(edges.map(async ([i, j]) => { await cluster.dial(i, cluster.addrs[j] as string) }))
  const agreed = await digestsAgree(cluster, 120_000)
  return { at, writes, healMs: agreed == null ? null : now() - healAt }
}

async function digestsAgree (cluster: NodeHosts, timeoutMs: number): Promise<number | null> {
  const t0 = now()
  while (now() - t0 < timeoutMs) {
    if (new Set(await cluster.digests()).size === 1) return now() - t0
    await sleep(100)
  }
  return null
}

interface LatencyResult { latencies: number[], expected: number, writes: number }

const epochNow = (): number => performance.timeOrigin + performance.now()

/** `rate` kv.put/s round-robin over the nodes for `durationMs`; each write timed until every other node's watcher sees it. */
async function latencyAt (cluster: NodeHosts, rate: number, durationMs: number, tag: string): Promise<LatencyResult> {
  const n = cluster.size
  const sentAt = new Map<string, number>()
  const latencies: number[] = []
  await cluster.watch(`many/${tag}/`, (event: HostedEvent) => {
    const t = sentAt.get(event.key)
    // The writer's own event is not replication.
    if (t !== undefined && Number(event.key.slice(event.key.lastIndexOf('/') + 1)) % n !== event.node) latencies.push(event.at - t)
  })
  const total = Math.round(rate * durationMs / 1000)
  const t0 = now()
  for (let i = 0; i < total; i++) {
    const due = t0 + (i * 1000) / rate
    if (due > now()) await sleep(due - now())
    const key = `many/${tag}/${i}`
    sentAt.set(key, epochNow())
    await cluster.put(i % n, key, value100(i))
  }
  const expected = total * (n - 1)
  const deadline = now() + 20_000
  while (latencies.length < expected && now() < deadline) await sleep(50)
  await cluster.unwatch()
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
  description: 'N Chorus nodes, 5 to a process (createChorusNode: real libp2p over loopback TCP, real LevelDB), each dialling 3 random earlier nodes, default gossip and anti-entropy settings. At 20 kv.put/s round-robin over the nodes for 20 s: time from a write to its change event on each other node, gossip bytes sent per write per node (`chorus_gossip_bytes_sent_total`: relayed messages, IHAVE/IWANT and mesh control, digest announcements), anti-entropy bytes per write per node, penalties and bans (an honest cluster has none). Then 30 s idle: CPU, gossip and anti-entropy bytes per node per minute. Then about half the cluster (whole processes) is cut off from the rest for 60 s while both sides take the same writes; "heal after a partition" is the time from the dials being made again to every digest agreeing. CPU of the node processes per write and node.',
  order: 70,
  async run ({ quick }): Promise<SuiteResult> {
    const sizes = sizesFromEnv() ?? (quick ? [5] : [10, 25, 50])
    const progress = (line: string): void => { process.stderr.write(`many: ${line}\n`) }
    const rate = 20
    const durationMs = quick ? 3000 : 20_000
    const idleMs = quick ? 3000 : 30_000
    const partitionMs = quick ? 4000 : 60_000
    const rows: SuiteRow[] = []
    const data: Record<string, unknown> = {}
    const notes: string[] = []
    const series: LatencyChart['series'] = []
    for (const n of sizes) {
      let cluster: NodeHosts | undefined
      try {
        const t0 = now()
        const started = await startMany(n)
        cluster = started.cluster
        progress(`${n} nodes started in ${cluster.processes} processes in ${((now() - t0) / 1000).toFixed(1)} s`)
        for (let i = 0; i < n; i++) await cluster.put(i, `warm/${i}`, value100(i))
        const agreeMs = await digestsAgree(cluster, 60_000)
        if (agreeMs == null) notes.push(`${n} nodes: digests did not agree within 60 s of the warm-up (${n} writes).`)
        const startS = (now() - t0) / 1000
        progress(`${n} nodes agree after ${startS.toFixed(1)} s`)
        const aeBefore = await cluster.counter('chorus_ae_bytes_total', 'direction="sent"')
        const gossipBefore = await cluster.counter('chorus_gossip_bytes_sent_total')
        const cpuBefore = cluster.cpuMs()
        const r = await latencyAt(cluster, rate, durationMs, `n${n}`)
        const cpuMs = cluster.cpuMs() - cpuBefore
        const aeDuring = await cluster.counter('chorus_ae_bytes_total', 'direction="sent"') - aeBefore
        const gossipPerWritePerNode = (await cluster.counter('chorus_gossip_bytes_sent_total') - gossipBefore) / r.writes / n
        data[`n${n}GossipBytesPerWritePerNode`] = gossipPerWritePerNode
        const d = distribution(r.latencies)
        data[`n${n}`] = d
        const cpuUsPerWritePerNode = cpuMs * 1000 / r.writes / n
        data[`n${n}CpuUsPerWritePerNode`] = cpuUsPerWritePerNode
        progress(`${n} nodes: latency run done, ${r.latencies.length}/${r.expected} seen`)
        const idleBefore = await cluster.counter('chorus_ae_bytes_total', 'direction="sent"')
        const idleGossipBefore = await cluster.counter('chorus_gossip_bytes_sent_total')
        const idleCpuBefore = cluster.cpuMs()
        await sleep(idleMs)
        const idleMinutes = idleMs / 60_000
        const idlePerNodePerMin = (await cluster.counter('chorus_ae_bytes_total', 'direction="sent"') - idleBefore) / n / idleMinutes
        const idleGossipPerNodePerMin = (await cluster.counter('chorus_gossip_bytes_sent_total') - idleGossipBefore) / n / idleMinutes
        const idleCpuPerNodePerS = (cluster.cpuMs() - idleCpuBefore) / n / (idleMs / 1000)
        data[`n${n}IdleAeBytesPerNodePerMin`] = idlePerNodePerMin
        data[`n${n}IdleGossipBytesPerNodePerMin`] = idleGossipPerNodePerMin
        data[`n${n}IdleCpuMsPerNodePerS`] = idleCpuPerNodePerS
        progress(`${n} nodes: idle phase done; partitioning for ${partitionMs / 1000} s`)
        const heal = await partitionHeal(cluster, started.edges, rate, partitionMs, `p${n}`)
        data[`n${n}HealMs`] = heal.healMs
        progress(`${n} nodes: healed in ${heal.healMs == null ? 'more than 120 s' : `${(heal.healMs / 1000).toFixed(1)} s`}`)
        if (heal.healMs == null) notes.push(`${n} nodes: digests still differed 120 s after the partition healed.`)
        const penalties = await cluster.counter('chorus_peer_penalties_total')
        const bans = await cluster.counter('chorus_peer_bans_total')
        data[`n${n}Penalties`] = penalties
        rows.push({
          name: `${n} nodes (${cluster.processes} processes), ${rate} writes/s, write → visible`,
          metrics: {
            p50: round(d.p50, 1),
            p95: round(d.p95, 1),
            p99: round(d.p99, 1),
            max: round(d.max, 0),
            seen: `${r.latencies.length}/${r.expected}`,
            'CPU/write per node': Math.round(cpuUsPerWritePerNode),
            'gossip sent per write per node': Math.round(gossipPerWritePerNode),
            'AE sent per write per node': Math.round(aeDuring / r.writes / n),
            'idle CPU per node': round(idleCpuPerNodePerS, 1),
            'gossip idle per node per minute': Math.round(idleGossipPerNodePerMin),
            'AE idle per node per minute': Math.round(idlePerNodePerMin),
            'heal after a partition': heal.healMs == null ? null : round(heal.healMs / 1000, 1),
            'penalties / bans': `${penalties} / ${bans}`,
            'start + agree': round(startS, 1)
          }
        })
        series.push({ label: `${n} nodes`, p50: d.p50, p95: d.p95, p99: d.p99, max: d.max })
      } catch (err) {
        notes.push(`${n} nodes: failed: ${(err as Error).message.split('\n')[0] ?? ''}`)
      } finally {
        await cluster?.stop()
      }
    }
    notes.unshift(`Nodes share processes ${NODES_PER_PROCESS} to a process (one event loop each) and the machine's 2 cores, so latency grows with N partly because the nodes queue behind each other; read it as an upper bound. "CPU/write per node" is the CPU time of all node processes over the write phase (every node's background work included: gossipsub heartbeats, digest announcements, anti-entropy rounds) per write and per node: at this low rate mostly the background, which "idle CPU per node" (ms of CPU per second) shows alone.`)
    return {
      units: { p50: 'ms', p95: 'ms', p99: 'ms', max: 'ms', 'CPU/write per node': 'µs', 'idle CPU per node': 'ms/s', 'gossip sent per write per node': 'B', 'gossip idle per node per minute': 'B', 'AE sent per write per node': 'B', 'AE idle per node per minute': 'B', 'heal after a partition': 's', 'start + agree': 's' },
      rows,
      data,
      notes,
      charts: [{ kind: 'latency', id: 'many-latency', title: 'Write-to-visible latency vs node count (20 writes/s, 5 nodes to a process)', unit: 'ms', log: true, series }]
    }
  }
}
