/**
 * scale: one node loaded with 1M keys (10k in --quick) through kv.batch of 1,000: load rate, RSS, data size on disk,
 * restart-to-ready, the bytes of an anti-entropy exchange with an in-sync peer (a second node
 * started from a copy of the data directory, which takes a new identity), scan throughput, get
 * latency at that size.
 */
import { cp, mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { chorusUnavailable, crashNotes, diskUsage, startChorus, stopAll, type ChorusNode } from '../lib/chorus.js'
import { distribution, fmtBytes, now, pool, round, sleep, value100 } from '../lib/stats.js'
import type { Suite, SuiteResult, SuiteRow } from '../lib/types.js'

const key = (i: number): string => `s/${String(i).padStart(8, '0')}`

/** A suite of the scale measurements at `keys` keys (10,000 in --quick). */
export function scaleSuite (name: string, order: number, keys: number, description: string): Suite {
  return { name, description, order, run: async ({ quick }) => await runScale(quick ? 10_000 : keys, quick) }
}

export const suite = scaleSuite('scale', 60, 1_000_000, 'One `bin/chorus` node loaded with 1,000,000 keys (10,000 in --quick), 100-byte values, through kv.batch of 1,000 (2 clients): load rate, RSS, data size on disk, restart-to-ready, the bytes of an anti-entropy exchange with an in-sync peer (a second node started from a copy of the data directory), full kv.scan throughput (pages of 1,000), kv.get latency.')

/** The scale measurements at `total` keys (the scale10m suite runs them at 10M). */
export async function runScale (total: number, quick: boolean): Promise<SuiteResult> {
  const why = await chorusUnavailable()
  if (why != null) return { rows: [], skipped: why }
  const nodes: ChorusNode[] = []
  const rows: SuiteRow[] = []
  const data: Record<string, number | null> = { keys: total }
  const notes: string[] = []
  try {
    let node = await startChorus()
    nodes.push(node)
    const t0 = now()
    const batches = Math.ceil(total / 1000)
    const loaded = await pool(batches, 2, async (b) => {
      const ops = []
      for (let j = 0; j < 1000 && b * 1000 + j < total; j++) { const i = b * 1000 + j; ops.push({ op: 'put', key: key(i), value: value100(i) }) }
      await node.rpc.call('kv.batch', { ops }, 120_000)
    }, t0 + (quick ? 20_000 : Math.max(600_000, total / 20)))
    const loadMs = now() - t0
    const keys = Math.min(total, loaded * 1000)
    data.keys = keys
    if (keys < total) notes.push(`Loading stopped at the time limit after ${keys.toLocaleString('en-US')} keys.`)
    rows.push({ name: `load ${keys.toLocaleString('en-US')} keys (kv.batch of 1,000)`, metrics: { value: round(keys / (loadMs / 1000), 0), unit: 'keys/s' } })
    await sleep(1000)
    const mem = node.rss()
    data.rssMB = mem.rss != null ? mem.rss / 1024 / 1024 : null
    data.peakRssMB = mem.peak != null ? mem.peak / 1024 / 1024 : null
    rows.push({ name: 'RSS after load (1 s settle)', metrics: { value: round(data.rssMB, 0), unit: 'MB' } })
    rows.push({ name: 'peak RSS during load', metrics: { value: round(data.peakRssMB, 0), unit: 'MB' } })
    const info = await node.info()
    rows.push({ name: 'node.info keys', metrics: { value: info.keys, unit: 'keys' } })

    // get latency at this size
    {
      const lat: number[] = []
      const n = quick ? 500 : 5000
      for (let i = 0; i < n; i++) {
        const s = now()
        await node.rpc.call('kv.get', { key: key((i * 7919) % keys) })
        lat.push(now() - s)
      }
      const d = distribution(lat)
      rows.push({ name: 'kv.get p50 / p99 (1 client)', metrics: { value: `${round(d.p50, 3) ?? '–'} / ${round(d.p99, 3) ?? '–'}`, unit: 'ms' } })
    }

    // restart
    const stopMs = await node.stop()
    const disk = diskUsage(node.dataDir)
    data.diskBytes = disk
    rows.push({ name: 'data on disk (after clean stop)', metrics: { value: fmtBytes(disk), unit: `${(disk / keys).toFixed(0)} B/key` } })
    rows.push({ name: 'clean stop (SIGTERM to exit)', metrics: { value: round(stopMs, 0), unit: 'ms' } })
    node = await startChorus({ dataDir: node.dataDir })
    nodes[0] = node
    data.restartReadyS = node.readyMs / 1000
    rows.push({ name: 'restart to ready', metrics: { value: round(node.readyMs, 0), unit: 'ms' } })
    await sleep(1000)
    const mem2 = node.rss()
    data.rssAfterRestartMB = mem2.rss != null ? mem2.rss / 1024 / 1024 : null
    rows.push({ name: 'RSS after restart (1 s settle)', metrics: { value: round(data.rssAfterRestartMB, 0), unit: 'MB' } })

    // an in-sync peer: a copy of the data directory (it takes a new identity when moved)
    {
      const copy = await mkdtemp(join(tmpdir(), 'chorus-scale-copy-'))
      await cp(node.dataDir, copy, { recursive: true })
      const info2 = await node.info()
      const twin = await startChorus({ dataDir: copy, bootstrap: [info2.addrs[0] as string] })
      nodes.push(twin)
      await sleep(1000)
      const report = await twin.rpc.call<{ inSync: boolean, bytesSent: number, bytesReceived: number }>('cluster.sync', { peer: info2.peerId }, 60_000)
      data.inSyncCheckBytes = report.bytesSent + report.bytesReceived
      rows.push({ name: 'anti-entropy exchange with an in-sync peer (both directions)', metrics: { value: data.inSyncCheckBytes, unit: report.inSync ? 'B (in sync)' : 'B (NOT in sync)' } })
      await twin.stop()
      nodes.pop()
    }

    // full scan
    {
      const s = now()
      let n = 0
      let cursor: string | undefined
      let pages = 0
      const deadline = s + (quick ? 10_000 : 120_000)
      do {
        const r = await node.rpc.call<{ items: unknown[], cursor?: string }>('kv.scan', cursor != null ? { limit: 1000, cursor } : { limit: 1000 }, 60_000)
        n += r.items.length
        cursor = r.cursor
        pages++
      } while (cursor != null && now() < deadline && pages < 10_000)
      const ms = now() - s
      data.scanKeysPerSec = n / (ms / 1000)
      rows.push({ name: `kv.scan, ${n.toLocaleString('en-US')} keys in pages of 1,000`, metrics: { value: round(n / (ms / 1000), 0), unit: 'keys/s' } })
      if (n < keys) notes.push(`The scan returned ${n} of ${keys} keys${cursor != null ? ' before the time limit' : ''}.`)
    }
  } finally {
    notes.push(...crashNotes(nodes, 'scale'))
    await stopAll(nodes)
  }
  return { rows, data, notes }
}
