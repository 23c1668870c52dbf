/**
 * repair: runs the anti-entropy benchmark of bench/repair.ts and tabulates its rows.
 */
import { runRepairBench } from '../repair.js'
import type { BarChart, Suite, SuiteResult, SuiteRow } from '../lib/types.js'

export const suite: Suite = {
  name: 'repair',
  description: 'Anti-entropy (bench/repair.ts): two replicas of n keys, d of them differing, one exchange over real libp2p on loopback (TCP, noise, yamux); replicas in memory with the real Merkle tree, so what crosses the wire is what LevelDB replicas would send. Bytes, round trips, time.',
  order: 50,
  async run ({ quick }): Promise<SuiteResult> {
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
