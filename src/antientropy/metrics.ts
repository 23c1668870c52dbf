/** Anti-entropy counters on the node's prom-client registry (nothing when no registry is given). */
import { Counter, type Registry } from 'prom-client'
import type { ExchangeStats } from './stats.js'

export type Outcome = 'in_sync' | 'repaired' | 'refused' | 'busy' | 'violation' | 'interrupted' | 'error'

export interface AntiEntropyMetrics {
  record: (role: 'initiator' | 'responder', outcome: Outcome, stats?: ExchangeStats) => void
}

export function createMetrics (registry: Registry | undefined): AntiEntropyMetrics {
  if (registry === undefined) return { record: () => {} }
  const registers = [registry]
  const exchanges = new Counter({ name: 'chorus_ae_exchanges_total', help: 'Anti-entropy exchanges by role and outcome', labelNames: ['role', 'outcome'], registers })
  const keys = new Counter({ name: 'chorus_ae_keys_total', help: 'Key states transferred by anti-entropy', labelNames: ['direction'], registers })
  const repaired = new Counter({ name: 'chorus_ae_keys_repaired_total', help: 'Received key states that changed local state', registers })
  const leftToGossip = new Counter({ name: 'chorus_ae_keys_left_to_gossip_total', help: 'Differing keys a scheduled exchange did not send because their changes were fresh (gossip is delivering them)', registers })
  const bytes = new Counter({ name: 'chorus_ae_bytes_total', help: 'Anti-entropy bytes on the wire, tree metadata and key state apart', labelNames: ['direction', 'kind'], registers })
  return {
    record (role, outcome, stats) {
      exchanges.inc({ role, outcome })
      if (stats === undefined) return
      keys.inc({ direction: 'sent' }, stats.keysSent)
      keys.inc({ direction: 'received' }, stats.keysReceived)
      repaired.inc(stats.keysRepaired)
      leftToGossip.inc(stats.keysLeftToGossip)
      bytes.inc({ direction: 'sent', kind: 'meta' }, stats.metaBytesSent)
      bytes.inc({ direction: 'received', kind: 'meta' }, stats.metaBytesReceived)
      bytes.inc({ direction: 'sent', kind: 'state' }, stats.stateBytesSent)
      bytes.inc({ direction: 'received', kind: 'state' }, stats.stateBytesReceived)
    }
  }
}
