/**
 * Every option of a node, typed, with its default in one place. The CLI maps flags,
 * environment variables and a config file onto NodeInit; tests build NodeInit directly.
 */
import { DEFAULT_MAX_DRIFT_MS } from './clock/index.js'

export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal' | 'silent'

export interface NodeInit {
  /**
   * LevelDB data and the node's persistent identity.
   * @default './chorus-data'
   */
  dataDir?: string
  /**
   * libp2p listen multiaddrs.
   * @default ['/ip4/0.0.0.0/tcp/7071']
   */
  listen?: string[]
  /**
   * Peers dialled at start and redialled when lost.
   * @default []
   */
  bootstrap?: string[]
  /**
   * LAN discovery by mDNS.
   * @default true
   */
  mdns?: boolean
  /** libp2p private-network pre-shared key (the file `chorus keygen` prints). Absent: open. */
  clusterKey?: Uint8Array
  /**
   * Anti-entropy period (jittered ±20%).
   * @default 3000
   */
  aeIntervalMs?: number
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
   * Most connections kept open.
   * @default 64
   */
  maxConnections?: number
}

export type NodeConfig = Required<Omit<NodeInit, 'clusterKey' | 'logDestination'>> & Pick<NodeInit, 'clusterKey' | 'logDestination'>

export const NODE_DEFAULTS = {
  dataDir: './chorus-data',
  listen: ['/ip4/0.0.0.0/tcp/7071'],
  bootstrap: [] as string[],
  mdns: true,
  aeIntervalMs: 3000,
  fsync: false,
  maxDriftMs: DEFAULT_MAX_DRIFT_MS,
  clockSettleTimeoutMs: 3000,
  clusterName: 'default',
  logLevel: 'info' as LogLevel,
  now: Date.now,
  gossip: true,
  maxConnections: 64,
  tombstoneGraceMs: 3_600_000,
  memberTtlMs: 604_800_000,
  gcIntervalMs: 60_000
} as const

export function resolveNodeConfig (init: NodeInit = {}): NodeConfig {
  return {
    dataDir: init.dataDir ?? NODE_DEFAULTS.dataDir,
    listen: init.listen ?? [...NODE_DEFAULTS.listen],
    bootstrap: init.bootstrap ?? [...NODE_DEFAULTS.bootstrap],
    mdns: init.mdns ?? NODE_DEFAULTS.mdns,
    clusterKey: init.clusterKey,
    aeIntervalMs: init.aeIntervalMs ?? NODE_DEFAULTS.aeIntervalMs,
    fsync: init.fsync ?? NODE_DEFAULTS.fsync,
    maxDriftMs: init.maxDriftMs ?? NODE_DEFAULTS.maxDriftMs,
    clockSettleTimeoutMs: init.clockSettleTimeoutMs ?? NODE_DEFAULTS.clockSettleTimeoutMs,
    clusterName: init.clusterName ?? NODE_DEFAULTS.clusterName,
    logLevel: init.logLevel ?? NODE_DEFAULTS.logLevel,
    logDestination: init.logDestination,
    now: init.now ?? NODE_DEFAULTS.now,
    gossip: init.gossip ?? NODE_DEFAULTS.gossip,
    maxConnections: init.maxConnections ?? NODE_DEFAULTS.maxConnections,
    tombstoneGraceMs: init.tombstoneGraceMs ?? NODE_DEFAULTS.tombstoneGraceMs,
    memberTtlMs: init.memberTtlMs ?? NODE_DEFAULTS.memberTtlMs,
    gcIntervalMs: init.gcIntervalMs ?? NODE_DEFAULTS.gcIntervalMs
  }
}
