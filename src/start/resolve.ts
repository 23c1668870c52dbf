/**
 * createNode()'s options: `chorus start`'s flags in camelCase, checked like the flags (same
 * shapes, same ranges, same defaults) and resolved into StartOptions. Everything wrong is a
 * ConfigError (ERR_CONFIG) whose `data.option` names the option.
 */
import { CLUSTER_NAME_PATTERN } from '../constants.js'
import { ConfigError } from '../errors.js'
import { hostPortProblem, multiaddrProblem } from './addresses.js'
import { LOG_LEVELS, START_DEFAULTS, START_LIMITS, type IntegerOption, type StartOptions } from './options.js'
import type { LogLevel } from '../config.js'

/** The options of createNode(). Each one is the `chorus start` flag of the same name. */
export interface CreateNodeOptions {
  /** `--data`: LevelDB data and the node's persistent identity. @default './chorus-data' */
  data?: string
  /** `--rpc`: JSON-RPC address `HOST:PORT`, port 0 picks a free one; false runs no RPC server. @default '127.0.0.1:7070' */
  rpc?: string | false
  /** `--listen`: libp2p listen multiaddr(s). @default ['/ip4/127.0.0.1/tcp/7071'] without a cluster key, else ['/ip4/0.0.0.0/tcp/7071'] */
  listen?: string | readonly string[]
  /** `--bootstrap`: peers (with /p2p/ID) dialled at start and redialled when lost. @default [] */
  bootstrap?: string | readonly string[]
  /** `--mdns` / `--no-mdns`: LAN discovery. @default true with a cluster key or `open`, else false */
  mdns?: boolean
  /** `--open`: without a cluster key, accept peers from other hosts anyway. @default false */
  open?: boolean
  /** `--cluster-key`: the key file's path, or the key itself (the file's bytes, as `chorus keygen` prints them). */
  clusterKey?: string | Uint8Array
  /** `--cluster-name`: names every protocol and topic. @default 'default' */
  clusterName?: string
  /** `--rpc-token`: clients must send `Authorization: Bearer TOKEN`; required for a non-loopback `rpc`. */
  rpcToken?: string
  /**
   * `--rpc-tls-cert`: serve the RPC over HTTPS/WSS with this PEM certificate (chain): a file's
   * path, or the PEM itself as bytes (a string is always a path). Needs `rpcTlsKey`.
   */
  rpcTlsCert?: string | Uint8Array
  /** `--rpc-tls-key`: the certificate's private key (PEM, unencrypted): a file's path, or the PEM as bytes. Needs `rpcTlsCert`. */
  rpcTlsKey?: string | Uint8Array
  /** `--ae-interval`: anti-entropy period, ms. @default 3000 */
  aeInterval?: number
  /** `--ae-fresh`: scheduled anti-entropy leaves changes younger than this to gossip, ms; 0 sends everything. @default 1000 */
  aeFresh?: number
  /** `--fsync`: fsync each acknowledged write. @default false */
  fsync?: boolean
  /** `--log-level`: JSON logs to stderr. @default 'info' */
  logLevel?: LogLevel
  /** `--max-connections`. @default 64 */
  maxConnections?: number
  /** `--max-drift`: clock skew tolerated, ms. @default 60000 */
  maxDrift?: number
  /** `--clock-settle-timeout`, ms. @default 3000 */
  clockSettleTimeout?: number
  /** `--tombstone-grace`, ms. @default 3600000 */
  tombstoneGrace?: number
  /** `--member-ttl`, ms. @default 604800000 */
  memberTtl?: number
  /** `--accept-stale-data`: start although this node last saw its cluster longer ago than memberTtl. @default false */
  acceptStaleData?: boolean
  /** `--feed-retain`: changes the change feed keeps; older ones are pruned. @default 1000000 */
  feedRetain?: number
}

type Checker = (value: unknown, option: keyof StartOptions) => unknown

function fail (option: string, message: string): never {
  throw new ConfigError(`createNode: ${option}: ${message}`, { data: { option } })
}

const nonEmptyString: Checker = (v, option) => {
  if (typeof v !== 'string' || v.length === 0) fail(option, `expected a non-empty string, got ${describe(v)}`)
  return v
}

const boolean: Checker = (v, option) => {
  if (typeof v !== 'boolean') fail(option, `expected true or false, got ${describe(v)}`)
  return v
}

const multiaddrs: Checker = (v, option) => {
  const items: unknown[] = Array.isArray(v) ? v : [v]
  return items.map((item, i) => {
    const where = Array.isArray(v) ? `${option}[${i}]` : option
    if (typeof item !== 'string') fail(where, `expected a multiaddr string, got ${describe(item)}`)
    const problem = multiaddrProblem(item)
    if (problem !== undefined) fail(where, problem)
    return item.trim()
  })
}

/** A file's path, or the file's bytes. */
const pathOrBytes: Checker = (v, option) => {
  if (v instanceof Uint8Array) return v
  if (typeof v !== 'string' || v.length === 0) fail(option, `expected a file's path or its bytes (Uint8Array), got ${describe(v)}`)
  return v
}

function integer (option: IntegerOption): Checker {
  const { min, max } = START_LIMITS[option]
  return (v) => {
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min || v > max) fail(option, `expected an integer between ${min} and ${max}, got ${describe(v)}`)
    return v
  }
}

const CHECKS: { [K in keyof CreateNodeOptions]-?: Checker } = {
  data: nonEmptyString,
  rpc: (v, option) => {
    if (v === false) return v
    if (typeof v !== 'string') fail(option, `expected "HOST:PORT" or false, got ${describe(v)}`)
    const problem = hostPortProblem(v)
    if (problem !== undefined) fail(option, problem)
    return v.trim()
  },
  listen: multiaddrs,
  bootstrap: multiaddrs,
  mdns: boolean,
  open: boolean,
  clusterKey: pathOrBytes,
  clusterName: (v, option) => {
    if (typeof v !== 'string' || !CLUSTER_NAME_PATTERN.test(v)) fail(option, `use 1 to 64 letters, digits, '.', '_' or '-', got ${describe(v)}`)
    return v
  },
  rpcToken: nonEmptyString,
  rpcTlsCert: pathOrBytes,
  rpcTlsKey: pathOrBytes,
  aeInterval: integer('aeInterval'),
  aeFresh: integer('aeFresh'),
  fsync: boolean,
  logLevel: (v, option) => {
    if (!LOG_LEVELS.includes(v as LogLevel)) fail(option, `expected one of ${LOG_LEVELS.join(', ')}, got ${describe(v)}`)
    return v
  },
  maxConnections: integer('maxConnections'),
  maxDrift: integer('maxDrift'),
  clockSettleTimeout: integer('clockSettleTimeout'),
  tombstoneGrace: integer('tombstoneGrace'),
  memberTtl: integer('memberTtl'),
  acceptStaleData: boolean,
  feedRetain: integer('feedRetain')
}

/** createNode takes every option of `chorus start` and no other: adding one to StartOptions fails here until it is added above. */
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false
const SAME_OPTIONS: Same<keyof CreateNodeOptions, keyof StartOptions> = true

const KNOWN = Object.keys(CHECKS)

/** Checks createNode()'s argument (from JavaScript it may be anything) and fills in the defaults. */
export function resolveCreateNodeOptions (input: unknown): StartOptions {
  if (input === undefined) input = {}
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw new ConfigError(`createNode: expected an options object, got ${describe(input)}`, { data: { option: '' } })
  }
  const given: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(input)) {
    if (!Object.hasOwn(CHECKS, key)) {
      const camel = key.replace(/^-+/, '').replace(/-([a-z])/g, (_, c: string) => c.toUpperCase())
      const hint = camel !== key && Object.hasOwn(CHECKS, camel) ? ` (did you mean ${camel}?)` : ''
      fail(key, `unknown option${hint}; known: ${KNOWN.join(', ')}`)
    }
    // undefined means "not given", as when an app spreads optional settings.
    if (value !== undefined) given[key] = CHECKS[key as keyof CreateNodeOptions](value, key as keyof StartOptions)
  }
  return { ...START_DEFAULTS, bootstrap: [], ...given } as StartOptions
}

function describe (v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v.length > 80 ? v.slice(0, 80) + '…' : v)
  if (v === null || typeof v !== 'object') return String(v)
  return Array.isArray(v) ? 'an array' : 'an object'
}
