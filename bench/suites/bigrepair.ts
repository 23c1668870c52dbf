/**
 * bigrepair: anti-entropy repair at a million keys between real `bin/chorus` processes on
 * LevelDB: an empty node joining, a node that missed d = n/10 writes, and two nodes whose every
 * key differs (d = n on each side). Time until the digests agree, the RSS both sides reach
 * while repairing (sampled), and the anti-entropy bytes per difference (from /metrics).
 */
import { chorusUnavailable, crashNotes, dialAddrs, startChorus, stopAll, waitConverged, type ChorusNode } from '../lib/chorus.js'
import { now, pool, round, sleep, value100 } from '../lib/stats.js'
import type { Suite, SuiteResult, SuiteRow } from '../lib/types.js'

const MB = 1024 * 1024

async function load (node: ChorusNode, prefix: string, from: number, count: number, tag = ''): Promise<number> {
  const t0 = now()
  await pool(Math.ceil(count / 1000), 2, async (b) => {
    const ops = []
    for (let j = 0; j < 1000 && b * 1000 + j < count; j++) {
      const i = from + b * 1000 + j
      ops.push({ op: 'put', key: `${prefix}${i}`, value: `${tag}${value100(i)}`.slice(0, 100) })
    }
    await node.rpc.call('kv.batch', { ops }, 120_000)
  })
  return now() - t0
}

/** Anti-entropy bytes on the wire so far, as the node counts them: tree metadata and key state, sent and received. */
async function aeBytes (node: ChorusNode): Promise<{ meta: number, state: number }> {
  const text = await (await fetch(node.url.replace(/\/rpc$/, '/metrics'))).text()
  const get = (direction: string, kind: string): number => {
    const line = text.split('\n').find(l => l.startsWith(`chorus_ae_bytes_total{direction="${direction}",kind="${kind}"}`))
    return Number(line?.split(' ')[1] ?? 0)
  }
  return { meta: get('sent', 'meta'), state: get('sent', 'state') }
}

async function metricsText (node: ChorusNode): Promise<string> {
  return await (await fetch(node.url.replace(/\/rpc$/, '/metrics'))).text()
}

/** Exchanges the node ended so far, by `role outcome` (its counters start at its own start). */
async function exchangeCounts (node: ChorusNode): Promise<Map<string, number>> {
  const out = new Map<string, number>()
  for (const line of (await metricsText(node)).split('\n')) {
    const m = /^chorus_ae_exchanges_total\{role="(\w+)",outcome="(\w+)"\} (\d+)$/.exec(line)
    if (m != null) out.set(`${m[1] as string} ${m[2] as string}`, Number(m[3]))
  }
  return out
}

function countsSince (after: Map<string, number>, before: Map<string, number> = new Map()): string {
  return [...after].map(([k, v]) => [k, v - (before.get(k) ?? 0)] as const).filter(([, v]) => v > 0).map(([k, v]) => `${k} ${v}`).join(', ')
}

async function heapUsed (node: ChorusNode): Promise<number> {
  const line = (await metricsText(node)).split('\n').find(l => l.startsWith('nodejs_heap_size_used_bytes '))
  return Number(line?.split(' ')[1] ?? 0)
}

async function exchangesEnded (node: ChorusNode): Promise<number> {
  const text = await (await fetch(node.url.replace(/\/rpc$/, '/metrics'))).text()
  return text.split('\n').filter(l => l.startsWith('chorus_ae_exchanges_total{')).reduce((sum, l) => sum + Number(l.split(' ')[1] ?? 0), 0)
}

/**
 * Waits (up to 30 s) until both nodes have ended another exchange since now: the repairing ones
 * are then counted. False when they did not: the byte counts may then be short.
 */
async function settledExchanges (nodes: ChorusNode[]): Promise<boolean> {
  const start = await Promise.all(nodes.map(exchangesEnded))
  const deadline = now() + 30_000
  while (now() < deadline) {
    const counts = await Promise.all(nodes.map(exchangesEnded))
    if (counts.every((c, i) => c >= (start[i] ?? 0) + 2)) return true
    await sleep(200)
  }
  return false
}

/**
 * Peak RSS of each node while `work` runs, sampled every 100 ms, and the peak V8 heap in use
 * (live objects and garbage not yet collected) of each node in `heapOf()`, every 500 ms.
 */
async function withPeaks<T> (nodes: ChorusNode[], heapOf: () => ChorusNode[], work: () => Promise<T>): Promise<{ result: T, before: number[], peaks: number[], heapPeak: number }> {
  const before = nodes.map(n => n.rss().rss ?? 0)
  const peaks = [...before]
  let heapPeak = 0
  let sampling = true
  const rss = (async () => {
    while (sampling) {
      nodes.forEach((n, i) => { peaks[i] = Math.max(peaks[i] ?? 0, n.rss().rss ?? 0) })
      await sleep(100)
    }
  })()
  const heap = (async () => {
    while (sampling) {
      for (const n of heapOf()) heapPeak = Math.max(heapPeak, await heapUsed(n).catch(() => 0))
      await sleep(500)
    }
  })()
  try {
    return { result: await work(), before, peaks, heapPeak }
  } finally {
    sampling = false
    await Promise.all([rss, heap])
  }
}

interface Repair { name: string, d: number, converge: (a: ChorusNode) => Promise<{ node: ChorusNode, ms: number | null }> }

export const suite: Suite = {
  name: 'bigrepair',
  description: 'Two `bin/chorus` nodes on 127.0.0.1 with LevelDB, n = 1,000,000 keys (20,000 in --quick) of 100-byte values loaded through kv.batch. Three repairs, each timed from the moment the second node is ready (restarted with the first as its bootstrap peer) until both `node.info` digests are equal: an empty node joining; a node that missed d = n/10 writes (half updates, half new keys); a node holding n keys of its own, none of which the first has (every key differs, d = n on each side). RSS of both processes sampled every 100 ms during the repair; anti-entropy bytes from both nodes\' /metrics (`chorus_ae_bytes_total`). Default anti-entropy settings.',
  order: 45,
  async run ({ quick }): Promise<SuiteResult> {
    const why = await chorusUnavailable()
    if (why != null) return { rows: [], skipped: why }
    const n = quick ? 20_000 : 1_000_000
    const d = n / 10
    const limitMs = quick ? 60_000 : 900_000
    const rows: SuiteRow[] = []
    const data: Record<string, number | null> = { n }
    const notes: string[] = []
    const nodes: ChorusNode[] = []
    try {
      const a = await startChorus()
      nodes.push(a)
      const loadMs = await load(a, 'br/a/', 0, n)
      notes.push(`Loading ${n.toLocaleString('en-US')} keys into the first node took ${(loadMs / 1000).toFixed(1)} s.`)
      const bootA = dialAddrs(await a.info())

      const restartFrom = async (dataDir: string | undefined): Promise<{ node: ChorusNode, ms: number | null }> => {
        const node = await startChorus({ bootstrap: bootA, ...(dataDir === undefined ? {} : { dataDir }), readyTimeoutMs: 120_000 })
        nodes.push(node)
        return { node, ms: await waitConverged([a, node], limitMs, 50) }
      }
      let b: ChorusNode | undefined
      const repairs: Repair[] = [
        { name: 'an empty node joins', d: n, converge: async () => { const r = await restartFrom(undefined); b = r.node; return r } },
        {
          name: `missed ${d.toLocaleString('en-US')} writes`,
          d,
          converge: async () => {
            if (b === undefined) throw new Error('no second node')
            await b.stop()
            nodes.splice(nodes.indexOf(b), 1)
            await load(a, 'br/a/', 0, d / 2, 'updated ')
            await load(a, 'br/new/', 0, d / 2)
            const r = await restartFrom(b.dataDir)
            b = r.node
            return r
          }
        },
        {
          name: 'every key differs (d = n each side)',
          d: 2 * n,
          converge: async () => {
            if (b !== undefined) { await b.stop(); nodes.splice(nodes.indexOf(b), 1) }
            const c = await startChorus()
            nodes.push(c)
            await load(c, 'br/c/', 0, n)
            await c.stop()
            nodes.splice(nodes.indexOf(c), 1)
            return await restartFrom(c.dataDir)
          }
        }
      ]
      for (const [i, repair] of repairs.entries()) {
        const bytesBefore = await aeBytes(a)
        const exchangesBefore = await exchangeCounts(a)
        let second: ChorusNode | undefined
        const { result: ms, before, peaks, heapPeak } = await withPeaks([a], () => nodes.filter(x => x.exitCode() === undefined), async () => {
          const r = await repair.converge(a)
          second = r.node
          return r.ms
        })
        if (second === undefined) throw new Error('no second node')
        // An exchange counts its bytes when it ends, a moment after the last state merged.
        if (!await settledExchanges([a, second])) notes.push(`${repair.name}: the exchanges had not all ended 30 s after the digests agreed; the byte counts below may be short.`)
        const bytesA = await aeBytes(a)
        const bytesB = await aeBytes(second)
        // The second node's counters start at its restart; the first node's are the difference.
        const meta = bytesA.meta - bytesBefore.meta + bytesB.meta
        const state = bytesA.state - bytesBefore.state + bytesB.state
        rows.push({
          name: repair.name,
          metrics: {
            differences: repair.d,
            'to equal digests': ms == null ? null : round(ms / 1000, 1),
            'first node RSS before / peak': `${Math.round((before[0] ?? 0) / MB)} / ${Math.round((peaks[0] ?? 0) / MB)}`,
            'second node RSS at end': Math.round((second.rss().rss ?? 0) / MB),
            'second node peak RSS': Math.round((second.rss().peak ?? 0) / MB),
            'peak V8 heap in use, either node': Math.round(heapPeak / MB),
            'tree metadata per difference': round(meta / repair.d, 1),
            'state bytes per difference': round(state / repair.d, 0)
          }
        })
        notes.push(`${repair.name}: exchanges ${countsSince(await exchangeCounts(a), exchangesBefore)} on the first node, ${countsSince(await exchangeCounts(second))} on the second.`)
        data[`repair${i}S`] = ms == null ? null : ms / 1000
        data[`repair${i}MetaPerDiff`] = meta / repair.d
        data[`repair${i}PeakMB`] = Math.max(peaks[0] ?? 0, second.rss().peak ?? 0) / MB
        if (ms == null) notes.push(`${repair.name}: digests still differed after ${limitMs / 1000} s.`)
      }
      notes.push('"to equal digests" runs from the second node\'s `ready` line. Both nodes initiate exchanges (every 3 s ± 20 %, and on connect); a repair that does not fit one exchange\'s 5-minute deadline goes on in the next, keeping what was merged.')
      notes.push('RSS: the first node\'s is sampled during the repair (its peak includes LevelDB\'s caches filling); the second node\'s peak is the kernel\'s high-water mark of the restarted process. Most of the RSS is native memory (LevelDB\'s memtables, caches and compactions under a write load of ~15k keys/s, and the allocator\'s arenas); the V8 heap column, sampled from /metrics every 500 ms, is what the exchange itself can hold, garbage included.')
      notes.push('An `interrupted` exchange is one that gave way to the peer\'s (two nodes dialling each other at once) or hit the 10 s deadline of one frame while the other side was busy merging (LevelDB stalls writes while it compacts); what it merged stays, and the next exchange goes on from there.')
    } catch (err) {
      notes.push(`failed: ${(err as Error).message}`)
      notes.push(...crashNotes(nodes, 'bigrepair'))
    } finally {
      await stopAll(nodes)
    }
    return {
      units: { differences: 'keys', 'to equal digests': 's', 'first node RSS before / peak': 'MB', 'second node RSS at end': 'MB', 'second node peak RSS': 'MB', 'peak V8 heap in use, either node': 'MB', 'tree metadata per difference': 'B', 'state bytes per difference': 'B' },
      rows,
      notes,
      data
    }
  }
}
