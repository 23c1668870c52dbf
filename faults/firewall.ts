/**
 * Partitions and packet loss with nftables, only ever inside the node namespaces (table
 * `inet chf`). A cut link A→B is enforced on B's input: packets from A's address are dropped
 * (always, or with `numgen random mod 100 < P`). Client traffic runs over each namespace's
 * loopback, whose source address is never a node address, so only node↔node traffic is cut.
 *
 * Several faults may be active at once: the rules of a namespace are always rebuilt from the
 * union of every active fault's drops, in one `nft -f` transaction (flush + add is atomic).
 */
import { run } from './exec.js'
import { nodeIp, type Topology } from './netns.js'

/** Packets from node `from` to node `to` are dropped with probability pct/100. */
export interface Drop { from: number, to: number, pct: number }

export class Firewall {
  private readonly applied = new Map<number, string>()

  constructor (private readonly topo: Topology) {}

  async init (): Promise<void> {
    for (const n of this.topo.nodes) {
      await this.nft(n.ns, [
        'add table inet chf',
        'add chain inet chf input { type filter hook input priority 0 ; policy accept ; }'
      ].join('\n'))
      this.applied.set(n.index, '')
    }
  }

  /** Makes the firewall of every namespace match exactly `drops` (changed namespaces only). */
  async apply (drops: readonly Drop[]): Promise<void> {
    for (const n of this.topo.nodes) {
      const rules = drops.filter(d => d.to === n.index && d.from !== n.index).map(d => ruleFor(d))
      const body = rules.join('\n')
      if (this.applied.get(n.index) === body) continue
      await this.nft(n.ns, ['flush chain inet chf input', ...rules].join('\n'))
      this.applied.set(n.index, body)
    }
  }

  private async nft (ns: string, script: string): Promise<void> {
    await run('ip', ['netns', 'exec', ns, 'nft', '-f', '-'], script + '\n')
  }
}

function ruleFor (d: Drop): string {
  const match = `add rule inet chf input ip saddr ${nodeIp(d.from)}`
  return d.pct >= 100 ? `${match} drop` : `${match} numgen random mod 100 < ${d.pct} drop`
}

/** Both directions between every node of `a` and every node of `b`. */
export function cutBetween (a: readonly number[], b: readonly number[], pct = 100): Drop[] {
  const out: Drop[] = []
  for (const x of a) for (const y of b) if (x !== y) out.push({ from: x, to: y, pct }, { from: y, to: x, pct })
  return out
}
