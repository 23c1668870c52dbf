/**
 * `--replicas K|majority` on the write commands (put, del, incr, sadd, srem): the write returns
 * once that many nodes hold it (docs/api.md, "Durable writes"). With `--replicas`, an explicit
 * `--timeout MS` is also how long the node waits for acknowledgements (the node's default,
 * 5 s, otherwise), and the client's own deadline is set past it so that the node's answer —
 * success or ERR_REPLICAS_TIMEOUT with how many nodes had the write — always arrives.
 */
import { type Command, InvalidArgumentError, Option } from 'commander'
import { MAX_REPLICAS, MAX_REPLICAS_TIMEOUT_MS } from '../constants.js'
import type { WriteOptions } from '../node/api.js'
import { ChorusClient } from '../rpc/index.js'
import { clientOptions, type ClientOptions } from './client-commands.js'
import { resolveOptions, UsageError } from './options.js'

/** What the client waits beyond the node's own deadline for its answer. */
const CLIENT_MARGIN_MS = 5_000

function parseReplicas (value: string): number | 'majority' {
  const v = value.trim()
  if (v === 'majority') return v
  const n = Number(v)
  if (!/^\d+$/.test(v) || n < 1 || n > MAX_REPLICAS) throw new InvalidArgumentError(`expected an integer between 1 and ${MAX_REPLICAS} or "majority"`)
  return n
}

export function withReplicasOption (cmd: Command): Command {
  return cmd.addOption(new Option('--replicas <k>', `return once K nodes (this one included, 1 to ${MAX_REPLICAS}) or a "majority" of the known members hold the write; with it, --timeout is also the wait (at most ${MAX_REPLICAS_TIMEOUT_MS} ms, default 5000)`).argParser(parseReplicas))
}

/** The client and the write's durability options, from the command's flags. */
export function connectDurable (cmd: Command): { client: ChorusClient, opts: ClientOptions & Record<string, unknown>, durable?: WriteOptions } {
  const opts = resolveOptions<ClientOptions & Record<string, unknown>>(cmd)
  // A session view sends the token with every data call, as connect() does for the other commands.
  const inSession = (client: ChorusClient): ChorusClient => opts.session === undefined ? client : client.session(opts.session)
  const replicas = opts.replicas as number | 'majority' | undefined
  if (replicas === undefined) return { client: inSession(new ChorusClient(opts.url, clientOptions(opts))), opts }
  const explicit = cmd.getOptionValueSource('timeout') !== 'default'
  if (explicit && opts.timeout > MAX_REPLICAS_TIMEOUT_MS) throw new UsageError(`--timeout: at most ${MAX_REPLICAS_TIMEOUT_MS} ms with --replicas`)
  const durable: WriteOptions = { replicas, ...(explicit ? { timeoutMs: opts.timeout } : {}) }
  const client = inSession(new ChorusClient(opts.url, { ...clientOptions(opts), timeoutMs: opts.timeout + CLIENT_MARGIN_MS }))
  return { client, opts, durable }
}
