/**
 * write: one Chorus node, raw JSON-RPC over HTTP keep-alive. kv.put one per request with 1 and
 * with 64 concurrent clients, kv.batch of 100 (1 and 8 clients), kv.put over one WebSocket with
 * 64 in flight (raw, and through the typed ChorusClient), beside the raw LevelDB figures of the
 * same run (the level suite).
 */
import { spawn } from 'node:child_process'
import { ChorusClient } from '../../src/rpc/client.js'
import { chorusUnavailable, cpuDuring, crashNotes, startChorus, stopAll, type ChorusNode } from '../lib/chorus.js'
import { RpcClient, WsRpcClient } from '../lib/rpc.js'
import { distribution, now, pool, round, value100 } from '../lib/stats.js'
import type { LatencyChart, Suite, SuiteResult, SuiteRow } from '../lib/types.js'

interface CaseResult { writes: number, requests: number, ms: number, lat: number[], errors: number, firstError?: string }

/**
 * The ceiling any Node.js JSON-over-HTTP server reaches on this machine with this client: a
 * bare node:http server in its own process that parses each body and answers a JSON-RPC result,
 * storing nothing. Chorus's kv.put can only approach it.
 */
const BARE_SERVER = `
const http = require('node:http')
const s = http.createServer((req, res) => {
  const chunks = []
  req.on('data', c => chunks.push(c))
  req.on('end', () => {
    const msg = JSON.parse(Buffer.concat(chunks).toString())
    const body = JSON.stringify({ jsonrpc: '2.0', id: msg.id, result: { context: 'x' } })
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) })
    res.end(body)
  })
})
s.keepAliveTimeout = 60000
s.listen(0, '127.0.0.1', () => console.log('http://127.0.0.1:' + s.address().port + '/rpc'))
`

/** The same for JSON-RPC over one WebSocket (the `ws` package the node uses), answers as they come. */
const BARE_WS_SERVER = `
const { WebSocketServer } = require('ws')
const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 }, () => console.log('http://127.0.0.1:' + wss.address().port + '/rpc'))
wss.on('connection', ws => ws.on('message', data => {
  const msg = JSON.parse(data.toString())
  ws.send(JSON.stringify({ jsonrpc: '2.0', id: msg.id, result: { context: 'x' } }))
}))
`

async function withBareServer<T> (fn: (url: string) => Promise<T>, script = BARE_SERVER): Promise<T> {
  const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] })
  try {
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => { reject(new Error('bare HTTP server did not start in 10 s')) }, 10_000)
      child.stdout.once('data', (d: Buffer) => { clearTimeout(timer); resolve(d.toString().trim()) })
      child.once('exit', (code) => { clearTimeout(timer); reject(new Error(`bare HTTP server exited (${code ?? 'signal'})`)) })
    })
    return await fn(url)
  } finally {
    child.kill('SIGKILL')
  }
}

/** What a case needs of a client: RpcClient (HTTP), WsRpcClient or the typed ChorusClient's `call`. */
interface Caller { call: (method: string, params: Record<string, unknown>) => Promise<unknown> }

/** Runs `fn` with a raw WebSocket client open on `url`, then closes it. */
async function overWs<T> (url: string, fn: (ws: Caller) => Promise<T>): Promise<T> {
  const ws = await WsRpcClient.open(url)
  try { return await fn(ws) } finally { ws.close() }
}

async function runCase (rpc: Caller, opts: { clients: number, batch: number, budgetMs: number, maxRequests: number, tag: string, method?: string }): Promise<CaseResult> {
  const lat: number[] = []
  let errors = 0
  let firstError: string | undefined
  const t0 = now()
  const requests = await pool(opts.maxRequests, opts.clients, async (i) => {
    const s = now()
    try {
      if (opts.method !== undefined) {
        await rpc.call(opts.method, {})
      } else if (opts.batch === 1) {
        await rpc.call('kv.put', { key: `${opts.tag}/${i}`, value: value100(i) })
      } else {
        const ops = []
        for (let j = 0; j < opts.batch; j++) { const n = i * opts.batch + j; ops.push({ op: 'put', key: `${opts.tag}/${n}`, value: value100(n) }) }
        await rpc.call('kv.batch', { ops })
      }
      lat.push(now() - s)
    } catch (err) {
      errors++
      firstError ??= (err as Error).message
    }
  }, t0 + opts.budgetMs)
  const ms = now() - t0
  return { writes: (requests - errors) * opts.batch, requests, ms, lat, errors, ...(firstError != null ? { firstError } : {}) }
}

/** µs of CPU per operation, from ms of CPU over a run. */
function perOp (cpuMs: number | null | undefined, ops: number): number | null {
  return cpuMs == null || ops <= 0 ? null : cpuMs * 1000 / ops
}

export const suite: Suite = {
  name: 'write',
  description: 'One Chorus node (`bin/chorus start`), raw JSON-RPC 2.0 over HTTP keep-alive, 100-byte values: `kv.put` one per request with 1 and 64 concurrent clients, `kv.put` over one WebSocket with 64 in flight (raw, and through the typed `ChorusClient`), `kv.batch` of 100 with 1 and 8 clients; node CPU per write; "vs level" compares with the raw LevelDB figure of the same run (awaited put, or batch of 100).',
  order: 20,
  needs: ['level'],
  async run ({ quick, prior }): Promise<SuiteResult> {
    const why = await chorusUnavailable()
    if (why != null) return { rows: [], skipped: why }
    const level = prior?.level?.data ?? {}
    const levelPut = typeof level.put === 'number' ? level.put : null
    const levelBatch = typeof level.batch100 === 'number' ? level.batch100 : null
    const budgetMs = quick ? 600 : 6000
    const nodes: ChorusNode[] = []
    try {
      const node = await startChorus()
      nodes.push(node)
      const rpc = new RpcClient(node.url, 64)
      // warm-up: connections, JIT, LevelDB
      await runCase(rpc, { clients: 8, batch: 1, budgetMs: quick ? 200 : 1500, maxRequests: quick ? 500 : 5000, tag: 'warm' })
      const maxRequests = quick ? 20_000 : 500_000
      const http = async (o: { clients: number, batch: number, tag: string }): Promise<CaseResult> => await runCase(rpc, { ...o, budgetMs, maxRequests })
      const cases: Array<{ name: string, id: string, clients: number, batch: number, base: number | null, run?: () => Promise<CaseResult> }> = [
        { name: 'kv.put, 1 client', id: 'put1', clients: 1, batch: 1, base: levelPut },
        { name: 'kv.put, 64 clients', id: 'put64', clients: 64, batch: 1, base: levelPut },
        {
          name: 'kv.put over one WebSocket, 64 in flight',
          id: 'ws64',
          clients: 64,
          batch: 1,
          base: levelPut,
          run: async () => await overWs(node.url, async ws => await runCase(ws, { clients: 64, batch: 1, budgetMs, maxRequests, tag: 'ws64' }))
        },
        {
          name: 'kv.put, typed ChorusClient over WebSocket, 64 in flight',
          id: 'client64',
          clients: 64,
          batch: 1,
          base: levelPut,
          run: async () => {
            const client = new ChorusClient(node.url, { transport: 'ws' })
            try { return await runCase(client, { clients: 64, batch: 1, budgetMs, maxRequests, tag: 'client64' }) } finally { await client.close() }
          }
        },
        { name: 'kv.batch of 100, 1 client', id: 'batch1', clients: 1, batch: 100, base: levelBatch },
        { name: 'kv.batch of 100, 8 clients', id: 'batch8', clients: 8, batch: 100, base: levelBatch }
      ]
      const rows: SuiteRow[] = []
      const data: Record<string, number> = {}
      const notes: string[] = []
      const series: LatencyChart['series'] = []
      const bars: Array<{ label: string, value: number, group: string }> = []
      const ceilingRows: SuiteRow[] = []
      // Ceilings of the request path itself, same client, same run: Chorus's JSON-RPC stack
      // without storage (node.info), and a bare node:http server in its own process. First, while
      // the node's LevelDB has no compaction running to compete with them.
      const ceilings: Array<{ name: string, id: string, measuresNode?: boolean, run: () => Promise<CaseResult> }> = [
        { name: 'ceiling: Chorus node.info (JSON-RPC, no storage), 64 clients', id: 'rpcOnly64', measuresNode: true, run: async () => await runCase(rpc, { clients: 64, batch: 1, budgetMs, maxRequests, tag: 'info', method: 'node.info' }) },
        { name: 'ceiling: Chorus node.info over one WebSocket, 64 in flight', id: 'wsOnly64', measuresNode: true, run: async () => await overWs(node.url, async ws => await runCase(ws, { clients: 64, batch: 1, budgetMs, maxRequests, tag: 'info', method: 'node.info' })) },
        {
          name: 'ceiling: bare node:http JSON server (no storage), 64 clients',
          id: 'bareHttp64',
          run: async () => await withBareServer(async (url) => {
            const bare = new RpcClient(url, 64)
            try {
              await runCase(bare, { clients: 8, batch: 1, budgetMs: quick ? 200 : 1000, maxRequests: 5000, tag: 'warm' })
              return await runCase(bare, { clients: 64, batch: 1, budgetMs, maxRequests, tag: 'bare' })
            } finally { bare.close() }
          })
        },
        {
          name: 'ceiling: bare ws JSON server (no storage), 64 in flight',
          id: 'bareWs64',
          run: async () => await withBareServer(async (url) => await overWs(url, async ws => {
            await runCase(ws, { clients: 8, batch: 1, budgetMs: quick ? 200 : 1000, maxRequests: 5000, tag: 'warm' })
            return await runCase(ws, { clients: 64, batch: 1, budgetMs, maxRequests, tag: 'bare' })
          }), BARE_WS_SERVER)
        }
      ]
      for (const c of ceilings) {
        try {
          const { result: r, cpuMs } = await cpuDuring([node], c.run)
          const d = distribution(r.lat)
          const rps = (r.requests - r.errors) / (r.ms / 1000)
          data[`${c.id}RequestsPerSec`] = rps
          const perRequest = c.measuresNode === true ? perOp(cpuMs[0], r.requests - r.errors) : null
          if (perRequest != null) data[`${c.id}CpuUsPerRequest`] = perRequest
          ceilingRows.push({ name: c.name, metrics: { 'writes/s': null, 'requests/s': round(rps, 0), 'node CPU/write': null, 'node CPU/request': round(perRequest, 1), p50: round(d.p50, 3), p95: round(d.p95, 3), p99: round(d.p99, 3), max: round(d.max, 2), errors: r.errors, 'vs level': null } })
          bars.push({ label: c.name.replace('ceiling: ', ''), value: rps, group: 'request-path ceilings (requests/s, same run)' })
        } catch (err) {
          notes.push(`${c.name}: ${(err as Error).message}`)
        }
      }
      for (const c of cases) {
        const { result: r, cpuMs } = await cpuDuring([node], c.run ?? (async () => await http({ clients: c.clients, batch: c.batch, tag: c.id })))
        const d = distribution(r.lat)
        const wps = r.writes / (r.ms / 1000)
        data[`${c.id}OpsPerSec`] = wps
        const cpuPerWrite = perOp(cpuMs[0], r.writes)
        if (cpuPerWrite != null) data[`${c.id}CpuUsPerWrite`] = cpuPerWrite
        rows.push({
          name: c.name,
          metrics: {
            'writes/s': round(wps, 0),
            'requests/s': round((r.requests - r.errors) / (r.ms / 1000), 0),
            'node CPU/write': round(cpuPerWrite, 1),
            'node CPU/request': round(perOp(cpuMs[0], r.requests - r.errors), 1),
            p50: round(d.p50, 3),
            p95: round(d.p95, 3),
            p99: round(d.p99, 3),
            max: round(d.max, 2),
            errors: r.errors,
            'vs level': c.base != null ? `${((wps / c.base) * 100).toFixed(1)} %` : null
          }
        })
        if (r.errors > 0) notes.push(`${c.name}: ${r.errors} errors, first: ${r.firstError ?? '?'}`)
        series.push({ label: c.name, p50: d.p50, p95: d.p95, p99: d.p99, max: d.max })
        bars.push({ label: c.name, value: wps, group: 'Chorus' })
      }
      rows.push(...ceilingRows)
      if (levelPut != null) bars.push({ label: 'raw level: awaited put', value: levelPut, group: 'raw LevelDB (same run)' })
      if (levelBatch != null) bars.push({ label: 'raw level: batch of 100', value: levelBatch, group: 'raw LevelDB (same run)' })
      if (data.batch8OpsPerSec != null && levelBatch != null) data.batchVsLevelPct = Math.max(data.batch8OpsPerSec, data.batch1OpsPerSec ?? 0) / levelBatch * 100
      const mem = node.rss()
      if (mem.peak != null) { data.peakRssBytes = mem.peak; notes.push(`Node peak RSS: ${(mem.peak / 1024 / 1024).toFixed(0)} MB.`) }
      notes.unshift(`Each case runs ${budgetMs / 1000} s after a warm-up; latency is per request, client-side (includes HTTP and JSON). "node CPU" is the node process's own CPU time (all threads, user + system, from /proc/<pid>/stat) over the case, divided by the writes (or requests) acknowledged: far less sensitive to the machine's other load than a rate. Client and node share the 2 cores. The "ceiling" rows store nothing: they bound what one Node.js process answering JSON over HTTP/1.1, or over one WebSocket, can do here, whatever it stores. The WebSocket rows keep 64 requests in flight on one socket and match answers by id.`)
      notes.push(...crashNotes(nodes, 'write'))
      rpc.close()
      return {
        units: { 'writes/s': 'keys/s', 'node CPU/write': 'µs', 'node CPU/request': 'µs', p50: 'ms', p95: 'ms', p99: 'ms', max: 'ms' },
        rows,
        data,
        notes,
        charts: [
          { kind: 'bar', id: 'write-throughput', title: 'Chorus write throughput vs raw LevelDB (same run)', unit: 'keys written per second', log: true, bars },
          { kind: 'latency', id: 'write-latency', title: 'Chorus write latency per request', unit: 'ms', log: true, series }
        ]
      }
    } finally {
      await stopAll(nodes)
    }
  }
}
