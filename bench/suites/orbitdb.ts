/**
 * orbitdb: OrbitDB 3.0.2's keyvalue database, the same measurements as the Chorus suites, in
 * the same run. OrbitDB lives in bench/orbitdb (its own package.json and node_modules, never a
 * Chorus dependency) and runs in a child process (bench/orbitdb/orbit-bench.mjs) so that its
 * leftover timers and memory cannot disturb the harness. Loopback TCP only.
 */
import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { ROOT } from '../lib/chorus.js'
import { round, type Distribution } from '../lib/stats.js'
import type { BarChart, Chart, LatencyChart, Suite, SuiteResult, SuiteRow } from '../lib/types.js'

const DIR = join(ROOT, 'bench', 'orbitdb')
const installed = (): boolean => existsSync(join(DIR, 'node_modules', '@orbitdb', 'core', 'package.json'))

interface OrbitResult {
  error?: string
  version?: string
  putSequential?: { ops: number, opsPerSec: number, latencyMs: Distribution }
  putConcurrent?: { ops: number, concurrency: number, opsPerSec: number, latencyMs: Distribution }
  replication?: { writes: number, observed: number, latencyMs: Distribution }
  catchUp?: { backlog: number, catchUpMs: number, backlogKeysOnC: number }
  getLatencyMs?: Distribution
  peakRssBytes?: number
  maxRssBytes?: number
}

async function run (cmd: string, args: string[], timeoutMs: number, onLine?: (l: string) => void): Promise<{ code: number | null, out: string, err: string }> {
  return await new Promise((resolve) => {
    const p = spawn(cmd, args, { cwd: DIR, stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    let err = ''
    p.stdout.on('data', (d: Buffer) => { out += d.toString() })
    p.stderr.on('data', (d: Buffer) => {
      const s = d.toString()
      err += s
      if (onLine != null) for (const l of s.split('\n')) if (l.trim() !== '') onLine(l)
    })
    const t = setTimeout(() => { p.kill('SIGKILL'); err += `\nkilled after ${timeoutMs} ms` }, timeoutMs)
    p.on('error', (e) => { err += String(e) })
    p.on('close', (code) => { clearTimeout(t); resolve({ code, out, err }) })
  })
}

function num (x: unknown, path: string): number | null {
  let v: unknown = x
  for (const p of path.split('.')) { if (v == null || typeof v !== 'object') return null; v = (v as Record<string, unknown>)[p] }
  return typeof v === 'number' && Number.isFinite(v) ? v : null
}

export const suite: Suite = {
  name: 'orbitdb',
  description: 'OrbitDB 3.0.2 keyvalue database (Helia built from @helia/utils: level blockstore and datastore, bitswap, libp2p routing; gossipsub; TCP on 127.0.0.1 only) in a child process, 2 peers (a 3rd joins late for catch-up), 100-byte values: awaited put throughput (sequential and 64 in flight), replication latency A→B (put() on A to the update event on B), catch-up of a 1,000-write backlog by a peer that joins late, peak RSS of the process holding all peers.',
  order: 90,
  async run ({ quick, prior }): Promise<SuiteResult> {
    if (!installed()) {
      if (quick) return { rows: [], skipped: 'OrbitDB is not installed (bench/orbitdb/install.sh installs it; a quick run never installs it).' }
      process.stdout.write('installing OrbitDB into bench/orbitdb (npm install --ignore-scripts)…\n')
      const r = await run('bash', [join(DIR, 'install.sh')], 300_000)
      if (r.code !== 0 || !installed()) return { rows: [], skipped: `installing OrbitDB failed (bench/orbitdb/install.sh exited ${String(r.code)}): ${r.err.trim().split('\n').slice(-3).join(' | ')}` }
    }
    const r = await run(process.execPath, ['orbit-bench.mjs', JSON.stringify({ quick })], quick ? 50_000 : 320_000, (l) => { if (!quick) process.stdout.write(`  ${l}\n`) })
    const line = r.out.split('\n').find((l) => l.startsWith('RESULT '))
    if (line == null) throw new Error(`orbit-bench.mjs printed no result (exit ${String(r.code)}): ${r.err.trim().split('\n').slice(-4).join(' | ')}`)
    const o = JSON.parse(line.slice(7)) as OrbitResult
    if (o.error != null) throw new Error(`OrbitDB run failed: ${o.error.split('\n')[0] ?? ''}`)

    const rows: SuiteRow[] = []
    const lat = (d: Distribution | undefined): Record<string, number | null> => ({ p50: round(d?.p50, 2), p95: round(d?.p95, 2), p99: round(d?.p99, 2), max: round(d?.max, 1) })
    if (o.putSequential != null) rows.push({ name: `put, awaited, sequential (${o.putSequential.ops})`, metrics: { 'ops/s': round(o.putSequential.opsPerSec, 0), ...lat(o.putSequential.latencyMs), time: null } })
    if (o.putConcurrent != null) rows.push({ name: `put, ${o.putConcurrent.concurrency} in flight (${o.putConcurrent.ops})`, metrics: { 'ops/s': round(o.putConcurrent.opsPerSec, 0), ...lat(o.putConcurrent.latencyMs), time: null } })
    if (o.replication != null) rows.push({ name: `replication A→B (${o.replication.observed}/${o.replication.writes} seen)`, metrics: { 'ops/s': null, ...lat(o.replication.latencyMs), time: null } })
    if (o.catchUp != null) rows.push({ name: `catch-up of a ${o.catchUp.backlog}-write backlog (late joiner)`, metrics: { 'ops/s': null, p50: null, p95: null, p99: null, max: null, time: round(o.catchUp.catchUpMs / 1000, 2) } })
    if (o.getLatencyMs != null) rows.push({ name: 'keyvalue get on A (log walk)', metrics: { 'ops/s': null, ...lat(o.getLatencyMs), time: null } })
    const peak = Math.max(o.peakRssBytes ?? 0, o.maxRssBytes ?? 0)
    rows.push({ name: 'peak RSS, one process, all peers', metrics: { 'ops/s': null, p50: null, p95: null, p99: null, max: null, time: null, 'RSS (MB)': round(peak / 1024 / 1024, 0) } })

    const putBest = Math.max(o.putSequential?.opsPerSec ?? 0, o.putConcurrent?.opsPerSec ?? 0)
    const drain = (o as { drainAfterThroughputMs?: number }).drainAfterThroughputMs
    const data = {
      drainAfterThroughputMs: drain ?? null,
      version: o.version ?? null,
      putSeqOpsPerSec: o.putSequential?.opsPerSec ?? null,
      putConcOpsPerSec: o.putConcurrent?.opsPerSec ?? null,
      putBestOpsPerSec: putBest > 0 ? putBest : null,
      replP50: o.replication?.latencyMs.p50 ?? null,
      replP99: o.replication?.latencyMs.p99 ?? null,
      catchUpMs: o.catchUp?.catchUpMs ?? null,
      catchUpBacklog: o.catchUp?.backlog ?? null,
      peakRssBytes: peak
    }

    // Side-by-side charts with the Chorus figures of the same run, when those suites ran.
    const charts: Chart[] = []
    const w = prior?.write?.data
    const tput: BarChart = { kind: 'bar', id: 'vs-orbitdb-writes', title: 'Write throughput: Chorus vs OrbitDB 3.0.2 (same run)', unit: 'writes/s', log: true, bars: [] }
    for (const [label, key] of [['Chorus kv.put, 1 client', 'put1OpsPerSec'], ['Chorus kv.put, 64 clients', 'put64OpsPerSec']] as const) {
      const v = num(w, key)
      if (v != null) tput.bars.push({ label, value: v, group: 'Chorus' })
    }
    const bestBatch = Math.max(num(w, 'batch1OpsPerSec') ?? 0, num(w, 'batch8OpsPerSec') ?? 0)
    if (bestBatch > 0) tput.bars.push({ label: 'Chorus kv.batch of 100 (best)', value: bestBatch, group: 'Chorus' })
    if (data.putSeqOpsPerSec != null) tput.bars.push({ label: 'OrbitDB put, sequential', value: data.putSeqOpsPerSec, group: 'OrbitDB' })
    if (data.putConcOpsPerSec != null) tput.bars.push({ label: 'OrbitDB put, 64 in flight', value: data.putConcOpsPerSec, group: 'OrbitDB' })
    charts.push(tput)
    const repl: LatencyChart = { kind: 'latency', id: 'vs-orbitdb-replication', title: 'Replication latency: Chorus vs OrbitDB 3.0.2 (same run)', unit: 'ms, write to visible on another node', log: true, series: [] }
    const rd = prior?.replicate?.data
    for (const n of [3, 5, 10]) {
      const d = rd?.[`n${n}`] as Distribution | undefined
      if (d?.p50 != null) repl.series.push({ label: `Chorus, ${n} nodes, 1,000 w/s`, p50: d.p50, p95: d.p95, p99: d.p99, max: d.max })
    }
    const light = rd?.n3light as Distribution | undefined
    if (light?.p50 != null) repl.series.push({ label: 'Chorus, 3 nodes, 100 w/s', p50: light.p50, p95: light.p95, p99: light.p99, max: light.max })
    const od = o.replication?.latencyMs
    if (od != null) repl.series.push({ label: 'OrbitDB, 2 peers, ~50 w/s', p50: od.p50, p95: od.p95, p99: od.p99, max: od.max })
    charts.push(repl)
    const cu: BarChart = { kind: 'bar', id: 'vs-orbitdb-catchup', title: `Catch-up of a ${data.catchUpBacklog ?? 1000}-write backlog (same run)`, unit: 'ms (lower is better)', log: true, bars: [] }
    const cd = num(prior?.catchup?.data, 'backlog1000Ms')
    if (cd != null) cu.bars.push({ label: 'Chorus, restarted node, 1,000 writes', value: cd, group: 'Chorus' })
    if (data.catchUpMs != null) cu.bars.push({ label: `OrbitDB, late joiner, ${data.catchUpBacklog ?? ''} writes`, value: data.catchUpMs, group: 'OrbitDB' })
    charts.push(cu)

    return {
      units: { 'ops/s': 'writes/s', p50: 'ms', p95: 'ms', p99: 'ms', max: 'ms', time: 's' },
      rows,
      data,
      charts,
      notes: [
        `@orbitdb/core ${o.version ?? '?'} on Node ${process.version} (OrbitDB 4 needs Node 22). Helia is assembled from @helia/utils because \`createHelia\` pulls in @libp2p/webrtc, whose install step downloads a native binary.`,
        'Replication latency: writes on A spaced 20 ms apart (after B has drained the throughput phases: no update for 1.5 s), measured from the put() call on A to the `update` event on B for that key. Catch-up: the backlog is written on A (B receives it too and is let drain), then C dials A and opens the database; time from the dial to C\'s `update` event for the last backlog entry; C starts with empty storage.',
        'Profile (--cpu-prof of the child): the largest share of CPU is secp256k1 signing and verifying of every log entry in pure JavaScript (@noble/curves), then LevelDB gets and CBOR decoding; all peers share one process, as in the issue\'s reference figures.',
        'The child process exits explicitly: OrbitDB 3.0.2 starts a 30 s timer per block read/write that it never clears.'
      ]
    }
  }
}
