/**
 * Every option of a node, typed, with its default in one place. The CLI maps flags,
 * environment variables and a config file onto NodeInit; tests build NodeInit directly.
 */
import { DEFAULT_MAX_DRIFT_MS } from './clock/index.js'
import { AE_FRESH_MS, CLUSTER_NAME_PATTERN, DEFAULT_FEED_RETAIN, FEED_PRUNE_INTERVAL_MS, MAX_AE_FRESH_MS, MAX_FEED_RETAIN, MIN_FEED_RETAIN } from './constants.js'
import { ConfigError } from './errors.js'
import { isLoopbackAddress } from './util/loopback.js'

export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal' | 'silent'

export interface NodeInit {
  /**
   * LevelDB data and the node's persistent identity.
   * @default './chorus-data'
   */
  dataDir?: string
  /**
   * libp2p listen multiaddrs.
   * @default ['/ip4/0.0.0.0/tcp/7071'] with a cluster key or `open`; else ['/ip4/127.0.0.1/tcp/7071']
   */
  listen?: string[]
  /**
   * Peers dialled at start and redialled when lost.
   * @default []
   */
  bootstrap?: string[]
  /**
   * LAN discovery by mDNS. Without a cluster key it needs `open` (it would announce the node
   * to the whole LAN).
   * @default true with a cluster key or `open`; else false
   */
  mdns?: boolean
  /**
   * libp2p private-network pre-shared key (the file `chorus keygen` prints). Without it the
   * node talks to processes on this host only, unless `open`.
   */
  clusterKey?: Uint8Array
  /**
   * Without a cluster key, accept peers from other hosts anyway (and allow mDNS): anyone who
   * can reach the node can then read and write all its data. Ignored with a cluster key.
   * @default false
   */
  open?: boolean
  /**
   * Anti-entropy period (jittered ±20%).
   * @default 3000
   */
  aeIntervalMs?: number
  /**
   * Scheduled anti-entropy exchanges leave to gossip the keys whose changes began less than
   * this long ago (docs/protocol.md, "Fresh changes"); 0 sends everything.
   * @default AE_FRESH_MS (1000)
   */
  aeFreshMs?: number
  /**
   * fsync each acknowledged write.
   * @default false
   */
  fsync?: boolean
  /**
   * Clock skew tolerated: a remote timestamp further ahead than this does not move our clock,
   * and a node this far ahead of the cluster stamps its writes with the cluster's time.
   * @default 60000
   */
  maxDriftMs?: number
  /**
   * At start, how long local writes wait for a peer to tell the cluster's time, when there are
   * peers to ask (bootstrap addresses or remembered members). See node/time-sync.ts.
   * @default 3000
   */
  clockSettleTimeoutMs?: number
  /**
   * Names the gossip topics; nodes with different names ignore each other's gossip.
   * @default 'default'
   */
  clusterName?: string
  /** @default 'info' */
  logLevel?: LogLevel
  /** Where logs go. @default process.stderr */
  logDestination?: NodeJS.WritableStream
  /** Test-only: physical clock for the HLC. @default Date.now */
  now?: () => number
  /** Test-only: when false, changes are not published over gossip (anti-entropy alone repairs). @default true */
  gossip?: boolean
  /**
   * Test-only: when false, misbehaving peers are neither scored by gossipsub nor penalised or
   * banned, so a hostile-input test can send thousands of bad frames from one peer. @default true
   */
  peerPenalties?: boolean
  /**
   * A register that is all tombstones is collected no sooner than this after it became one,
   * and only once every live member has synced with us since.
   * @default 3_600_000 (1 hour)
   */
  tombstoneGraceMs?: number
  /**
   * A member not seen for this long no longer holds tombstone collection back; it must be
   * reset (fresh data dir) before it rejoins. See docs/consistency.md.
   * @default 604_800_000 (7 days)
   */
  memberTtlMs?: number
  /** How often tombstones are swept. @default 60_000 */
  gcIntervalMs?: number
  /**
   * Start even though this node last saw its cluster longer ago than the member TTL (it then
   * counts its remembered members as seen now). Safe only when no node of the cluster ran
   * meanwhile, e.g. the whole cluster was stopped: see docs/consistency.md, "Members".
   * @default false
   */
  acceptStaleData?: boolean
  /**
   * Most connections kept open.
   * @default 64
   */
  maxConnections?: number
  /**
   * Test-only: heartbeats of gossip control a peer may send at once before its rate is held
   * against it (gossip/control-audit.ts). @default GOSSIP_CONTROL_BURST_HEARTBEATS (30)
   */
  gossipBurstHeartbeats?: number
  /**
   * Changes the change feed keeps (kv.changes, kv.watch `since`); older ones are pruned in the
   * background, and a cursor before them gets ERR_HISTORY_GONE.
   * @default DEFAULT_FEED_RETAIN (1,000,000)
   */
  feedRetain?: number
  /** Test-only: how often the feed is pruned. @default FEED_PRUNE_INTERVAL_MS (5000) */
  feedPruneIntervalMs?: number
}

export type NodeConfig = Required<Omit<NodeInit, 'clusterKey' | 'logDestination' | 'gossipBurstHeartbeats'>> & Pick<NodeInit, 'clusterKey' | 'logDestination' | 'gossipBurstHeartbeats'> & {
  /** No cluster key and not open: every connection off this host is refused (node/peer-gate.ts). */
  loopbackOnly: boolean
}

export const NODE_DEFAULTS = {
  dataDir: './chorus-data',
  listen: ['/ip4/0.0.0.0/tcp/7071'],
  /** The listen default of a node without a cluster key (and not open). */
  listenLoopback: ['/ip4/127.0.0.1/tcp/7071'],
  bootstrap: [] as string[],
  open: false,
  aeIntervalMs: 3000,
  aeFreshMs: AE_FRESH_MS,
  fsync: false,
  maxDriftMs: DEFAULT_MAX_DRIFT_MS,
  clockSettleTimeoutMs: 3000,
  clusterName: 'default',
  logLevel: 'info' as LogLevel,
  now: Date.now,
  gossip: true,
  peerPenalties: true,
  maxConnections: 64,
  tombstoneGraceMs: 3_600_000,
  memberTtlMs: 604_800_000,
  gcIntervalMs: 60_000,
  acceptStaleData: false,
  feedRetain: DEFAULT_FEED_RETAIN,
  feedPruneIntervalMs: FEED_PRUNE_INTERVAL_MS
} as const

/**
 * The secure default (docs/security.md): a node without a cluster key is reachable from this
 * host only, unless the operator says `open`. Throws ConfigError for settings that would
 * break that promise silently.
 */
function resolveExposure (init: NodeInit): Pick<NodeConfig, 'listen' | 'mdns' | 'open' | 'loopbackOnly'> {
  const open = init.open ?? NODE_DEFAULTS.open
  const loopbackOnly = init.clusterKey === undefined && !open
  if (!loopbackOnly) {
    return { listen: init.listen ?? [...NODE_DEFAULTS.listen], mdns: init.mdns ?? true, open, loopbackOnly }
  }
  if (init.mdns === true) {
    throw new ConfigError('mDNS without a cluster key would announce this node to the whole LAN, and anyone there could read and write its data: give it a cluster key (`chorus init`, then --cluster-key FILE), or pass --open to run an open node on purpose')
  }
  const remote = (init.bootstrap ?? []).filter(a => !isLoopbackAddress(a))
  if (remote.length > 0) {
    throw new ConfigError(`--bootstrap ${remote[0]} is on another host, and a node without a cluster key talks to this host only: give every node the same cluster key (\`chorus init\`, then --cluster-key FILE), or pass --open`)
  }
  return { listen: init.listen ?? [...NODE_DEFAULTS.listenLoopback], mdns: false, open, loopbackOnly }
}

export function resolveNodeConfig (init: NodeInit = {}): NodeConfig {
  const clusterName = init.clusterName ?? NODE_DEFAULTS.clusterName
  if (!CLUSTER_NAME_PATTERN.test(clusterName)) {
    throw new ConfigError(`cluster name ${JSON.stringify(clusterName)}: use 1 to 64 letters, digits, '.', '_' or '-' (it is part of every protocol id and topic)`)
  }
  const aeFreshMs = init.aeFreshMs ?? NODE_DEFAULTS.aeFreshMs
  if (!(Number.isSafeInteger(aeFreshMs) && aeFreshMs >= 0 && aeFreshMs <= MAX_AE_FRESH_MS)) {
    throw new ConfigError(`aeFreshMs must be an integer from 0 to ${MAX_AE_FRESH_MS}, not ${String(aeFreshMs)}`)
  }
  const feedRetain = init.feedRetain ?? NODE_DEFAULTS.feedRetain
  if (!(Number.isSafeInteger(feedRetain) && feedRetain >= MIN_FEED_RETAIN && feedRetain <= MAX_FEED_RETAIN)) {
    throw new ConfigError(`feedRetain must be an integer from ${MIN_FEED_RETAIN} to ${MAX_FEED_RETAIN}, not ${String(feedRetain)}`)
  }
  return {
    dataDir: init.dataDir ?? NODE_DEFAULTS.dataDir,
    ...resolveExposure(init),
    bootstrap: init.bootstrap ?? [...NODE_DEFAULTS.bootstrap],
    clusterKey: init.clusterKey,
    aeIntervalMs: init.aeIntervalMs ?? NODE_DEFAULTS.aeIntervalMs,
    aeFreshMs,
    fsync: init.fsync ?? NODE_DEFAULTS.fsync,
    maxDriftMs: init.maxDriftMs ?? NODE_DEFAULTS.maxDriftMs,
    clockSettleTimeoutMs: init.clockSettleTimeoutMs ?? NODE_DEFAULTS.clockSettleTimeoutMs,
    clusterName,
    logLevel: init.logLevel ?? NODE_DEFAULTS.logLevel,
    logDestination: init.logDestination,
    now: init.now ?? NODE_DEFAULTS.now,
    gossip: init.gossip ?? NODE_DEFAULTS.gossip,
    peerPenalties: init.peerPenalties ?? NODE_DEFAULTS.peerPenalties,
    maxConnections: init.maxConnections ?? NODE_DEFAULTS.maxConnections,
    tombstoneGraceMs: init.tombstoneGraceMs ?? NODE_DEFAULTS.tombstoneGraceMs,
    memberTtlMs: init.memberTtlMs ?? NODE_DEFAULTS.memberTtlMs,
    gcIntervalMs: init.gcIntervalMs ?? NODE_DEFAULTS.gcIntervalMs,
    acceptStaleData: init.acceptStaleData ?? NODE_DEFAULTS.acceptStaleData,
    gossipBurstHeartbeats: init.gossipBurstHeartbeats,
    feedRetain,
    feedPruneIntervalMs: init.feedPruneIntervalMs ?? NODE_DEFAULTS.feedPruneIntervalMs
  }
}
