/**
 * Anti-entropy options and their defaults, resolved once. Every number a peer could exploit
 * (time, concurrency, sizes) has a bound here.
 */
import { AE_FRESH_MS, AE_LEAVES_PER_ENTRIES, AE_STATES_PER_FRAME_BYTES, DEFAULT_AE_INTERVAL_MS, MAX_AE_FRAME_BYTES, MAX_AE_FRESH_MS } from '../constants.js'
import { ConfigError } from '../errors.js'

export interface AntiEntropyInit {
  /** Mean time between scheduled exchanges; each wait is jittered by ±`jitter`. @default 3000 */
  intervalMs?: number
  /** Fraction of `intervalMs` by which each wait is randomly shortened or lengthened. @default 0.2 */
  jitter?: number
  /** Delay before syncing with a newly identified peer, so a burst of connects coalesces. @default 250 */
  newPeerDelayMs?: number
  /** Cluster name, for the digest topic. @default 'default' */
  clusterName?: string
  /** Deadline for every single read and write of a frame. @default 10000 */
  timeoutMs?: number
  /** Deadline for a whole exchange, however much it streams. @default 300000 */
  exchangeTimeoutMs?: number
  /** Exchanges we serve at once; more are refused with BUSY. @default 4 */
  maxInbound?: number
  /**
   * Exchanges we serve at once for one peer. An honest peer runs one exchange at a time
   * (maxOutbound), so a peer holding more is trying to take the slots of the others. @default 1
   */
  maxInboundPerPeer?: number
  /**
   * When every inbound slot is taken, the exchange that has held its slot longest gives it up
   * to a newly arriving peer once it has held it this long. @default 10000
   */
  slotHoldMs?: number
  /** Exchanges we run at once as initiator. @default 1 */
  maxOutbound?: number
  /** Largest frame accepted or sent. @default MAX_AE_FRAME_BYTES */
  maxFrameBytes?: number
  /** Target size of one STATES frame. @default AE_STATES_PER_FRAME_BYTES */
  statesFrameBytes?: number
  /** Leaves listed per ENTRIES frame; the differing buckets go in parts of about this many. @default AE_LEAVES_PER_ENTRIES */
  leavesPerEntries?: number
  /** Re-announce our digest this often even when unchanged, for newcomers. @default 10000 */
  announceIntervalMs?: number
  /** How often the root is checked for a change worth announcing (the throttle). @default 1000 */
  announceCheckMs?: number
  /**
   * Scheduled exchanges with a peer connected for over twice this long leave to gossip the keys
   * whose run of changes began less than this long ago (docs/protocol.md, "Fresh changes");
   * explicit syncs and 0 send everything. The replica must remember changes as long
   * (ReplicaInit.freshWindowMs). @default AE_FRESH_MS
   */
  freshMs?: number
  /** Run the periodic scheduler and new-peer syncs; off leaves only `sync()`. @default true */
  schedule?: boolean
  /** The clock for exchange start times (onExchangeComplete). @default Date.now */
  now?: () => number
  /** The system clock, for digest announcements and their receipt times (cluster.peers). @default now */
  announceNow?: () => number
}

export type AntiEntropyConfig = Required<AntiEntropyInit>

export const DEFAULT_INTERVAL_MS = DEFAULT_AE_INTERVAL_MS
export const DEFAULT_JITTER = 0.2
export const DEFAULT_NEW_PEER_DELAY_MS = 250
export const DEFAULT_CLUSTER_NAME = 'default'
export const DEFAULT_TIMEOUT_MS = 10_000
export const DEFAULT_EXCHANGE_TIMEOUT_MS = 300_000
export const DEFAULT_MAX_INBOUND = 4
export const DEFAULT_MAX_INBOUND_PER_PEER = 1
export const DEFAULT_MAX_OUTBOUND = 1
export const DEFAULT_SLOT_HOLD_MS = 10_000
export const DEFAULT_ANNOUNCE_INTERVAL_MS = 10_000
export const DEFAULT_ANNOUNCE_CHECK_MS = 1_000

/** Sizes and counts must be positive integers: 0 or NaN would make every exchange fail. */
function requirePositiveIntegers (config: AntiEntropyConfig): AntiEntropyConfig {
  const names = ['timeoutMs', 'exchangeTimeoutMs', 'maxInbound', 'maxInboundPerPeer', 'maxOutbound', 'maxFrameBytes', 'statesFrameBytes', 'leavesPerEntries'] as const
  for (const name of names) {
    const v = config[name]
    if (!Number.isSafeInteger(v) || v < 1) throw new ConfigError(`anti-entropy ${name} must be a positive integer, not ${String(v)}`)
  }
  for (const name of ['intervalMs', 'newPeerDelayMs', 'slotHoldMs', 'announceIntervalMs', 'announceCheckMs'] as const) {
    const v = config[name]
    if (!Number.isFinite(v) || v < 0) throw new ConfigError(`anti-entropy ${name} must be a number of milliseconds ≥ 0, not ${String(v)}`)
  }
  if (!(Number.isSafeInteger(config.freshMs) && config.freshMs >= 0 && config.freshMs <= MAX_AE_FRESH_MS)) throw new ConfigError(`anti-entropy freshMs must be an integer from 0 to ${MAX_AE_FRESH_MS}, not ${String(config.freshMs)}`)
  if (!(config.jitter >= 0 && config.jitter < 1)) throw new ConfigError(`anti-entropy jitter must be in [0, 1), not ${String(config.jitter)}`)
  if (config.statesFrameBytes > config.maxFrameBytes) throw new ConfigError('anti-entropy statesFrameBytes must not exceed maxFrameBytes')
  return config
}

export function resolveConfig (init: AntiEntropyInit = {}): AntiEntropyConfig {
  return requirePositiveIntegers({
    intervalMs: init.intervalMs ?? DEFAULT_INTERVAL_MS,
    jitter: init.jitter ?? DEFAULT_JITTER,
    newPeerDelayMs: init.newPeerDelayMs ?? DEFAULT_NEW_PEER_DELAY_MS,
    clusterName: init.clusterName ?? DEFAULT_CLUSTER_NAME,
    timeoutMs: init.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    exchangeTimeoutMs: init.exchangeTimeoutMs ?? DEFAULT_EXCHANGE_TIMEOUT_MS,
    maxInbound: init.maxInbound ?? DEFAULT_MAX_INBOUND,
    maxInboundPerPeer: init.maxInboundPerPeer ?? DEFAULT_MAX_INBOUND_PER_PEER,
    maxOutbound: init.maxOutbound ?? DEFAULT_MAX_OUTBOUND,
    slotHoldMs: init.slotHoldMs ?? DEFAULT_SLOT_HOLD_MS,
    maxFrameBytes: init.maxFrameBytes ?? MAX_AE_FRAME_BYTES,
    statesFrameBytes: init.statesFrameBytes ?? AE_STATES_PER_FRAME_BYTES,
    leavesPerEntries: init.leavesPerEntries ?? AE_LEAVES_PER_ENTRIES,
    announceIntervalMs: init.announceIntervalMs ?? DEFAULT_ANNOUNCE_INTERVAL_MS,
    announceCheckMs: init.announceCheckMs ?? DEFAULT_ANNOUNCE_CHECK_MS,
    freshMs: init.freshMs ?? AE_FRESH_MS,
    schedule: init.schedule ?? true,
    now: init.now ?? Date.now,
    announceNow: init.announceNow ?? init.now ?? Date.now
  })
}
