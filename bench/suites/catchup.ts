/**
 * catchup: a node is stopped while N writes happen on the others, then restarted (same data
 * dir, bootstrapping to the others); time until its digest equals theirs.
 */
import { chorusUnavailable, crashNotes, dialAddrs, startChorus, startCluster, stopAll, waitConverged, waitMesh, type ChorusNode } from '../lib/chorus.js'
import { now, pool, round, sleep, value100 } from '../lib/stats.js'
import type { BarChart, Suite, SuiteResult, SuiteRow } from '../lib/types.js'

export const suite: Suite = {
  name: 'catchup',
  description: 'Three `bin/chorus` nodes on 127.0.0.1 (two in --quick). One is stopped (SIGTERM) while N writes (kv.batch of 1,000, spread over the others) happen; it is restarted on its data dir with the others as bootstrap peers, and we time until its `node.info` digest equals the others\' — from its `ready` line (and from the spawn). Default anti-entropy settings.',
  order: 40,
  async run ({ quick }): Promise<SuiteResult> {
    const why = await chorusUnavailable()
    if (why != null) return { rows: [], skipped: why }
    const backlogs = quick ? [1000] : [1000, 100_000]
    const rows: SuiteRow[] = []
    const data: Record<string, number | null> = {}
    const notes: string[] = []
    const chart: BarChart = { kind: 'bar', id: 'catchup', title: 'Catch-up of a restarted node (from ready to equal digests)', unit: 'ms (lower is better)', log: true, bars: [] }
    let nodes: ChorusNode[] = []
    try {
      nodes = await startCluster(quick ? 2 : 3)
      await waitMesh(nodes, 20_000)
      let seq = 0
      for (const n of backlogs) {
        const late = nodes[nodes.length - 1]
        const others = nodes.slice(0, -1)
        if (late == null) throw new Error('no node')
        await late.stop()
        const tw = now()
        const batches = Math.ceil(n / 1000)
        await pool(batches, 2, async (b) => {
          const node = others[b % others.length]
          if (node == null) return
          const ops = []
          for (let j = 0; j < Math.min(1000, n - b * 1000); j++) { const k = seq++; ops.push({ op: 'put', key: `cu/${n}/${k}`, value: value100(k) }) }
          await node.rpc.call('kv.batch', { ops }, 120_000)
        })
        const writeMs = now() - tw
        if (others.length > 1) await waitConverged(others, 60_000)
        const boots = (await Promise.all(others.map(async (o) => dialAddrs(await o.info())))).flat()
        const t0 = now()
        const again = await startChorus({ dataDir: late.dataDir, bootstrap: boots })
        nodes[nodes.length - 1] = again
        const readyAt = now()
        const conv = await waitConverged([again, ...others], quick ? 30_000 : 180_000, 10)
        const fromReady = conv
        const fromSpawn = conv != null ? readyAt - t0 + conv : null
        rows.push({
          name: `${n.toLocaleString('en-US')} writes missed`,
          metrics: {
            'from ready': round(fromReady, 0),
            'from spawn': round(fromSpawn, 0),
            'restart to ready': round(again.readyMs, 0),
            'backlog written in': round(writeMs, 0),
            'catch-up rate': fromReady != null && fromReady > 0 ? round(n / (fromReady / 1000), 0) : null
          }
        })
        data[`backlog${n}Ms`] = fromReady
        data[`backlog${n}FromSpawnMs`] = fromSpawn
        if (conv == null) notes.push(`${n} writes: digests did not agree within the wait.`)
        if (fromReady != null) chart.bars.push({ label: `${n.toLocaleString('en-US')} writes missed`, value: fromReady })
        await sleep(200)
      }
    } finally {
      notes.push(...crashNotes(nodes, 'catchup'))
      await stopAll(nodes)
    }
    notes.unshift('"from ready" is the time from the restarted node printing `ready` to all digests being equal (polled every 10 ms); "from spawn" adds the process start. Catch-up rate = missed writes / "from ready".')
    return {
      units: { 'from ready': 'ms', 'from spawn': 'ms', 'restart to ready': 'ms', 'backlog written in': 'ms', 'catch-up rate': 'writes/s' },
      rows,
      data,
      notes,
      charts: [chart]
    }
  }
}
