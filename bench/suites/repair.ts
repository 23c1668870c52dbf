/**
 * repair: registers the anti-entropy benchmark of bench/repair.ts (owned by the anti-entropy
 * work; this adapter only runs it and tabulates its rows).
 */
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { ROOT } from '../lib/chorus.js'
import type { BarChart, Suite, SuiteResult, SuiteRow } from '../lib/types.js'

interface RepairRow {
  n: number
  d: number
  inSync: boolean
  roundTrips: number
  wallMs: number
  metaBytesOut: number
  metaBytesIn: number
  stateBytesOut: number
  stateBytesIn: number
  keysSent: number
  keysReceived: number
  metaBytesPerDiff: number
  minimumStateBytes: number
  fullStateBytes: number
  treeUsPerWrite: number
}

type RunRepair = (o: { sizes?: number[], diffs?: number[], progress?: (l: string) => void }) => Promise<RepairRow[]>

export const suite: Suite = {
  name: 'repair',
  description: 'Anti-entropy (bench/repair.ts): two replicas of n keys, d of them differing, one exchange over real libp2p on loopback (TCP, noise, yamux); replicas in memory with the real Merkle tree, so what crosses the wire is what LevelDB replicas would send. Bytes, round trips, time.',
  order: 50,
  async run ({ quick }): Promise<SuiteResult> {
    const file = join(ROOT, 'bench', 'repair.ts')
    if (!existsSync(file)) return { rows: [], skipped: 'bench/repair.ts does not exist yet' }
    let runRepairBench: RunRepair | undefined
    try {
      const mod = await import(pathToFileURL(file).href) as { runRepairBench?: RunRepair }
      runRepairBench = mod.runRepairBench
    } catch (err) {
      return { rows: [], skipped: `bench/repair.ts failed to load: ${(err as Error).message.split('\n')[0] ?? ''}` }
    }
    if (typeof runRepairBench !== 'function') return { rows: [], skipped: 'bench/repair.ts exports no runRepairBench' }
    const out = await runRepairBench(quick
      ? { sizes: [2000], diffs: [0, 1, 100], progress: () => {} }
      : { progress: (l) => process.stdout.write(`  ${l}\n`) })
    const rows: SuiteRow[] = out.map((r) => ({
      name: `n=${r.n.toLocaleString('en-US')}, d=${r.d.toLocaleString('en-US')}`,
      metrics: {
        'round trips': r.roundTrips,
        time: r.wallMs,
        'metadata B': r.metaBytesOut + r.metaBytesIn,
        'state B': r.stateBytesOut + r.stateBytesIn,
        'metadata B/diff': r.d === 0 ? null : r.metaBytesPerDiff,
        'minimum state B': r.minimumStateBytes,
        'full-state B': r.fullStateBytes,
        'already in sync': r.inSync ? 'yes' : 'no'
      }
    }))
    const chart: BarChart = {
      kind: 'bar',
      id: 'repair-bytes',
      title: 'Anti-entropy: bytes on the wire for one exchange',
      unit: 'bytes (metadata + state) against a full-state transfer',
      log: true,
      bars: out.flatMap((r) => [
        { label: `n=${r.n}, d=${r.d}: sent`, value: r.metaBytesOut + r.metaBytesIn + r.stateBytesOut + r.stateBytesIn, group: 'anti-entropy' },
        ...(r.d > 0 ? [] : [{ label: `n=${r.n}: full state`, value: r.fullStateBytes, group: 'full-state transfer' }])
      ])
    }
    const treeUs = out[0]?.treeUsPerWrite
    return {
      units: { time: 'ms' },
      rows,
      data: { rows: out },
      notes: treeUs != null ? [`Merkle tree upkeep per write (leaf hash + bucket and ancestor XORs): ${treeUs} µs of CPU.`] : [],
      charts: [chart]
    }
  }
}
