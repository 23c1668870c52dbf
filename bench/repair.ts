/**
 * Repair benchmark (issue 3): two nodes with n keys of which d differ, randomly spread; one
 * anti-entropy exchange over real libp2p on loopback (TCP, noise, yamux). Replicas live in
 * memory (test/antientropy/helpers/memory-replica.ts: the real tree, hashes and merges) so
 * that n = 1M is feasible; what crosses the wire is exactly what LevelDB replicas would send.
 *
 * Each difference is either a newer write on the initiator of a key both hold, or a key only
 * the responder holds (alternately), so the minimum transfer is exactly those d states.
 *
 * Run directly: `node --import tsx bench/repair.ts [--1m]`.
 */
import '../src/util/polyfills.js'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import type { Libp2p } from '@libp2p/interface'
import { tcp } from '@libp2p/tcp'
import { createLibp2p } from 'libp2p'
import pino from 'pino'
import { createAntiEntropy, type AntiEntropy } from '../src/antientropy/index.js'
import { EMPTY_REGISTER, writeRegister } from '../src/causal/index.js'
import { encodeRegister } from '../src/codec/index.js'
import { bucketOf, leafHash, MerkleTree, nextBucketHash } from '../src/merkle/index.js'
import { MemoryReplica } from '../test/antientropy/helpers/memory-replica.js'

export interface RepairBenchOptions {
  /** @default [10_000, 100_000] (plus 1,000,000 with `include1M`) */
  sizes?: number[]
  /** @default [0, 1, 100, 10_000] (d ≤ n/2 only) */
  diffs?: number[]
  include1M?: boolean
  /** Bytes of each register's JSON value. @default 64 */
  valueBytes?: number
  /** Progress lines (to stderr by default). */
  progress?: (line: string) => void
}

export interface RepairBenchRow {
  n: number
  d: number
  inSync: boolean
  roundTrips: number
  wallMs: number
  /** Tree metadata initiator → responder and back (every frame but STATES, length prefixes included). */
  metaBytesOut: number
  metaBytesIn: number
  /** Key state (STATES frames) each way. */
  stateBytesOut: number
  stateBytesIn: number
  keysSent: number
  keysReceived: number
  /** (metaBytesOut + metaBytesIn) / d. */
  metaBytesPerDiff: number
  /** Sum of the d differing states' encoded sizes (keys included): the least any protocol must send. */
  minimumStateBytes: number
  /** Every state of the larger side: what a full-state transfer would send. */
  fullStateBytes: number
  /** CPU per write spent on the tree (leaf hash + bucket and ancestor XORs), µs. */
  treeUsPerWrite: number
}

const log = pino({ level: 'silent' })
const WALL = 1_700_000_000_000

function state (node: string, counter: number, valueBytes: number, tag: string): Uint8Array {
  const value = JSON.stringify(tag.padEnd(valueBytes, '.'))
  let s = writeRegister(EMPTY_REGISTER, { node, hlc: { wall: WALL + counter, logical: 0 }, value })
  for (let c = 1; c < counter; c++) s = writeRegister(s, { node, hlc: { wall: WALL + counter, logical: c }, value })
  return encodeRegister(s)
}

async function host (): Promise<Libp2p> {
  return await createLibp2p({
    addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()]
  })
}

/** Per-write tree maintenance, as the write path does it: one leaf hash, then XOR into bucket and ancestors. */
export function measureTreeCpu (writes = 200_000, valueBytes = 64): number {
  const tree = new MerkleTree()
  const leaves = new Map<string, Uint8Array>()
  const s = state('NodeA', 1, valueBytes, 'w')
  const keys = Array.from({ length: 10_000 }, (_, i) => `r/key-${i}`)
  const buckets = keys.map(bucketOf)
  const start = process.cpuUsage()
  for (let i = 0; i < writes; i++) {
    const k = i % keys.length
    const key = keys[k] as string
    const leaf = leafHash(key, s)
    const bucket = buckets[k] as number
    tree.setBucket(bucket, nextBucketHash(tree.bucket(bucket), leaves.get(key), leaf))
    leaves.set(key, leaf)
  }
  const used = process.cpuUsage(start)
  return (used.user + used.system) / writes
}

function pick (n: number, count: number, taken: Set<number>): number[] {
  const out: number[] = []
  while (out.length < count) {
    const i = Math.floor(Math.random() * n)
    if (taken.has(i)) continue
    taken.add(i)
    out.push(i)
  }
  return out
}

export async function runRepairBench (options: RepairBenchOptions = {}): Promise<RepairBenchRow[]> {
  const sizes = options.sizes ?? [10_000, 100_000, ...(options.include1M === true ? [1_000_000] : [])]
  const diffs = options.diffs ?? [0, 1, 100, 10_000]
  const valueBytes = options.valueBytes ?? 64
  const progress = options.progress ?? ((line: string) => { process.stderr.write(`${line}\n`) })
  const treeUs = measureTreeCpu(200_000, valueBytes)
  const rows: RepairBenchRow[] = []
  const [ha, hb] = await Promise.all([host(), host()])
  try {
    await ha.dial(hb.getMultiaddrs()[0] as never)
    for (const n of sizes) {
      progress(`repair bench: building two replicas of ${n} keys`)
      const a = new MemoryReplica()
      const b = new MemoryReplica()
      const base = state('NodeA', 1, valueBytes, 'base')
      for (let i = 0; i < n; i++) {
        a.set(`r/key-${i}`, base)
        b.set(`r/key-${i}`, base)
      }
      const aeA = createAntiEntropy({ libp2p: ha, replica: a, logger: log }, { schedule: false, exchangeTimeoutMs: 600_000, timeoutMs: 60_000 })
      const aeB = createAntiEntropy({ libp2p: hb, replica: b, logger: log }, { schedule: false, exchangeTimeoutMs: 600_000, timeoutMs: 60_000 })
      await aeA.start()
      await aeB.start()
      try {
        const taken = new Set<number>()
        let fresh = 0
        for (const d of diffs.filter(d => d <= n / 2)) {
          let minimum = 0
          let generation = 2
          // Alternate: a newer write on the initiator, a key only the responder holds.
          for (const [j, i] of pick(n, Math.ceil(d / 2), taken).entries()) {
            const key = `r/key-${i}`
            const s = state('NodeA', generation + (j % 2), valueBytes, 'newer')
            a.set(key, s)
            minimum += s.length + key.length
          }
          generation += 2
          for (let j = 0; j < Math.floor(d / 2); j++) {
            const key = `r/new-${fresh++}`
            const s = state('NodeB', 1, valueBytes, 'new')
            b.set(key, s)
            minimum += s.length + key.length
          }
          const full = Math.max(a.keyCount(), b.keyCount()) * (base.length + `r/key-${n}`.length)
          const row = await once(aeA, hb.peerId.toString(), n, d, minimum, full, treeUs)
          if (Buffer.compare(a.tree.root(), b.tree.root()) !== 0) throw new Error(`n=${n} d=${d}: roots differ after one exchange`)
          rows.push(row)
          progress(`repair bench: n=${n} d=${d}: ${row.roundTrips} round trips, ${row.wallMs} ms, metadata ${row.metaBytesOut}+${row.metaBytesIn} B, state ${row.stateBytesOut}+${row.stateBytesIn} B`)
        }
      } finally {
        await aeA.stop()
        await aeB.stop()
      }
    }
  } finally {
    await Promise.all([ha.stop(), hb.stop()])
  }
  return rows
}

async function once (ae: AntiEntropy, peer: string, n: number, d: number, minimum: number, full: number, treeUs: number): Promise<RepairBenchRow> {
  const started = performance.now()
  const report = await ae.syncDetailed(peer)
  const wallMs = Math.round(performance.now() - started)
  const s = report.stats
  return {
    n,
    d,
    inSync: report.inSync,
    roundTrips: report.roundTrips,
    wallMs,
    metaBytesOut: s.metaBytesSent,
    metaBytesIn: s.metaBytesReceived,
    stateBytesOut: s.stateBytesSent,
    stateBytesIn: s.stateBytesReceived,
    keysSent: report.keysSent,
    keysReceived: report.keysReceived,
    metaBytesPerDiff: d === 0 ? 0 : Math.round((s.metaBytesSent + s.metaBytesReceived) / d),
    minimumStateBytes: minimum,
    fullStateBytes: full,
    treeUsPerWrite: Math.round(treeUs * 100) / 100
  }
}

if (import.meta.url === `file://${process.argv[1] ?? ''}`) {
  const rows = await runRepairBench({ include1M: process.argv.includes('--1m') })
  process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`)
}
