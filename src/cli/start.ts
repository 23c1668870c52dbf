/**
 * `chorus start`: resolve the configuration, start the node and its RPC server (launchNode(),
 * the start path createNode() shares), print the `ready` line, and shut down cleanly on
 * SIGINT/SIGTERM.
 */
import { Command, Option } from 'commander'
import { createLogger } from '../util/logger.js'
import { NODE_DEFAULTS } from '../config.js'
import { DEFAULT_RPC, LOG_LEVELS, START_DEFAULTS, clusterKeyBytes, flagName } from '../start/index.js'
import { clusterName, configOption, multiaddrList, nonEmpty, parseHostPort, resolveOptions, startInt } from './options.js'
import type { LogLevel } from '../config.js'
import type { LaunchedNode, OptionNaming, StartOptions } from '../start/index.js'

export { DEFAULT_RPC, LOG_LEVELS }
/** A marker: "not given", so the node picks its default (which depends on the cluster key). */
const DEFAULT_LISTEN: string[] = [...NODE_DEFAULTS.listen]
const DEFAULT_BOOTSTRAP: readonly string[] = []

/** What commander hands over: the start options as flags give them, and the CLI's own. */
interface StartFlags extends Omit<StartOptions, 'rpc' | 'listen' | 'clusterKey' | 'rpcTlsCert' | 'rpcTlsKey'> {
  config?: string
  rpc: string
  listen: string[]
  clusterKey?: string
  rpcTlsCert?: string
  rpcTlsKey?: string
  printConfig?: boolean
  exitWithStdin?: boolean
}

/** Reads and checks a cluster key file (the text `chorus keygen` prints). */
export function readClusterKey (file: string): Uint8Array {
  return clusterKeyBytes(file, flagName)
}

/** Flags in messages, and where the token can come from besides the flag. */
const cliName: OptionNaming = option => option === 'rpcToken' ? '--rpc-token (or CHORUS_RPC_TOKEN)' : flagName(option)

function toStartOptions (flags: StartFlags): StartOptions {
  const { config: _, printConfig: __, exitWithStdin: ___, listen, ...rest } = flags
  // Left to the node when not given: its default depends on whether there is a cluster key.
  return { ...rest, ...(listen === DEFAULT_LISTEN ? {} : { listen }) }
}

export function startCommand (): Command {
  return new Command('start')
    .description('run one node in the foreground until SIGINT/SIGTERM; prints "ready <rpcUrl> peer=<id> listen=<addr>" when ready')
    .addOption(configOption())
    .addOption(new Option('--data <dir>', 'LevelDB data and the node\'s persistent identity').env('CHORUS_DATA').default(START_DEFAULTS.data).argParser(nonEmpty('--data')))
    .addOption(new Option('--rpc <host:port>', 'JSON-RPC listen address; port 0 picks a free port (the URL is printed and written to DIR/rpc.url)').env('CHORUS_RPC').default(DEFAULT_RPC).argParser(parseHostPort))
    .addOption(new Option('--listen <multiaddr>', 'libp2p listen address, repeatable (env: comma-separated); tcp port 0 allowed').env('CHORUS_LISTEN').default(DEFAULT_LISTEN, `${NODE_DEFAULTS.listen.join(',')} with --cluster-key or --open, else ${NODE_DEFAULTS.listenLoopback.join(',')}`).argParser(multiaddrList(DEFAULT_LISTEN)))
    .addOption(new Option('--bootstrap <multiaddr>', 'peer to dial at start and redial when lost (with /p2p/<id>), repeatable (env: comma-separated)').env('CHORUS_BOOTSTRAP').default(DEFAULT_BOOTSTRAP, 'none').argParser(multiaddrList(DEFAULT_BOOTSTRAP)))
    .addOption(new Option('--mdns', 'LAN discovery by mDNS (env value: true/false) [default: on with --cluster-key or --open, else off]').env('CHORUS_MDNS'))
    .addOption(new Option('--no-mdns', 'turn LAN discovery off'))
    .addOption(new Option('--cluster-key <file>', 'join only peers holding the same key (from `chorus init` or `chorus keygen`); without it the node talks to this host only').env('CHORUS_CLUSTER_KEY'))
    .addOption(new Option('--open', 'without --cluster-key, accept peers from other hosts anyway (and allow mDNS): anyone who can reach the node can read and write all data (env value: true/false)').env('CHORUS_OPEN').default(START_DEFAULTS.open))
    .addOption(new Option('--cluster-name <name>', 'names every protocol and topic; nodes with different names never exchange data (letters, digits, . _ -)').env('CHORUS_CLUSTER_NAME').default(START_DEFAULTS.clusterName).argParser(clusterName))
    .addOption(new Option('--rpc-token <token>', 'clients must send Authorization: Bearer TOKEN; required when --rpc is not a loopback address').env('CHORUS_RPC_TOKEN').argParser(nonEmpty('--rpc-token')))
    .addOption(new Option('--rpc-tls-cert <file>', 'serve the RPC over HTTPS/WSS with this PEM certificate (chain); needs --rpc-tls-key').env('CHORUS_RPC_TLS_CERT').argParser(nonEmpty('--rpc-tls-cert')))
    .addOption(new Option('--rpc-tls-key <file>', 'the private key (PEM, unencrypted) of --rpc-tls-cert').env('CHORUS_RPC_TLS_KEY').argParser(nonEmpty('--rpc-tls-key')))
    .addOption(new Option('--ae-interval <ms>', 'anti-entropy period in milliseconds (jittered ±20%)').env('CHORUS_AE_INTERVAL').default(START_DEFAULTS.aeInterval).argParser(startInt('aeInterval')))
    .addOption(new Option('--ae-fresh <ms>', 'scheduled anti-entropy leaves keys changed less than this long ago to gossip, which is delivering them; 0 sends everything (docs/protocol.md, "Fresh changes")').env('CHORUS_AE_FRESH').default(START_DEFAULTS.aeFresh).argParser(startInt('aeFresh')))
    .addOption(new Option('--fsync', 'fsync each acknowledged write; otherwise acknowledged means written to LevelDB\'s log, which survives a process crash (env value: true/false)').env('CHORUS_FSYNC').default(START_DEFAULTS.fsync))
    .addOption(new Option('--log-level <level>', 'structured JSON logs to stderr').env('CHORUS_LOG_LEVEL').default(START_DEFAULTS.logLevel).choices(LOG_LEVELS))
    .addOption(new Option('--max-connections <n>', 'most libp2p connections kept open').env('CHORUS_MAX_CONNECTIONS').default(START_DEFAULTS.maxConnections).argParser(startInt('maxConnections')))
    .addOption(new Option('--max-drift <ms>', 'clock skew tolerated: a node this far ahead of the cluster stamps writes with the cluster\'s time, and remote timestamps further ahead do not move our clock').env('CHORUS_MAX_DRIFT').default(START_DEFAULTS.maxDrift).argParser(startInt('maxDrift')))
    .addOption(new Option('--clock-settle-timeout <ms>', 'at start, how long local writes wait for a bootstrap peer or remembered member to tell the cluster\'s time').env('CHORUS_CLOCK_SETTLE_TIMEOUT').default(START_DEFAULTS.clockSettleTimeout).argParser(startInt('clockSettleTimeout')))
    .addOption(new Option('--tombstone-grace <ms>', 'deleted keys are garbage-collected no sooner than this, and only once every live member has synced since').env('CHORUS_TOMBSTONE_GRACE').default(START_DEFAULTS.tombstoneGrace).argParser(startInt('tombstoneGrace')))
    .addOption(new Option('--member-ttl <ms>', 'a member unseen this long stops holding tombstone collection back and must be reset before it rejoins').env('CHORUS_MEMBER_TTL').default(START_DEFAULTS.memberTtl).argParser(startInt('memberTtl')))
    .addOption(new Option('--accept-stale-data', 'start although this node last saw its cluster longer ago than --member-ttl; safe only if no node of the cluster ran meanwhile (e.g. the whole cluster was stopped): see docs/consistency.md (env value: true/false)').env('CHORUS_ACCEPT_STALE_DATA').default(START_DEFAULTS.acceptStaleData))
    .addOption(new Option('--feed-retain <n>', 'changes the change feed keeps (kv.changes, chorus watch --since); older ones are pruned in the background, and a cursor before them gets ERR_HISTORY_GONE').env('CHORUS_FEED_RETAIN').default(START_DEFAULTS.feedRetain).argParser(startInt('feedRetain')))
    .addOption(new Option('--print-config', 'print the resolved configuration as JSON and exit'))
    // Used by `chorus cluster`: stop when the parent goes away (stdin closes), even if it was killed.
    .addOption(new Option('--exit-with-stdin').hideHelp())
    .action(async (_opts: unknown, cmd: Command) => {
      const opts = resolveOptions<StartFlags>(cmd)
      if (opts.printConfig === true) {
        const { printConfig: _, config: __, exitWithStdin: ___, ...shown } = opts
        process.stdout.write(JSON.stringify({ ...shown, rpcToken: shown.rpcToken === undefined ? undefined : '<set>' }, null, 2) + '\n')
        return
      }
      await runStart(opts.logLevel, toStartOptions(opts), opts.exitWithStdin === true)
    })
}

async function runStart (logLevel: LogLevel, opts: StartOptions, exitWithStdin: boolean): Promise<void> {
  const logger = createLogger({ level: logLevel, component: 'cli' })
  // The node itself warns loudly when it runs without --cluster-key.

  // Signals may arrive while the node is still starting: remember them and stop once possible.
  let stopRequested = false
  let running: LaunchedNode | undefined
  let stopping: Promise<void> | undefined
  const shutdown = (signal: string): void => {
    stopRequested = true
    if (stopping !== undefined) {
      logger.warn({ signal }, 'second signal while stopping: exiting now')
      process.exit(1)
    }
    stopping = (async () => {
      logger.info({ signal }, 'stopping')
      await running?.stop()
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
  if (exitWithStdin) {
    process.stdin.on('end', () => { shutdown('stdin closed') })
    process.stdin.on('error', () => { shutdown('stdin closed') })
    process.stdin.resume()
  }

  // Loaded here: the client commands never need libp2p or LevelDB.
  const { launchNode } = await import('../start/launch.js')
  running = await launchNode(opts, cliName)
  if (stopRequested) {
    await running.stop()
    return
  }
  process.stdout.write(`ready ${running.rpcUrl ?? ''} peer=${running.node.peerId} listen=${running.addrs()[0] ?? ''}\n`)
}
