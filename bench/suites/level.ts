/**
 * level: raw LevelDB (the `level` package Chorus stores with) on this machine, in a temp dir.
 * The physical limit that the write suite is compared against, measured in the same run.
 */
import { Level } from 'level'
import { makeTempDir, removeDir } from '../lib/chorus.js'
import { distribution, now, round, value100 } from '../lib/stats.js'
import type { Suite, SuiteResult, SuiteRow } from '../lib/types.js'

const key = (i: number): string => `k${String(i).padStart(9, '0')}`

export const suite: Suite = {
  name: 'level',
  description: 'Raw LevelDB (`level` 10, classic-level) in a temp dir, 100-byte values: awaited single puts, batches of 100 and 1000, awaited gets, iterator scan. The physical limit of this machine\'s storage.',
  order: 10,
  async run ({ quick }): Promise<SuiteResult> {
    const dir = await makeTempDir('chorus-bench-level-')
    const db = new Level<string, string>(dir, { valueEncoding: 'utf8' })
    await db.open()
    const rows: SuiteRow[] = []
    const data: Record<string, number> = {}
    const budgetMs = quick ? 400 : 4000
    const maxOps = quick ? 5000 : 200_000
    const rec = (name: string, id: string, ops: number, ms: number, lat: number[], per: string): void => {
      const d = distribution(lat)
      const opsPerSec = ops / (ms / 1000)
      data[id] = opsPerSec
      rows.push({ name, metrics: { 'ops/s': round(opsPerSec, 0), ops, [`p50`]: round(d.p50, 4), p99: round(d.p99, 4), max: round(d.max, 3), 'latency per': per } })
    }
    try {
      // awaited single puts
      {
        const lat: number[] = []
        const t0 = now()
        let i = 0
        for (; i < maxOps && now() - t0 < budgetMs; i++) {
          const s = now()
          await db.put(key(i), value100(i))
          lat.push(now() - s)
        }
        rec('put, awaited, one at a time', 'put', i, now() - t0, lat, 'put')
      }
      for (const size of [100, 1000]) {
        const lat: number[] = []
        const t0 = now()
        let ops = 0
        for (let b = 0; ops < maxOps * 5 && now() - t0 < budgetMs; b++) {
          const batch = db.batch()
          for (let j = 0; j < size; j++) { const i = 1_000_000 + b * size + j; batch.put(key(i), value100(i)) }
          const s = now()
          await batch.write()
          lat.push(now() - s)
          ops += size
        }
        rec(`batch of ${size}`, `batch${size}`, ops, now() - t0, lat, 'batch')
      }
      // awaited gets over keys that exist
      {
        const lat: number[] = []
        const t0 = now()
        let i = 0
        for (; i < maxOps && now() - t0 < budgetMs; i++) {
          const s = now()
          await db.get(key(1_000_000 + ((i * 7919) % 50_000)))
          lat.push(now() - s)
        }
        rec('get, awaited, one at a time', 'get', i, now() - t0, lat, 'get')
      }
      // full iterator scan
      {
        const t0 = now()
        let n = 0
        let bytes = 0
        for await (const [k, v] of db.iterator()) { n++; bytes += k.length + v.length }
        const ms = now() - t0
        data.scan = n / (ms / 1000)
        rows.push({ name: `iterator scan of ${n.toLocaleString('en-US')} entries`, metrics: { 'ops/s': round(n / (ms / 1000), 0), ops: n, p50: null, p99: null, max: null, 'latency per': `(${(bytes / 1e6 / (ms / 1000)).toFixed(1)} MB/s)` } })
      }
    } finally {
      await db.close()
      await removeDir(dir)
    }
    return {
      units: { 'ops/s': 'keys/s', p50: 'ms', p99: 'ms', max: 'ms' },
      rows,
      data,
      notes: ['Each case runs for a fixed time budget (bounded in count); latency is per awaited call (one put, one batch write, one get). No fsync (`sync: false`, LevelDB\'s default), like Chorus\'s default.'],
      charts: [{
        kind: 'bar',
        id: 'level-throughput',
        title: 'Raw LevelDB throughput on this machine',
        unit: 'keys/s',
        log: true,
        bars: rows.map((r) => ({ label: r.name, value: Number(r.metrics['ops/s'] ?? 0) }))
      }]
    }
  }
}
