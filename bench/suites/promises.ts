/**
 * promises: what issue 13's five opt-in promises cost, each beside its baseline measured in the
 * same run — durable writes (`replicas`), causal sessions (`session`), the change feed (always
 * written), expiring keys (`ttlMs`) and maps (`map.*`). Each part is a function of a cost script
 * in bench/ (durable-writes.ts, session-cost.ts, feed-cost.ts, expiry-cost.ts, map-cost.ts),
 * which also runs standalone and prints more. CPU time per operation is given beside every rate
 * or latency: the machine is shared, and CPU moves far less with the other load than wall time.
 */
import { DURABLE_MODES, measureDurableWrites, pushFrameBytes } from '../durable-writes.js'
import { expiryBytes, expiryCalls } from '../expiry-cost.js'
import { measureFeed } from '../feed-cost.js'
import { mapBytes, mapCalls } from '../map-cost.js'
import { measureSessions } from '../session-cost.js'
import { chorusUnavailable } from '../lib/chorus.js'
import { delta, type PerCall } from '../lib/cost.js'
import { round } from '../lib/stats.js'
import type { BarChart, MetricValue, Suite, SuiteResult, SuiteRow } from '../lib/types.js'

/** Counts per part: full runs keep the whole suite to a few minutes, quick runs to seconds. */
const COUNTS = {
  full: {
    durable: { sizes: [3, 5], writes: 300, warmup: 30 },
    sessions: { keys: 10_000, rounds: 21, calls: 500, hops: 40 },
    feed: { sequential: 2000, concurrent: 20_000, inFlight: 64, rounds: 5, staged: 100_000 },
    expiry: { calls: 1000, rounds: 7 },
    maps: { calls: 1000, rounds: 7 }
  },
  quick: {
    durable: { sizes: [3], writes: 10, warmup: 3 },
    sessions: { keys: 200, rounds: 2, calls: 50, hops: 3 },
    feed: { sequential: 200, concurrent: 1000, inFlight: 64, rounds: 1, staged: 6400 },
    expiry: { calls: 100, rounds: 2 },
    maps: { calls: 100, rounds: 2 }
  }
} as const

type Counts = typeof COUNTS.full | typeof COUNTS.quick

/** One table row; every metric absent from `m` is shown as "–". */
function row (name: string, m: Partial<Record<'p50' | 'p99' | 'wall/op' | 'CPU/op' | 'CPU vs baseline' | 'bytes' | 'bytes vs baseline', MetricValue>>): SuiteRow {
  return {
    name,
    metrics: {
      p50: m.p50 ?? null,
      p99: m.p99 ?? null,
      'wall/op': m['wall/op'] ?? null,
      'CPU/op': m['CPU/op'] ?? null,
      'CPU vs baseline': m['CPU vs baseline'] ?? null,
      bytes: m.bytes ?? null,
      'bytes vs baseline': m['bytes vs baseline'] ?? null
    }
  }
}

/** A row of an in-process measurement against its baseline (null: it is the baseline). */
function callRow (name: string, c: PerCall, base: PerCall | null): SuiteRow {
  return row(name, { 'wall/op': round(c.wallUs, 1), 'CPU/op': round(c.cpuUs, 1), 'CPU vs baseline': base == null ? 'baseline' : `${delta(base.cpuUs, c.cpuUs)} µs` })
}

function bytesVs (bytes: number, base: number | null): MetricValue {
  return base == null ? 'baseline' : `${delta(base, bytes, 0)} B (×${(bytes / base).toFixed(2)})`
}

/** How the in-process cases were timed (bench/lib/cost.ts `interleaved`). */
function roundsNote (o: { calls: number, rounds: number }): string {
  return `sequential calls, the cases interleaved in ${o.rounds} rounds of ${o.calls.toLocaleString('en-US')} calls each (order reversed every other round, the first round a warm-up); median per case of wall and this process's CPU time per call.`
}

interface Part { rows: SuiteRow[], notes: string[], bars: BarChart['bars'], data: Record<string, unknown> }
const emptyPart = (): Part => ({ rows: [], notes: [], bars: [], data: {} })

async function durablePart (c: Counts): Promise<Part> {
  const p = emptyPart()
  const why = await chorusUnavailable()
  if (why != null) { p.notes.push(`Durable writes not measured: ${why}.`); return p }
  const results = await measureDurableWrites({ sizes: [...c.durable.sizes], writes: c.durable.writes, warmup: c.durable.warmup })
  for (const r of results) {
    const base = r.modes.find(m => m.mode === DURABLE_MODES[0].name)
    for (const m of r.modes) {
      const isBase = m === base
      p.rows.push(row(`durable, ${r.nodes} nodes: kv.put ${m.mode === 'plain' ? '(plain)' : m.mode}`, {
        p50: round(m.latency.p50, 2),
        p99: round(m.latency.p99, 2),
        'CPU/op': round(m.cpuUsPerWrite, 0),
        'CPU vs baseline': isBase ? 'baseline' : base?.cpuUsPerWrite != null && m.cpuUsPerWrite != null ? `${delta(base.cpuUsPerWrite, m.cpuUsPerWrite, 0)} µs` : null
      }))
      if (m.cpuUsPerWrite != null) p.bars.push({ label: `${r.nodes} nodes, ${m.mode}`, value: m.cpuUsPerWrite, group: 'durable writes (CPU of all nodes per kv.put)' })
    }
  }
  p.data.durable = results
  p.data.pushFrameBytes = pushFrameBytes()
  p.notes.push(`Durable writes: ${c.durable.sizes.join(' and ')} \`bin/chorus\` processes, one client writing 100-byte values to one node, one call at a time; latency (ms, client side, over HTTP) from ${c.durable.writes} writes per mode with the modes interleaved (after ${c.durable.warmup} of each to warm up); "CPU/op" is the CPU of all the nodes' processes together per write, from one block of ${c.durable.writes} writes per mode. A durable write pushes a PUSH frame of ${p.data.pushFrameBytes as number} B (one 100-byte register) and gets an ACK of 4 B from every connected peer, on a stream of its own.`)
  return p
}

async function sessionPart (c: Counts): Promise<Part> {
  const p = emptyPart()
  const s = await measureSessions(c.sessions)
  p.rows.push(callRow('sessions: kv.get on the token\'s node, no session', s.getPlain, null))
  p.rows.push(callRow('sessions: kv.get on the token\'s node, with session', s.getSession, s.getPlain))
  p.rows.push(row('sessions: kv.get on B right after a put on A, no token', { p50: round(s.noHopMs, 2), 'CPU/op': round(s.noHopCpuUs, 0), 'CPU vs baseline': 'baseline' }))
  p.rows.push(row('sessions: the same kv.get with A\'s token (a hop)', { p50: round(s.hopMs.median, 2), 'CPU/op': round(s.hopCpuUs, 0), 'CPU vs baseline': `${delta(s.noHopCpuUs, s.hopCpuUs, 0)} µs` }))
  p.rows.push(row('sessions: the token', { bytes: s.tokenBytes }))
  p.bars.push({ label: 'kv.get, no session', value: s.getPlain.cpuUs, group: 'sessions (CPU per kv.get, in process)' }, { label: 'kv.get, with session', value: s.getSession.cpuUs, group: 'sessions (CPU per kv.get, in process)' })
  p.data.sessions = s
  p.notes.push(`Sessions: two nodes in the runner's process (loopback TCP, gossip on, ${s.keys.toLocaleString('en-US')} keys), the RPC handler called directly (no HTTP); "wall/op" and "CPU/op" (this process) are the medians of ${c.sessions.rounds - 1} interleaved rounds of ${c.sessions.calls} calls (after one to warm up, order reversed every other round). The hop rows: ${s.hops} puts on A, each followed on B by a kv.get without and then with A's token (one vector query and one anti-entropy exchange); p50 is the median in ms (max of the hops ${s.hopMs.max.toFixed(1)} ms), CPU/op the median CPU of both nodes. The token is ${s.tokenChars} base64url characters (${s.tokenBytes} bytes).`)
  return p
}

async function feedPart (c: Counts): Promise<Part> {
  const p = emptyPart()
  const f = await measureFeed({ ...c.feed })
  const seq = (r: typeof f.with): PerCall => ({ wallUs: r.seqUs, cpuUs: r.seqCpu })
  const conc = (r: typeof f.with): PerCall => ({ wallUs: r.concUs, cpuUs: r.concCpu })
  p.rows.push(callRow('feed: write, one per commit, without the feed', seq(f.without), null))
  p.rows.push(callRow('feed: write, one per commit, with the feed', seq(f.with), seq(f.without)))
  p.rows.push(callRow(`feed: write, ${c.feed.inFlight} in flight, without the feed`, conc(f.without), null))
  p.rows.push(callRow(`feed: write, ${c.feed.inFlight} in flight, with the feed`, conc(f.with), conc(f.without)))
  p.rows.push(row('feed: one entry (key "user/12345") in LevelDB\'s log', { 'CPU/op': round(f.stageUs, 2), bytes: f.entryLogBytes }))
  p.bars.push({ label: 'one per commit, without', value: f.without.seqCpu, group: 'change feed (CPU per write)' }, { label: 'one per commit, with', value: f.with.seqCpu, group: 'change feed (CPU per write)' })
  p.data.feed = f
  p.notes.push(`Change feed: the replica's write path in the runner's process on a real LevelDB, with and without the feed's commit hook, ${c.feed.sequential.toLocaleString('en-US')} writes one per commit and ${c.feed.concurrent.toLocaleString('en-US')} with ${c.feed.inFlight} in flight, best of ${c.feed.rounds} alternating runs. The entry row: CPU of staging one entry (encoding, no I/O) and its bytes in LevelDB's log: ${f.entryKeyBytes} B of key, ${f.entryValueBytes} B of value (7 + the store key), 3 B of record header.`)
  return p
}

async function expiryPart (c: Counts): Promise<Part> {
  const p = emptyPart()
  const b = expiryBytes()
  p.rows.push(row('expiry: register state, one version', { bytes: b.register[0], 'bytes vs baseline': 'baseline' }))
  p.rows.push(row('expiry: the same with an expiry', { bytes: b.register[1], 'bytes vs baseline': bytesVs(b.register[1], b.register[0]) }))
  p.rows.push(row('expiry: counter state, one node', { bytes: b.counter[0], 'bytes vs baseline': 'baseline' }))
  p.rows.push(row('expiry: the same with an end', { bytes: b.counter[1], 'bytes vs baseline': bytesVs(b.counter[1], b.counter[0]) }))
  p.rows.push(row('expiry: set state, one node, 2 members', { bytes: b.set[0], 'bytes vs baseline': 'baseline' }))
  p.rows.push(row('expiry: the same with an end', { bytes: b.set[1], 'bytes vs baseline': bytesVs(b.set[1], b.set[0]) }))
  const r = await expiryCalls(c.expiry.calls, c.expiry.rounds)
  p.rows.push(callRow('expiry: kv.put', r.put, null))
  p.rows.push(callRow('expiry: kv.put with ttlMs', r.putTtl, r.put))
  p.rows.push(callRow('expiry: kv.get', r.get, null))
  p.rows.push(callRow('expiry: kv.get of an expiring key', r.getTtl, r.get))
  p.bars.push({ label: 'kv.put', value: r.put.cpuUs, group: 'expiry (CPU per call, in process)' }, { label: 'kv.put with ttlMs', value: r.putTtl.cpuUs, group: 'expiry (CPU per call, in process)' })
  p.data.expiry = { bytes: b, calls: r }
  p.notes.push(`Expiry: bytes of the encoded states (the register holds \`{"name":"Ada"}\`; a counter or set with an end is shown in its first life: in a later life it carries a generation too, ${b.counter[2]} B for the counter, and ${b.set[2]} B for the set with one member re-added). Calls: one node in the runner's process (no RPC), ${roundsNote(c.expiry)}`)
  return p
}

async function mapPart (c: Counts): Promise<Part> {
  const p = emptyPart()
  const b = mapBytes()
  p.rows.push(row('maps: kv register holding a 100-byte string', { bytes: b.register, 'bytes vs baseline': 'baseline' }))
  p.rows.push(row('maps: a map of 1 such field', { bytes: b.map1, 'bytes vs baseline': bytesVs(b.map1, b.register) }))
  p.rows.push(row('maps: a map of 100 such fields', { bytes: b.map100, 'bytes vs baseline': bytesVs(b.map100, b.register) }))
  const r = await mapCalls(c.maps.calls, c.maps.rounds)
  p.rows.push(callRow('maps: kv.put of a 100-byte string', r.kvPut, null))
  p.rows.push(callRow('maps: map.update of one field, 1-field map', r.map1Update, r.kvPut))
  p.rows.push(callRow('maps: map.update of one field, 100-field map', r.map100Update, r.kvPut))
  p.rows.push(callRow('maps: kv.get', r.kvGet, null))
  p.rows.push(callRow('maps: map.get of the 100-field map', r.map100Get, r.kvGet))
  const g = 'maps (CPU per call, in process)'
  p.bars.push({ label: 'kv.put', value: r.kvPut.cpuUs, group: g }, { label: 'map.update, 1 field', value: r.map1Update.cpuUs, group: g }, { label: 'map.update, 100 fields', value: r.map100Update.cpuUs, group: g }, { label: 'kv.get', value: r.kvGet.cpuUs, group: g }, { label: 'map.get, 100 fields', value: r.map100Get.cpuUs, group: g })
  p.data.maps = { bytes: b, calls: r }
  p.notes.push(`Maps: bytes of the encoded state one write stores and gossips (a map is replicated whole). Calls: one node in the runner's process (no RPC, no peers), ${roundsNote(c.maps)}`)
  return p
}

export const suite: Suite = {
  name: 'promises',
  description: 'What the opt-in promises of issue 13 cost, each beside its baseline measured in the same run: `kv.put` plain vs `replicas: 2` vs `replicas: "majority"` on 3 and 5 `bin/chorus` processes (latency, CPU of all nodes per write); `kv.get` with and without `session`, and a hop (a get on B with A\'s token after a put on A); the change feed\'s commit hook per write; `ttlMs` in bytes per state and per `kv.put`; `map.update` on 1- and 100-field maps vs `kv.put`, and `map.get` vs `kv.get`. "CPU/op" and "wall/op" in µs, p50/p99 in ms.',
  order: 60,
  async run ({ quick }): Promise<SuiteResult> {
    const c: Counts = quick ? COUNTS.quick : COUNTS.full
    const parts: Array<[string, (c: Counts) => Promise<Part>]> = [['durable writes', durablePart], ['sessions', sessionPart], ['change feed', feedPart], ['expiry', expiryPart], ['maps', mapPart]]
    const rows: SuiteRow[] = []
    const notes: string[] = []
    const bars: BarChart['bars'] = []
    const data: Record<string, unknown> = {}
    for (const [name, run] of parts) {
      // A part that fails is reported, not fatal: the others' figures still stand.
      try {
        const p = await run(c)
        rows.push(...p.rows)
        notes.push(...p.notes)
        bars.push(...p.bars)
        Object.assign(data, p.data)
      } catch (err) {
        notes.push(`${name}: failed: ${(err as Error).message.split('\n')[0] ?? String(err)}`)
      }
    }
    notes.push('"vs baseline" compares each row with the row marked baseline just above it, measured in the same run. The in-process rows (sessions, feed, expiry, maps) count the CPU of the whole runner process, LevelDB\'s threads included; the durable rows count the nodes\' processes only (from /proc/<pid>/stat), not the client\'s.')
    return {
      units: { p50: 'ms', p99: 'ms', 'wall/op': 'µs', 'CPU/op': 'µs', bytes: 'B' },
      rows,
      notes,
      data,
      charts: bars.length > 0 ? [{ kind: 'bar', id: 'promises-cpu', title: 'CPU per operation of issue 13\'s promises, each beside its baseline (same run)', unit: 'µs of CPU per operation', log: true, bars }] : []
    }
  }
}
