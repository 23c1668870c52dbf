/**
 * Prometheus metrics (prom-client), listed in docs/operations.md with example alerts. Counters
 * and gauges are read from the parts' own counters at scrape time, so the hot paths never touch
 * the metrics library; only the duration histograms are observed as things happen. Every label
 * series exists from the start (at 0), so an alert on a rate sees a series, not an absence.
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client'
import type { RegisterState } from '../causal/index.js'
import type { Gossip } from '../gossip/index.js'
import type { Replica } from '../replica/index.js'
import { REMOTE_REJECT_REASONS } from '../replica/index.js'
import type { GossipWireStats } from './audited-gossipsub.js'
import { CachedReading } from './cached-reading.js'
import { OFFENCE_POINTS, type PeerPenalties } from './peer-penalties.js'
import type { PeerVersions } from './peer-versions.js'

/** Buckets, in seconds, for request and commit durations: 0.1 ms to 10 s. */
const FAST_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]
/** Buckets, in seconds, for replication delay and exchange durations: 1 ms to 5 min. */
const SLOW_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300]
/** Index counts and the data directory's size are read at most this often (each is a scan). */
const SCAN_EVERY_MS = 30_000

/** The histograms parts observe as things happen; made before the parts, registered with the rest. */
export interface Timings {
  /** One group commit of the write path, from its first read to the batch written. */
  commit: Histogram
  /** A remote register write, from its HLC time to its being applied here. */
  replicationDelay: Histogram
  /** One JSON-RPC call, by method and outcome (ok, error). */
  rpc: Histogram<'method' | 'outcome'>
}

export function createTimings (): Timings {
  const commit = new Histogram({ name: 'chorus_commit_duration_seconds', help: 'Group commits of the write path: reads, merges and the LevelDB batch', buckets: FAST_BUCKETS, registers: [] })
  const replicationDelay = new Histogram({ name: 'chorus_replication_delay_seconds', help: 'Remote register writes: from the write\'s hybrid-clock time on its leader to its being applied here (gossip or anti-entropy; clocks agree within the allowed drift)', buckets: SLOW_BUCKETS, registers: [] })
  const rpc = new Histogram({ name: 'chorus_rpc_duration_seconds', help: 'JSON-RPC calls by method and outcome (ok, error), waits for `after` included', labelNames: ['method', 'outcome'] as const, buckets: FAST_BUCKETS, registers: [] })
  commit.zero({})
  replicationDelay.zero({})
  return { commit, replicationDelay, rpc }
}

/**
 * A remote register change: the delay from its newest version's hybrid-clock time to now. A
 * delete-only or merged state counts its newest version too; a negative delay (clocks within
 * the allowed drift) counts as 0.
 */
export function observeReplicationDelay (timings: Timings, state: RegisterState, nowMs: number): void {
  let newest = -Infinity
  for (const s of state.siblings) if (s.hlc.wall > newest) newest = s.hlc.wall
  if (newest === -Infinity) return
  timings.replicationDelay.observe(Math.max(0, nowMs - newest) / 1000)
}

/** The RPC layer's observer for the methods it serves (their series start at 0). */
export function rpcObserver (timings: Timings, methods: readonly string[]): RpcObserver {
  for (const method of methods) for (const outcome of ['ok', 'error']) timings.rpc.zero({ method, outcome })
  return (method, seconds, ok) => { timings.rpc.observe({ method, outcome: ok ? 'ok' : 'error' }, seconds) }
}

export type RpcObserver = (method: string, seconds: number, ok: boolean) => void

export interface MetricSources {
  timings: Timings
  replica: Replica
  gossip: Gossip
  gossipWire: GossipWireStats
  connections: () => number
  /** Distinct peers with an open connection. */
  peers: () => number
  /** Connected peers whose last digest announcement equals our root. */
  inSyncPeers: () => number
  /** What the node adds to its system clock to stamp writes (≤ 0; 0 unless it is ahead of the cluster). */
  clockCorrectionMs: () => number
  /** Bytes of the node's data directory (LevelDB files, identity), read at most every 30 s. */
  dataDirBytes: () => Promise<number>
  penalties: PeerPenalties
  bannedPeers: () => number
  /** Peers that speak this cluster's protocols only in other versions. */
  peerVersions: Pick<PeerVersions, 'count' | 'detected'>
  version: string
  /** Members tombstone GC waits for, and of them those holding it back now (node/membership.ts). */
  members: () => { members: number, holdingGc: number }
  /** Peers refused for good: removed or expired (node/refused-peers.ts). */
  refusedPeers: () => number
}

export function createMetrics (sources: MetricSources): Registry {
  const register = new Registry()
  // The standard names (process_*, nodejs_*), which dashboards for Node.js services expect.
  collectDefaultMetrics({ register })
  for (const h of Object.values(sources.timings)) register.registerMetric(h as Histogram)
  const { replica, gossip } = sources
  const gauge = (name: string, help: string, read: () => number | Promise<number>): void => {
    void new Gauge({ name, help, registers: [register], async collect () { this.set(await read()) } })
  }
  // Counters mirror monotonic totals kept by the parts themselves.
  const counter = (name: string, help: string, read: () => number): void => {
    void new Counter({ name, help, registers: [register], collect () { this.reset(); this.inc(read()) } })
  }
  void new Gauge({ name: 'chorus_build_info', help: 'Always 1; the labels name the build', labelNames: ['version', 'nodejs'] as const, registers: [register] }).set({ version: sources.version, nodejs: process.versions.node }, 1)
  gauge('chorus_keys', 'Keys stored, all spaces, tombstones included', () => replica.keyCount())
  gauge('chorus_connections', 'Open libp2p connections', sources.connections)
  gauge('chorus_peers_connected', 'Distinct peers with an open connection', sources.peers)
  gauge('chorus_peers_in_sync', 'Connected peers whose last announced digest equals ours', sources.inSyncPeers)
  gauge('chorus_write_queue_jobs', 'Writes (local operations and remote merges) waiting for the write path', () => replica.queueDepth().jobs)
  gauge('chorus_write_queue_bytes', 'Bytes of the writes waiting for the write path', () => replica.queueDepth().bytes)
  gauge('chorus_clock_correction_seconds', 'Added to the system clock to stamp writes: below 0 while this node\'s clock is ahead of the cluster by more than the allowed drift', () => sources.clockCorrectionMs() / 1000)
  const conflicted = new CachedReading(SCAN_EVERY_MS, async () => await replica.conflictCount())
  const tombstones = new CachedReading(SCAN_EVERY_MS, async () => await replica.tombstoneCount())
  const dataDir = new CachedReading(SCAN_EVERY_MS, sources.dataDirBytes)
  gauge('chorus_conflicted_keys', 'Registers with siblings now (read at most every 30 s)', async () => await conflicted.read())
  gauge('chorus_tombstones', 'Deleted registers waiting for tombstone collection (read at most every 30 s)', async () => await tombstones.read())
  gauge('chorus_data_dir_bytes', 'Size of the data directory on disk (read at most every 30 s)', async () => await dataDir.read())
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
    help: `Remote key states refused, by reason (${REMOTE_REJECT_REASONS.join(', ')})`,
    labelNames: ['reason'],
    registers: [register],
    collect () {
      this.reset()
      for (const reason of REMOTE_REJECT_REASONS) this.inc({ reason }, replica.stats.remoteRejected[reason] ?? 0)
      // A reason not in the list (a bug) still shows rather than vanishing.
      for (const [reason, n] of Object.entries(replica.stats.remoteRejected)) if (!REMOTE_REJECT_REASONS.includes(reason)) this.inc({ reason }, n)
    }
  })
  counter('chorus_peer_bans_total', 'Peers disconnected and banned for misbehaving', () => sources.penalties.stats.bans)
  gauge('chorus_peers_incompatible', 'Connected peers that speak this cluster\'s protocols or topics only in other versions (another Chorus build): no anti-entropy, or no gossip, with them', () => sources.peerVersions.count)
  counter('chorus_peers_incompatible_detected_total', 'Connections to peers found speaking only other versions of this cluster\'s protocols or topics', () => sources.peerVersions.detected)
  gauge('chorus_peers_banned', 'Peers banned now (refused both ways until their ban ends)', sources.bannedPeers)
  gauge('chorus_members', 'Members tombstone collection waits for', () => sources.members().members)
  gauge('chorus_members_holding_gc', 'Members that held tombstone collection back at its last sweep (cluster.members holdsGc)', () => sources.members().holdingGc)
  gauge('chorus_peers_refused', 'Peers refused for good: removed by the operator or away longer than the member TTL', sources.refusedPeers)
  void new Counter({
    name: 'chorus_peer_penalties_total',
    help: `Penalties given to peers, by offence (${Object.keys(OFFENCE_POINTS).join(', ')})`,
    labelNames: ['offence'],
    registers: [register],
    collect () {
      this.reset()
      for (const offence of Object.keys(OFFENCE_POINTS)) this.inc({ offence }, sources.penalties.stats.penalties[offence] ?? 0)
    }
  })
  return register
}
