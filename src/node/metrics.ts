/**
 * Prometheus metrics (prom-client). Values are read from the parts' own counters at scrape
 * time, so the hot paths never touch the metrics library.
 */
import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client'
import type { Gossip } from '../gossip/index.js'
import type { Replica } from '../replica/index.js'
import type { GossipWireStats } from './audited-gossipsub.js'
import { OFFENCE_POINTS, type PeerPenalties } from './peer-penalties.js'

export interface MetricSources {
  replica: Replica
  gossip: Gossip
  gossipWire: GossipWireStats
  connections: () => number
  penalties: PeerPenalties
  bannedPeers: () => number
  /** Members tombstone GC waits for, and of them those holding it back now (node/membership.ts). */
  members: () => { members: number, holdingGc: number }
  /** Peers refused for good: removed or expired (node/refused-peers.ts). */
  refusedPeers: () => number
}

export function createMetrics (sources: MetricSources): Registry {
  const register = new Registry()
  collectDefaultMetrics({ register, prefix: 'chorus_process_' })
  const { replica, gossip } = sources
  const gauge = (name: string, help: string, read: () => number): void => {
    void new Gauge({ name, help, registers: [register], collect () { this.set(read()) } })
  }
  // Counters mirror monotonic totals kept by the parts themselves.
  const counter = (name: string, help: string, read: () => number): void => {
    void new Counter({ name, help, registers: [register], collect () { this.reset(); this.inc(read()) } })
  }
  gauge('chorus_keys', 'Keys stored, all spaces, tombstones included', () => replica.keyCount())
  gauge('chorus_connections', 'Open libp2p connections', sources.connections)
  counter('chorus_commits_total', 'LevelDB batches committed by the write path', () => replica.stats.commits)
  counter('chorus_local_ops_total', 'Local operations applied', () => replica.stats.localOps)
  counter('chorus_remote_applied_total', 'Remote key states merged (gossip and anti-entropy)', () => replica.stats.remoteApplied)
  counter('chorus_remote_changed_total', 'Remote key states that changed local state', () => replica.stats.remoteChanged)
  counter('chorus_tombstones_collected_total', 'Tombstone-only registers garbage-collected', () => replica.stats.purged)
  counter('chorus_gossip_published_total', 'Gossip messages published', () => gossip.stats.published)
  counter('chorus_gossip_published_changes_total', 'Key states published over gossip', () => gossip.stats.publishedChanges)
  counter('chorus_gossip_received_total', 'Gossip messages received', () => gossip.stats.received)
  counter('chorus_gossip_invalid_total', 'Malformed gossip messages rejected', () => gossip.stats.invalid)
  counter('chorus_gossip_shed_total', 'Gossip messages ignored (left to anti-entropy) because their sender, or all peers, had too many bytes being merged', () => gossip.stats.shed)
  counter('chorus_gossip_rpcs_sent_total', 'gossipsub RPCs sent to peers (messages relayed, control and gossip), all topics', () => sources.gossipWire.rpcsSent)
  counter('chorus_gossip_bytes_sent_total', 'Encoded bytes of the gossipsub RPCs sent to peers (without stream framing)', () => sources.gossipWire.bytesSent)
  counter('chorus_gossip_republished_total', 'Gossip messages that found no recipient, published again when a peer subscribed', () => gossip.stats.republished)
  void new Counter({
    name: 'chorus_remote_rejected_total',
    help: 'Remote key states refused, by reason (corrupt, bad-key, too-large, collected)',
    labelNames: ['reason'],
    registers: [register],
    collect () {
      this.reset()
      for (const [reason, n] of Object.entries(replica.stats.remoteRejected)) this.inc({ reason }, n)
    }
  })
  counter('chorus_peer_bans_total', 'Peers disconnected and banned for misbehaving', () => sources.penalties.stats.bans)
  gauge('chorus_peers_banned', 'Peers banned now (refused both ways until their ban ends)', sources.bannedPeers)
  gauge('chorus_members', 'Members tombstone collection waits for', () => sources.members().members)
  gauge('chorus_members_holding_gc', 'Members whose last complete sync is older than the tombstone grace: they hold collection back', () => sources.members().holdingGc)
  gauge('chorus_peers_refused', 'Peers refused for good: removed by the operator or away longer than the member TTL', sources.refusedPeers)
  void new Counter({
    name: 'chorus_peer_penalties_total',
    help: 'Penalties given to peers, by offence (invalid-gossip, ae-violation, gossip-flood)',
    labelNames: ['offence'],
    registers: [register],
    collect () {
      this.reset()
      for (const offence of Object.keys(OFFENCE_POINTS)) this.inc({ offence }, sources.penalties.stats.penalties[offence] ?? 0)
    }
  })
  return register
}
