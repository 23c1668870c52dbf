/** Anti-entropy counters on the node's prom-client registry (nothing when no registry is given). */
import { Counter, Histogram, type Registry } from 'prom-client'
import type { ExchangeStats } from './stats.js'

export type Outcome = 'in_sync' | 'repaired' | 'refused' | 'busy' | 'violation' | 'interrupted' | 'error'
const OUTCOMES: readonly Outcome[] = ['in_sync', 'repaired', 'refused', 'busy', 'violation', 'interrupted', 'error']
const ROLES = ['initiator', 'responder'] as const
/** Seconds: an in-sync check takes a millisecond, a repair of a million keys a minute. */
const DURATION_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300]

export interface AntiEntropyMetrics {
  record: (role: 'initiator' | 'responder', outcome: Outcome, stats?: ExchangeStats, seconds?: number) => void
}

export function createMetrics (registry: Registry | undefined): AntiEntropyMetrics {
  if (registry === undefined) return { record: () => {} }
  const registers = [registry]
  const exchanges = new Counter({ name: 'chorus_ae_exchanges_total', help: 'Anti-entropy exchanges by role and outcome', labelNames: ['role', 'outcome'], registers })
  const duration = new Histogram({ name: 'chorus_ae_exchange_duration_seconds', help: 'Anti-entropy exchanges, from the dial (initiator) or the stream (responder) to the end, by role and outcome', labelNames: ['role', 'outcome'], buckets: DURATION_BUCKETS, registers })
  const keys = new Counter({ name: 'chorus_ae_keys_total', help: 'Key states transferred by anti-entropy', labelNames: ['direction'], registers })
  const repaired = new Counter({ name: 'chorus_ae_keys_repaired_total', help: 'Received key states that changed local state', registers })
  const leftToGossip = new Counter({ name: 'chorus_ae_keys_left_to_gossip_total', help: 'Differing keys a scheduled exchange did not send because their changes were fresh (gossip is delivering them)', registers })
  const bytes = new Counter({ name: 'chorus_ae_bytes_total', help: 'Anti-entropy bytes on the wire, tree metadata and key state apart', labelNames: ['direction', 'kind'], registers })
  // Every series from the start, so that alerts on a rate see 0, not an absent series.
  for (const role of ROLES) {
    for (const outcome of OUTCOMES) {
      exchanges.inc({ role, outcome }, 0)
      duration.zero({ role, outcome })
    }
  }
  for (const direction of ['sent', 'received']) {
    keys.inc({ direction }, 0)
    for (const kind of ['meta', 'state']) bytes.inc({ direction, kind }, 0)
  }
  return {
    record (role, outcome, stats, seconds) {
      exchanges.inc({ role, outcome })
      if (seconds !== undefined) duration.observe({ role, outcome }, seconds)
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
