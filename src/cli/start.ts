/**
 * `chorus start`: resolve the configuration, start the node and its RPC server, print the
 * `ready` line, and shut down cleanly on SIGINT/SIGTERM.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { Command, Option } from 'commander'
import pino from 'pino'
import { NODE_DEFAULTS } from '../config.js'
import { ChorusError } from '../errors.js'
import { isLoopbackHost, startRpcServer } from '../rpc/index.js'
import {
  UsageError, clusterName, configOption, intIn, multiaddrList, nonEmpty, parseHostPort, resolveOptions, splitHostPort
} from './options.js'
import type { LogLevel, NodeInit } from '../config.js'
import type { RpcServer } from '../rpc/index.js'

export const DEFAULT_RPC = '127.0.0.1:7070'
export const LOG_LEVELS: LogLevel[] = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']
/** A marker: "not given", so the node picks its default (which depends on the cluster key). */
const DEFAULT_LISTEN: string[] = [...NODE_DEFAULTS.listen]
const DEFAULT_BOOTSTRAP: readonly string[] = []

export interface StartOptions {
  config?: string
  data: string
  rpc: string
  listen: string[]
  bootstrap: string[]
  mdns?: boolean
  open: boolean
  clusterKey?: string
  clusterName: string
  rpcToken?: string
  aeInterval: number
  fsync: boolean
  logLevel: LogLevel
  maxConnections: number
  maxDrift: number
  clockSettleTimeout: number
  tombstoneGrace: number
  memberTtl: number
  acceptStaleData: boolean
  printConfig?: boolean
  exitWithStdin?: boolean
}

const PSK_PATTERN = /^\/key\/swarm\/psk\/1\.0\.0\/\r?\n\/base16\/\r?\n[0-9a-fA-F]{64}\s*$/

/** Reads and checks a cluster key file (the text `chorus keygen` prints). */
export function readClusterKey (file: string): Uint8Array {
  let bytes: Buffer
  try {
    bytes = readFileSync(file)
  } catch (err) {
    throw new UsageError(`--cluster-key: cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`)
  }
  if (!PSK_PATTERN.test(bytes.toString('utf8'))) {
    throw new UsageError(`--cluster-key: ${file} is not a libp2p pre-shared key (create one with \`chorus keygen > ${file}\`)`)
  }
  return new Uint8Array(bytes)
}

export function toNodeInit (o: StartOptions): NodeInit {
  return {
    dataDir: o.data,
    // Left to the node when not given: its default depends on whether there is a cluster key.
    ...(o.listen === DEFAULT_LISTEN ? {} : { listen: o.listen }),
    bootstrap: o.bootstrap,
    ...(o.mdns !== undefined ? { mdns: o.mdns } : {}),
    open: o.open,
    ...(o.clusterKey !== undefined ? { clusterKey: readClusterKey(o.clusterKey) } : {}),
    aeIntervalMs: o.aeInterval,
    fsync: o.fsync,
    maxDriftMs: o.maxDrift,
    clockSettleTimeoutMs: o.clockSettleTimeout,
    clusterName: o.clusterName,
    logLevel: o.logLevel,
    maxConnections: o.maxConnections,
    tombstoneGraceMs: o.tombstoneGrace,
    memberTtlMs: o.memberTtl,
    acceptStaleData: o.acceptStaleData
  }
}

export function startCommand (): Command {
  return new Command('start')
    .description('run one node in the foreground until SIGINT/SIGTERM; prints "ready <rpcUrl> peer=<id> listen=<addr>" when ready')
    .addOption(configOption())
    .addOption(new Option('--data <dir>', 'LevelDB data and the node\'s persistent identity').env('CHORUS_DATA').default(NODE_DEFAULTS.dataDir).argParser(nonEmpty('--data')))
    .addOption(new Option('--rpc <host:port>', 'JSON-RPC listen address; port 0 picks a free port (the URL is printed and written to DIR/rpc.url)').env('CHORUS_RPC').default(DEFAULT_RPC).argParser(parseHostPort))
    .addOption(new Option('--listen <multiaddr>', 'libp2p listen address, repeatable (env: comma-separated); tcp port 0 allowed').env('CHORUS_LISTEN').default(DEFAULT_LISTEN, `${NODE_DEFAULTS.listen.join(',')} with --cluster-key or --open, else ${NODE_DEFAULTS.listenLoopback.join(',')}`).argParser(multiaddrList(DEFAULT_LISTEN)))
    .addOption(new Option('--bootstrap <multiaddr>', 'peer to dial at start and redial when lost (with /p2p/<id>), repeatable (env: comma-separated)').env('CHORUS_BOOTSTRAP').default(DEFAULT_BOOTSTRAP, 'none').argParser(multiaddrList(DEFAULT_BOOTSTRAP)))
    .addOption(new Option('--mdns', 'LAN discovery by mDNS (env value: true/false) [default: on with --cluster-key or --open, else off]').env('CHORUS_MDNS'))
    .addOption(new Option('--no-mdns', 'turn LAN discovery off'))
    .addOption(new Option('--cluster-key <file>', 'join only peers holding the same key (from `chorus init` or `chorus keygen`); without it the node talks to this host only').env('CHORUS_CLUSTER_KEY'))
    .addOption(new Option('--open', 'without --cluster-key, accept peers from other hosts anyway (and allow mDNS): anyone who can reach the node can read and write all data (env value: true/false)').env('CHORUS_OPEN').default(NODE_DEFAULTS.open))
    .addOption(new Option('--cluster-name <name>', 'names every protocol and topic; nodes with different names never exchange data (letters, digits, . _ -)').env('CHORUS_CLUSTER_NAME').default(NODE_DEFAULTS.clusterName).argParser(clusterName))
    .addOption(new Option('--rpc-token <token>', 'clients must send Authorization: Bearer TOKEN; required when --rpc is not a loopback address').env('CHORUS_RPC_TOKEN').argParser(nonEmpty('--rpc-token')))
    .addOption(new Option('--ae-interval <ms>', 'anti-entropy period in milliseconds (jittered ±20%)').env('CHORUS_AE_INTERVAL').default(NODE_DEFAULTS.aeIntervalMs).argParser(intIn(50, 24 * 3600 * 1000)))
    .addOption(new Option('--fsync', 'fsync each acknowledged write; otherwise acknowledged means written to LevelDB\'s log, which survives a process crash (env value: true/false)').env('CHORUS_FSYNC').default(NODE_DEFAULTS.fsync))
    .addOption(new Option('--log-level <level>', 'structured JSON logs to stderr').env('CHORUS_LOG_LEVEL').default(NODE_DEFAULTS.logLevel).choices(LOG_LEVELS))
    .addOption(new Option('--max-connections <n>', 'most libp2p connections kept open').env('CHORUS_MAX_CONNECTIONS').default(NODE_DEFAULTS.maxConnections).argParser(intIn(1, 100_000)))
    .addOption(new Option('--max-drift <ms>', 'clock skew tolerated: a node this far ahead of the cluster stamps writes with the cluster\'s time, and remote timestamps further ahead do not move our clock').env('CHORUS_MAX_DRIFT').default(NODE_DEFAULTS.maxDriftMs).argParser(intIn(1000, 7 * 24 * 3600 * 1000)))
    .addOption(new Option('--clock-settle-timeout <ms>', 'at start, how long local writes wait for a bootstrap peer or remembered member to tell the cluster\'s time').env('CHORUS_CLOCK_SETTLE_TIMEOUT').default(NODE_DEFAULTS.clockSettleTimeoutMs).argParser(intIn(0, 60_000)))
    .addOption(new Option('--tombstone-grace <ms>', 'deleted keys are garbage-collected no sooner than this, and only once every live member has synced since').env('CHORUS_TOMBSTONE_GRACE').default(NODE_DEFAULTS.tombstoneGraceMs).argParser(intIn(1000, 365 * 24 * 3600 * 1000)))
    .addOption(new Option('--member-ttl <ms>', 'a member unseen this long stops holding tombstone collection back and must be reset before it rejoins').env('CHORUS_MEMBER_TTL').default(NODE_DEFAULTS.memberTtlMs).argParser(intIn(60_000, 365 * 24 * 3600 * 1000)))
    .addOption(new Option('--accept-stale-data', 'start although this node last saw its cluster longer ago than --member-ttl; safe only if no node of the cluster ran meanwhile (e.g. the whole cluster was stopped): see docs/consistency.md (env value: true/false)').env('CHORUS_ACCEPT_STALE_DATA').default(NODE_DEFAULTS.acceptStaleData))
    .addOption(new Option('--print-config', 'print the resolved configuration as JSON and exit'))
    // Used by `chorus cluster`: stop when the parent goes away (stdin closes), even if it was killed.
    .addOption(new Option('--exit-with-stdin').hideHelp())
    .action(async (_opts: unknown, cmd: Command) => {
      const opts = resolveOptions<StartOptions>(cmd)
      if (opts.printConfig === true) {
        const { printConfig: _, config: __, exitWithStdin: ___, ...shown } = opts
        process.stdout.write(JSON.stringify({ ...shown, rpcToken: shown.rpcToken === undefined ? undefined : '<set>' }, null, 2) + '\n')
        return
      }
      await runStart(opts)
    })
}

async function runStart (opts: StartOptions): Promise<void> {
  const { host, port } = splitHostPort(opts.rpc)
  if (!isLoopbackHost(host) && opts.rpcToken === undefined) {
    throw new UsageError(`--rpc ${opts.rpc} is not a loopback address: set --rpc-token (or CHORUS_RPC_TOKEN) so that only clients with the token can use it`)
  }
  const init = toNodeInit(opts)
  const logger = pino({ level: opts.logLevel, base: { component: 'cli' } }, pino.destination({ fd: 2, sync: true }))
  // The node itself warns loudly when it runs without --cluster-key.

  // Signals may arrive while the node is still starting: remember them and stop once possible.
  let stopRequested = false
  let node: { stop: () => Promise<void> } | undefined
  let rpc: RpcServer | undefined
  let stopping: Promise<void> | undefined
  const shutdown = (signal: string): void => {
    stopRequested = true
    if (stopping !== undefined) {
      logger.warn({ signal }, 'second signal while stopping: exiting now')
      process.exit(1)
    }
    stopping = (async () => {
      logger.info({ signal }, 'stopping')
      await rpc?.close()
      await node?.stop()
    })()
    stopping.then(() => {
      logger.info('stopped')
      process.exit(0)
    }, (err: unknown) => {
      logger.error({ err }, 'error while stopping')
      process.exit(1)
    })
  }
  process.on('SIGINT', () => { shutdown('SIGINT') })
  process.on('SIGTERM', () => { shutdown('SIGTERM') })
  if (opts.exitWithStdin === true) {
    process.stdin.on('end', () => { shutdown('stdin closed') })
    process.stdin.on('error', () => { shutdown('stdin closed') })
    process.stdin.resume()
  }

  const { createChorusNode } = await import('../node/index.js')
  const started = await createChorusNode(init)
  node = started
  if (stopRequested) { shutdown('startup'); return }
  try {
    rpc = await startRpcServer({ api: started, host, port, ...(opts.rpcToken !== undefined ? { token: opts.rpcToken } : {}), logger: logger.child({ component: 'rpc' }) })
  } catch (err) {
    await started.stop()
    if (err instanceof ChorusError && err.code === 'ERR_CONFIG') throw new UsageError(err.message)
    if ((err as NodeJS.ErrnoException).code === 'EADDRINUSE') throw new UsageError(`--rpc ${opts.rpc}: address already in use`)
    throw err
  }
  if (stopRequested) { shutdown('startup'); return }
  started.setRpcUrl(rpc.url)
  mkdirSync(opts.data, { recursive: true })
  writeFileSync(join(opts.data, 'rpc.url'), rpc.url + '\n')
  const first = started.multiaddrs()[0] ?? ''
  const listen = first === '' || first.includes('/p2p/') ? first : `${first}/p2p/${started.peerId}`
  process.stdout.write(`ready ${rpc.url} peer=${started.peerId} listen=${listen}\n`)
}
