/**
 * The options of `chorus start`, resolved: what the CLI builds from flags, environment and
 * config file, and what createNode() builds from its argument. Their defaults and ranges live
 * here once, for both; toNodeInit() maps them onto the node's own NodeInit.
 */
import { readFileSync } from 'node:fs'
import { NODE_DEFAULTS } from '../config.js'
import { MAX_AE_FRESH_MS, MAX_FEED_RETAIN, MIN_FEED_RETAIN } from '../constants.js'
import { ConfigError } from '../errors.js'
import type { LogLevel, NodeInit } from '../config.js'

export interface StartOptions {
  /** LevelDB data and the node's persistent identity. */
  data: string
  /** JSON-RPC listen address `HOST:PORT` (port 0 picks one); false: no RPC server (library only). */
  rpc: string | false
  /** libp2p listen multiaddrs; undefined leaves the node's default, which depends on the cluster key. */
  listen?: string[]
  bootstrap: string[]
  /** undefined leaves the node's default: on with a cluster key or `open`, else off. */
  mdns?: boolean
  open: boolean
  /** A key file's path, or (library only) the key file's bytes. */
  clusterKey?: string | Uint8Array
  clusterName: string
  rpcToken?: string
  /** The RPC server's PEM certificate (chain): a file's path, or (library only) the PEM bytes. With rpcTlsKey, the server speaks HTTPS/WSS. */
  rpcTlsCert?: string | Uint8Array
  /** The private key of rpcTlsCert (PEM, unencrypted): a file's path, or (library only) the PEM bytes. */
  rpcTlsKey?: string | Uint8Array
  aeInterval: number
  /** Scheduled anti-entropy leaves changes younger than this to gossip; 0 sends everything (docs/protocol.md, "Fresh changes"). */
  aeFresh: number
  fsync: boolean
  logLevel: LogLevel
  maxConnections: number
  maxDrift: number
  clockSettleTimeout: number
  tombstoneGrace: number
  memberTtl: number
  /** Start although this node last saw its cluster longer ago than memberTtl (docs/consistency.md, "Members"). */
  acceptStaleData: boolean
  /** Changes the change feed keeps (kv.changes, kv.watch `since`); older ones are pruned. */
  feedRetain: number
}

export const LOG_LEVELS: readonly LogLevel[] = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']

export const DEFAULT_RPC = '127.0.0.1:7070'

/** Every default of `chorus start` (listen and mdns: the node's, which depend on the cluster key). */
export const START_DEFAULTS = {
  data: NODE_DEFAULTS.dataDir,
  rpc: DEFAULT_RPC,
  bootstrap: [...NODE_DEFAULTS.bootstrap],
  open: NODE_DEFAULTS.open,
  clusterName: NODE_DEFAULTS.clusterName,
  aeInterval: NODE_DEFAULTS.aeIntervalMs,
  aeFresh: NODE_DEFAULTS.aeFreshMs,
  fsync: NODE_DEFAULTS.fsync,
  logLevel: NODE_DEFAULTS.logLevel,
  maxConnections: NODE_DEFAULTS.maxConnections,
  maxDrift: NODE_DEFAULTS.maxDriftMs,
  clockSettleTimeout: NODE_DEFAULTS.clockSettleTimeoutMs,
  tombstoneGrace: NODE_DEFAULTS.tombstoneGraceMs,
  memberTtl: NODE_DEFAULTS.memberTtlMs,
  acceptStaleData: NODE_DEFAULTS.acceptStaleData,
  feedRetain: NODE_DEFAULTS.feedRetain
} as const satisfies Partial<StartOptions>

const DAY_MS = 24 * 3600 * 1000

/** The inclusive ranges of the integer options (milliseconds, except maxConnections and feedRetain). */
export const START_LIMITS = {
  aeInterval: { min: 50, max: DAY_MS },
  aeFresh: { min: 0, max: MAX_AE_FRESH_MS },
  maxConnections: { min: 1, max: 100_000 },
  maxDrift: { min: 1000, max: 7 * DAY_MS },
  clockSettleTimeout: { min: 0, max: 60_000 },
  tombstoneGrace: { min: 1000, max: 365 * DAY_MS },
  memberTtl: { min: 60_000, max: 365 * DAY_MS },
  feedRetain: { min: MIN_FEED_RETAIN, max: MAX_FEED_RETAIN }
} as const

export type IntegerOption = keyof typeof START_LIMITS

/** How an option is named in messages: `--cluster-key` on the command line, `clusterKey` in code. */
export type OptionNaming = (option: keyof StartOptions) => string

export const flagName: OptionNaming = option => '--' + option.replace(/[A-Z]/g, c => '-' + c.toLowerCase())
export const camelName: OptionNaming = option => option

const PSK_PATTERN = /^\/key\/swarm\/psk\/1\.0\.0\/\r?\n\/base16\/\r?\n[0-9a-fA-F]{64}\s*$/

/** Checks a cluster key (the text `chorus keygen` prints), read from a file or given as bytes. */
export function clusterKeyBytes (key: string | Uint8Array, name: OptionNaming = flagName): Uint8Array {
  const label = name('clusterKey')
  if (typeof key !== 'string') {
    if (!PSK_PATTERN.test(new TextDecoder().decode(key))) {
      throw new ConfigError(`${label}: these bytes are not a libp2p pre-shared key (the text \`chorus keygen\` prints)`, { data: { option: 'clusterKey' } })
    }
    return new Uint8Array(key)
  }
  let bytes: Buffer
  try {
    bytes = readFileSync(key)
  } catch (err) {
    throw new ConfigError(`${label}: cannot read ${key}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, { cause: err, data: { option: 'clusterKey' } })
  }
  if (!PSK_PATTERN.test(bytes.toString('utf8'))) {
    throw new ConfigError(`${label}: ${key} is not a libp2p pre-shared key (create one with \`chorus keygen > ${key}\`)`, { data: { option: 'clusterKey' } })
  }
  return new Uint8Array(bytes)
}

/** The node's part of the options (the RPC server takes `rpc`, `rpcToken`, `rpcTlsCert` and `rpcTlsKey`). */
export function toNodeInit (o: StartOptions, name: OptionNaming): NodeInit {
  return {
    dataDir: o.data,
    ...(o.listen !== undefined ? { listen: o.listen } : {}),
    bootstrap: o.bootstrap,
    ...(o.mdns !== undefined ? { mdns: o.mdns } : {}),
    open: o.open,
    ...(o.clusterKey !== undefined ? { clusterKey: clusterKeyBytes(o.clusterKey, name) } : {}),
    aeIntervalMs: o.aeInterval,
    aeFreshMs: o.aeFresh,
    fsync: o.fsync,
    maxDriftMs: o.maxDrift,
    clockSettleTimeoutMs: o.clockSettleTimeout,
    clusterName: o.clusterName,
    logLevel: o.logLevel,
    maxConnections: o.maxConnections,
    tombstoneGraceMs: o.tombstoneGrace,
    memberTtlMs: o.memberTtl,
    acceptStaleData: o.acceptStaleData,
    feedRetain: o.feedRetain
  }
}
