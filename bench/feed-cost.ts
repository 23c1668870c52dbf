/**
 * The change feed's cost per write, roughly: the same writes through the replica's write path
 * with and without the feed's commit hook, on a real LevelDB in a temp dir (alternating runs,
 * best of each), plus the bytes an entry adds and the CPU of staging entries alone. Both wall
 * time and this process's CPU time per write are shown: on a shared, loaded machine the CPU
 * time is the steadier of the two (LevelDB's own threads count in it too).
 *
 *   node --import tsx bench/feed-cost.ts
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pino } from 'pino'
import { HybridLogicalClock } from '../src/clock/index.js'
import { ChangeLog, encodeEntryValue, seqKey } from '../src/feed/index.js'
import { Replica, type AppliedChange } from '../src/replica/index.js'
import { Store } from '../src/store/index.js'

const SEQUENTIAL = 2000
const CONCURRENT = 20_000
const IN_FLIGHT = 64

const cpuUs = (): number => { const u = process.cpuUsage(); return u.user + u.system }

async function run (withFeed: boolean): Promise<{ seqUs: number, concUs: number, seqCpu: number, concCpu: number }> {
  const dir = await mkdtemp(join(tmpdir(), 'chorus-feed-cost-'))
  const store = await Store.open({ location: dir, fsync: false })
  const log = withFeed ? await ChangeLog.open(store, '12D3KooWBench') : undefined
  const replica = await Replica.open({ store, nodeId: 'bench', clock: new HybridLogicalClock(), logger: pino({ level: 'silent' }), ...(log !== undefined ? { commitHook: log } : {}) })
  let t = performance.now()
  let c = cpuUs()
  for (let i = 0; i < SEQUENTIAL; i++) await replica.applyLocal([{ kind: 'kv.put', key: `user/${i}`, json: '{"n":1}' }])
  const seqUs = (performance.now() - t) * 1000 / SEQUENTIAL
  const seqCpu = (cpuUs() - c) / SEQUENTIAL
  t = performance.now()
  c = cpuUs()
  let next = 0
  await Promise.all(Array.from({ length: IN_FLIGHT }, async () => {
    while (next < CONCURRENT) { const i = next++; await replica.applyLocal([{ kind: 'kv.put', key: `bulk/${i}`, json: '{"n":1}' }]) }
  }))
  const concUs = (performance.now() - t) * 1000 / CONCURRENT
  const concCpu = (cpuUs() - c) / CONCURRENT
  await store.close()
  await rm(dir, { recursive: true, force: true })
  return { seqUs, concUs, seqCpu, concCpu }
}

const start = (): { seqUs: number, concUs: number, seqCpu: number, concCpu: number } => ({ seqUs: Infinity, concUs: Infinity, seqCpu: Infinity, concCpu: Infinity })
const best = { with: start(), without: start() }
for (let round = 0; round < 5; round++) {
  for (const mode of ['without', 'with'] as const) {
    const r = await run(mode === 'with')
    const b = best[mode]
    b.seqUs = Math.min(b.seqUs, r.seqUs)
    b.concUs = Math.min(b.concUs, r.concUs)
    b.seqCpu = Math.min(b.seqCpu, r.seqCpu)
    b.concCpu = Math.min(b.concCpu, r.concCpu)
  }
}
const line = (label: string, a: number, b: number): string => `${label}${a.toFixed(1)} µs without the feed, ${b.toFixed(1)} µs with (${b >= a ? '+' : ''}${(b - a).toFixed(1)} µs)`
console.log(line('one write per commit, wall: ', best.without.seqUs, best.with.seqUs))
console.log(line('one write per commit, CPU:  ', best.without.seqCpu, best.with.seqCpu))
console.log(line(`${IN_FLIGHT} writes in flight, wall:  `, best.without.concUs, best.with.concUs))
console.log(line(`${IN_FLIGHT} writes in flight, CPU:   `, best.without.concCpu, best.with.concCpu))
// (The data directory's size is no measure of it at this scale: it moves with LevelDB's log
// rotation and compaction timing by more than the entries weigh.)

// The entry itself: LevelDB key (sublevel prefix "!feed!" + 16 hex digits) and value.
const storeKey = 'r/user/12345'
const keyBytes = 6 + seqKey(1).length
const valueBytes = encodeEntryValue(storeKey, 'local', false, Date.now()).length
console.log(`one entry for key "user/12345": ${keyBytes} B key + ${valueBytes} B value (7 + store key); in LevelDB's log ${keyBytes + valueBytes + 3} B with the record's type and two lengths`)

// CPU of staging alone: 100,000 changes in groups of 64.
const stageOnly = await ChangeLog.open(await Store.open({ location: await mkdtemp(join(tmpdir(), 'chorus-feed-stage-')), fsync: false }), '12D3KooWBench')
const group = Array.from({ length: 64 }, (_, i) => [{ space: 'kv', key: `user/${i}`, storeKey: `r/user/${i}`, state: new Uint8Array(0), origin: 'local' } as AppliedChange, { vv: {}, siblings: [{ value: '1' }] }] as const)
const t = performance.now()
for (let i = 0; i < 100_000 / 64; i++) { stageOnly.stage(group as never, Date.now()); stageOnly.settle(true) }
console.log(`staging an entry (CPU, no I/O): ${((performance.now() - t) * 1000 / 100_000).toFixed(2)} µs`)
process.exit(0)
