/**
 * What the node tells the operator at start about who can reach it (docs/security.md).
 */
import type { Logger } from 'pino'
import type { NodeConfig } from '../config.js'
import { isLoopbackAddress } from '../util/loopback.js'

export function warnAboutExposure (config: NodeConfig, logger: Logger): void {
  if (config.clusterKey !== undefined) return
  if (config.open) {
    logger.warn('NO CLUSTER KEY and --open: this node is OPEN — any host that can reach its listen address can join the cluster and read and write all data. Run `chorus init`, copy cluster.key to every machine and start every node with --cluster-key cluster.key')
    return
  }
  const offHost = config.listen.filter(a => !isLoopbackAddress(a))
  logger.warn({ refusedListen: offHost.length > 0 ? offHost : undefined }, 'no cluster key: this node talks to processes on this host only — connections from other hosts are refused and mDNS is off. For a cluster across machines run `chorus init`, copy cluster.key to every machine and start every node with --cluster-key cluster.key')
}
