/**
 * The change feed's cost per write. Used by the `promises` suite (bench/suites/promises.ts), and
 * standalone: `node --import tsx bench/feed-cost.ts`.
 *
 * The same writes through the replica's write path with and without the feed's commit hook, on
 * a real LevelDB in a temp dir (alternating runs, best of each), plus the bytes an entry adds
 * and the CPU of staging entries alone. Both wall time and this process's CPU time per write
 * are given: on a shared, loaded machine the CPU time is the steadier of the two (LevelDB's own
 * threads count in it too).
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pino } from 'pino'
import { HybridLogicalClock } from '../src/clock/index.js'
import { ChangeLog, encodeEntryValue, seqKey } from '../src/feed/index.js'
import { Replica, type AppliedChange } from '../src/replica/index.js'
import { Store } from '../src/store/index.js'
import { cpuUs } from './lib/cost.js'
import { now } from './lib/stats.js'

export interface FeedOptions { sequential: number, concurrent: number, inFlight: number, rounds: number, staged: number }
/** µs per write: wall and CPU, one write per commit (seq) and `inFlight` in flight (conc). */
export interface FeedRun { seqUs: number, concUs: number, seqCpu: number, concCpu: number }
export interface FeedCost {
  without: FeedRun
  with: FeedRun
  /** One entry for key "user/12345": LevelDB key and value bytes, and in LevelDB's log. */
  entryKeyBytes: number
  entryValueBytes: number
  entryLogBytes: number
  /** CPU of staging one entry (encoding, no I/O), µs. */
  stageUs: number
  opts: FeedOptions
}

async function run (withFeed: boolean, o: FeedOptions): Promise<FeedRun> {
  const dir = await mkdtemp(join(tmpdir(), 'chorus-feed-cost-'))
  const store = await Store.open({ location: dir, fsync: false })
  const log = withFeed ? await ChangeLog.open(store, '12D3KooWBench') : undefined
  const replica = await Replica.open({ store, nodeId: 'bench', clock: new HybridLogicalClock(), logger: pino({ level: 'silent' }), ...(log !== undefined ? { commitHook: log } : {}) })
  let t = now()
  let c = cpuUs()
  for (let i = 0; i < o.sequential; i++) await replica.applyLocal([{ kind: 'kv.put', key: `user/${i}`, json: '{"n":1}' }])
  const seqUs = (now() - t) * 1000 / o.sequential
  const seqCpu = (cpuUs() - c) / o.sequential
  t = now()
  c = cpuUs()
  let next = 0
  await Promise.all(Array.from({ length: o.inFlight }, async () => {
    while (next < o.concurrent) { const i = next++; await replica.applyLocal([{ kind: 'kv.put', key: `bulk/${i}`, json: '{"n":1}' }]) }
  }))
  const concUs = (now() - t) * 1000 / o.concurrent
  const concCpu = (cpuUs() - c) / o.concurrent
  await store.close()
  await rm(dir, { recursive: true, force: true })
  return { seqUs, concUs, seqCpu, concCpu }
}

/** CPU of staging alone: `count` changes in groups of 64, µs per change. */
async function stagingUs (count: number): Promise<number> {
  const dir = await mkdtemp(join(tmpdir(), 'chorus-feed-stage-'))
  const store = await Store.open({ location: dir, fsync: false })
  try {
    const stageOnly = await ChangeLog.open(store, '12D3KooWBench')
    const group = Array.from({ length: 64 }, (_, i) => [{ space: 'kv', key: `user/${i}`, storeKey: `r/user/${i}`, state: new Uint8Array(0), origin: 'local' } as AppliedChange, { vv: {}, siblings: [{ value: '1' }] }] as const)
    const c = cpuUs()
    for (let i = 0; i < count / 64; i++) { stageOnly.stage(group as never, Date.now()); stageOnly.settle(true) }
    return (cpuUs() - c) / count
  } finally {
    await store.close()
    await rm(dir, { recursive: true, force: true })
  }
}

export async function measureFeed (opts: FeedOptions): Promise<FeedCost> {
  const fresh = (): FeedRun => ({ seqUs: Infinity, concUs: Infinity, seqCpu: Infinity, concCpu: Infinity })
  const best = { with: fresh(), without: fresh() }
  for (let round = 0; round < opts.rounds; round++) {
    for (const mode of ['without', 'with'] as const) {
      const r = await run(mode === 'with', opts)
      const b = best[mode]
      b.seqUs = Math.min(b.seqUs, r.seqUs)
      b.concUs = Math.min(b.concUs, r.concUs)
      b.seqCpu = Math.min(b.seqCpu, r.seqCpu)
      b.concCpu = Math.min(b.concCpu, r.concCpu)
    }
  }
  // (The data directory's size is no measure of it at this scale: it moves with LevelDB's log
  // rotation and compaction timing by more than the entries weigh.) The entry itself: LevelDB
  // key (sublevel prefix "!feed!" + 16 hex digits) and value.
  const entryKeyBytes = 6 + seqKey(1).length
  const entryValueBytes = encodeEntryValue('r/user/12345', 'local', false, Date.now()).length
  return { ...best, entryKeyBytes, entryValueBytes, entryLogBytes: entryKeyBytes + entryValueBytes + 3, stageUs: await stagingUs(opts.staged), opts }
}

if (import.meta.url === `file://${process.argv[1] ?? ''}`) {
  const r = await measureFeed({ sequential: 2000, concurrent: 20_000, inFlight: 64, rounds: 5, staged: 100_000 })
  const line = (label: string, a: number, b: number): string => `${label}${a.toFixed(1)} µs without the feed, ${b.toFixed(1)} µs with (${b >= a ? '+' : ''}${(b - a).toFixed(1)} µs)`
  console.log(line('one write per commit, wall: ', r.without.seqUs, r.with.seqUs))
  console.log(line('one write per commit, CPU:  ', r.without.seqCpu, r.with.seqCpu))
  console.log(line(`${r.opts.inFlight} writes in flight, wall:  `, r.without.concUs, r.with.concUs))
  console.log(line(`${r.opts.inFlight} writes in flight, CPU:   `, r.without.concCpu, r.with.concCpu))
  console.log(`one entry for key "user/12345": ${r.entryKeyBytes} B key + ${r.entryValueBytes} B value (7 + store key); in LevelDB's log ${r.entryLogBytes} B with the record's type and two lengths`)
  console.log(`staging an entry (CPU, no I/O): ${r.stageUs.toFixed(2)} µs`)
  process.exit(0)
}
