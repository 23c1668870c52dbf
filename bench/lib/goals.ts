/**
 * The goals of issues 5 and 11, checked against whatever the latest results hold. Each suite
 * puts the figures named here into its `data`; a missing figure shows as "not measured".
 */
import type { SuiteResult } from './types.js'

export interface GoalRow { goal: string, target: string, reached: string, met: boolean | null, from: string }

type Results = Record<string, { result: SuiteResult, date: string } | undefined>

function num (r: Results, suite: string, path: string): number | null {
  let v: unknown = r[suite]?.result.data
  for (const p of path.split('.')) {
    if (v == null || typeof v !== 'object') return null
    v = (v as Record<string, unknown>)[p]
  }
  return typeof v === 'number' && Number.isFinite(v) ? v : null
}

const f = (x: number, d = 0): string => x.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d })

export function goalRows (r: Results): GoalRow[] {
  const rows: GoalRow[] = []
  const add = (goal: string, target: string, value: number | null, ok: (v: number) => boolean, show: (v: number) => string, from: string): void => {
    rows.push({ goal, target, reached: value == null ? 'not measured' : show(value), met: value == null ? null : ok(value), from })
  }
  add('kv.put one per request, 64 clients', '≥ 20,000 writes/s', num(r, 'write', 'put64OpsPerSec'), (v) => v >= 20_000, (v) => `${f(v)} writes/s`, 'write')
  const rpcOnly = num(r, 'write', 'rpcOnly64RequestsPerSec')
  const bare = num(r, 'write', 'bareHttp64RequestsPerSec')
  if (rpcOnly != null || bare != null) {
    rows.push({
      goal: '↳ ceilings, same client and run: Chorus JSON-RPC storing nothing (node.info) / a bare node:http JSON server',
      target: '(reference)',
      reached: `${rpcOnly == null ? '–' : f(rpcOnly)} / ${bare == null ? '–' : f(bare)} requests/s`,
      met: null,
      from: 'write'
    })
  }
  add('kv.batch of 100 vs raw level batch of 100 (same run)', '≥ 30 %', num(r, 'write', 'batchVsLevelPct'), (v) => v >= 30, (v) => `${f(v, 1)} %`, 'write + level')
  add('replication, 3 nodes at 1,000 writes/s: p50', '≤ 2 ms', num(r, 'replicate', 'n3.p50'), (v) => v <= 2, (v) => `${f(v, 2)} ms`, 'replicate')
  add('replication, 3 nodes at 1,000 writes/s: p99', '≤ 15 ms', num(r, 'replicate', 'n3.p99'), (v) => v <= 15, (v) => `${f(v, 2)} ms`, 'replicate')
  add('replication, 10 nodes at 1,000 writes/s: p99', '≤ 100 ms', num(r, 'replicate', 'n10.p99'), (v) => v <= 100, (v) => `${f(v, 2)} ms`, 'replicate')
  add('sustained aggregate, 3 leaders, every node applying every write', '≥ 15,000 writes/s', num(r, 'replicate', 'sustained3'), (v) => v >= 15_000, (v) => `${f(v)} writes/s`, 'replicate')
  const orbW = num(r, 'orbitdb', 'putBestOpsPerSec')
  const chW = num(r, 'write', 'put64OpsPerSec')
  add('write throughput vs OrbitDB (kv.put 64 clients / OrbitDB best put rate)', '≥ 20×', orbW != null && chW != null && orbW > 0 ? chW / orbW : null, (v) => v >= 20, (v) => `${f(v, 1)}×`, 'write + orbitdb')
  const orbL = num(r, 'orbitdb', 'replP50')
  const chL = num(r, 'replicate', 'n3.p50')
  add('replication latency p50 vs OrbitDB (OrbitDB 2 peers / Chorus 3 nodes at 1,000 writes/s)', '≥ 10× lower', orbL != null && chL != null && chL > 0 ? orbL / chL : null, (v) => v >= 10, (v) => v >= 1 ? `${f(v, 1)}× lower` : `${f(1 / v, 1)}× higher`, 'replicate + orbitdb')
  const chLight = num(r, 'replicate', 'n3light.p50')
  add('↳ the same, Chorus at 100 writes/s (OrbitDB is measured at ~50 writes/s)', '(reference)', orbL != null && chLight != null && chLight > 0 ? orbL / chLight : null, () => true, (v) => v >= 1 ? `${f(v, 1)}× lower` : `${f(1 / v, 1)}× higher`, 'replicate + orbitdb')
  rows[rows.length - 1]!.met = null
  const orbC = num(r, 'orbitdb', 'catchUpMs')
  const chC = num(r, 'catchup', 'backlog1000Ms')
  add('catch-up of a 1,000-write backlog vs OrbitDB', '≥ 10× faster', orbC != null && chC != null && chC > 0 ? orbC / chC : null, (v) => v >= 10, (v) => v >= 1 ? `${f(v, 1)}× faster` : `${f(1 / v, 1)}× slower`, 'catchup + orbitdb')
  const keys = num(r, 'scale', 'keys')
  const full = keys != null && keys >= 1_000_000
  const at = full ? '' : ` at ${f(keys ?? 0)} keys, not 1M`
  add('1M keys: RSS', '≤ 300 MB', num(r, 'scale', 'rssMB'), (v) => v <= 300, (v) => `${f(v)} MB${at}`, 'scale')
  add('1M keys: restart-to-ready', '≤ 5 s', num(r, 'scale', 'restartReadyS'), (v) => v <= 5, (v) => `${f(v, 2)} s${at}`, 'scale')
  if (!full) for (const g of rows.slice(-2)) if (g.met != null) g.met = null
  return rows
}

/** Issue 11: CPU per write (the node's own CPU time), the WebSocket path, repair at scale. */
export function goalRows11 (r: Results): GoalRow[] {
  const rows: GoalRow[] = []
  const add = (goal: string, target: string, value: number | null, ok: (v: number) => boolean, show: (v: number) => string, from: string): void => {
    rows.push({ goal, target, reached: value == null ? 'not measured' : show(value), met: value == null ? null : ok(value), from })
  }
  const us = (v: number): string => `${f(v, 1)} µs`
  const wps = (v: number): string => `${f(v)} writes/s`
  const batchCpu = [num(r, 'write', 'batch1CpuUsPerWrite'), num(r, 'write', 'batch8CpuUsPerWrite')].filter((v): v is number => v != null)
  add('kv.batch: node CPU per write (best of 1 and 8 clients)', '≤ 15 µs', batchCpu.length > 0 ? Math.min(...batchCpu) : null, (v) => v <= 15, us, 'write')
  add('kv.batch of 100 vs raw level batch of 100 (same run)', '≥ 25 %', num(r, 'write', 'batchVsLevelPct'), (v) => v >= 25, (v) => `${f(v, 1)} %`, 'write + level')
  add('kv.put one per HTTP request, 64 clients: node CPU per write', '≤ 60 µs', num(r, 'write', 'put64CpuUsPerWrite'), (v) => v <= 60, us, 'write')
  add('kv.put one per HTTP request, 64 clients', '≥ 15,000 writes/s', num(r, 'write', 'put64OpsPerSec'), (v) => v >= 15_000, wps, 'write')
  add('kv.put over one WebSocket, 64 in flight', '≥ 25,000 writes/s', num(r, 'write', 'ws64OpsPerSec'), (v) => v >= 25_000, wps, 'write')
  add('replicated write, 3 leaders at the best sustained rate: CPU on each node (mean)', '≤ 50 µs', num(r, 'replicate', 'sustained3CpuUsPerWrite.meanUs'), (v) => v <= 50, us, 'replicate')
  add('↳ the same, one kv.put per write at 1,000 writes/s, watched on every node', '(reference)', num(r, 'replicate', 'n3CpuUsPerWrite.meanUs'), () => true, us, 'replicate')
  rows[rows.length - 1]!.met = null
  add('replication, 3 nodes at 1,000 writes/s: p50', '≤ 5 ms', num(r, 'replicate', 'n3.p50'), (v) => v <= 5, (v) => `${f(v, 2)} ms`, 'replicate')
  add('replication, 3 nodes at 1,000 writes/s: p99', '≤ 30 ms', num(r, 'replicate', 'n3.p99'), (v) => v <= 30, (v) => `${f(v, 2)} ms`, 'replicate')
  add('sustained aggregate, 3 leaders, every node applying every write', '≥ 12,000 writes/s', num(r, 'replicate', 'sustained3'), (v) => v >= 12_000, wps, 'replicate')
  add('repair d = 100k at n = 1M', '≤ 30 s', num(r, 'bigrepair', 'repair1S'), (v) => v <= 30, (v) => `${f(v, 1)} s`, 'bigrepair')
  add('repair d = n at n = 1M converges', 'converges', num(r, 'bigrepair', 'repair2S'), () => true, (v) => `in ${f(v, 1)} s`, 'bigrepair')
  const meta = [0, 1, 2].map(i => num(r, 'bigrepair', `repair${i}MetaPerDiff`)).filter((v): v is number => v != null)
  add('tree metadata per difference (worst repair)', '≤ 300 B', meta.length > 0 ? Math.max(...meta) : null, (v) => v <= 300, (v) => `${f(v, 1)} B`, 'bigrepair')
  const keys10m = num(r, 'scale10m', 'keys')
  const at = keys10m != null && keys10m < 10_000_000 ? ` at ${f(keys10m)} keys, not 10M` : ''
  const first10m = rows.length
  add('10M keys: RSS after load', '≤ 400 MB', num(r, 'scale10m', 'rssMB'), (v) => v <= 400, (v) => `${f(v)} MB${at}`, 'scale10m')
  add('10M keys: restart-to-ready', '≤ 5 s', num(r, 'scale10m', 'restartReadyS'), (v) => v <= 5, (v) => `${f(v, 2)} s${at}`, 'scale10m')
  add('10M keys: anti-entropy exchange with an in-sync peer', '≤ 64 B', num(r, 'scale10m', 'inSyncCheckBytes'), (v) => v <= 64, (v) => `${f(v)} B${at}`, 'scale10m')
  if (at !== '') for (const g of rows.slice(first10m)) if (g.met != null) g.met = null
  return rows
}
