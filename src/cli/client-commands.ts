/**
 * Client commands: get, put, del, scan (any key space), conflicts, incr, count, sadd, srem, smembers, status,
 * peers, sync, watch (with --since: feed-commands.ts). Each talks to a node through ChorusClient (`--url`, `--token`).
 */
import { readFileSync } from 'node:fs'
import { Command, Option } from 'commander'
import { ChorusClient, type ChorusClientOptions } from '../rpc/index.js'
import { UsageError, configOption, intIn, resolveOptions } from './options.js'
import { formatPeers, formatStatus, formatValue } from './format.js'
import { withResumeCursor } from './feed-format.js'
import type { ChangeEvent, CounterScanItem, ScanItem, ScanOptions, SetScanItem } from '../node/api.js'
import { connectDurable, withReplicasOption } from './durable-option.js'
import { MAX_TTL_MS } from '../constants.js'

export const DEFAULT_URL = 'http://127.0.0.1:7070'

export interface ClientOptions { url: string, token?: string, ca?: string, json?: boolean, timeout: number, session?: string }

export function out (line: string): void {
  process.stdout.write(line + '\n')
}

export function json (value: unknown): void {
  out(JSON.stringify(value))
}

/** VALUE is JSON, or a plain string when it does not parse as JSON. */
export function parseValueArg (text: string): unknown {
  try {
    return JSON.parse(text)
  } catch {
    return text
  }
}

export function clientCommand (name: string, description: string): Command {
  return new Command(name)
    .description(description)
    .addOption(new Option('--url <url>', 'the node\'s RPC URL (https:// for a node started with --rpc-tls-cert)').env('CHORUS_URL').default(DEFAULT_URL))
    .addOption(new Option('--token <token>', 'RPC token (Authorization: Bearer)').env('CHORUS_RPC_TOKEN'))
    .addOption(new Option('--ca <file>', 'for an https:// URL: trust the node\'s certificate if this CA (PEM) signed it, instead of the system\'s trust store').env('CHORUS_CA'))
    .addOption(new Option('--timeout <ms>', 'per-request deadline in milliseconds').env('CHORUS_TIMEOUT').default(30_000).argParser(intIn(1, 3_600_000)))
    .addOption(new Option('--json', 'machine-readable JSON output'))
    .addOption(new Option('--session <token>', 'a session token from an earlier result: data commands wait (up to 5 s) until the node holds everything it covers; --json output carries the next token in "session"').env('CHORUS_SESSION'))
    .addOption(configOption('{"url": "http://10.0.0.5:7070", "token": "…", "timeout": 5000}'))
}

export function connect (cmd: Command): { client: ChorusClient, opts: ClientOptions & Record<string, unknown> } {
  const opts = resolveOptions<ClientOptions & Record<string, unknown>>(cmd)
  const client = new ChorusClient(opts.url, clientOptions(opts))
  // A session view sends the token with every data call (and only with those).
  return { client: opts.session === undefined ? client : client.session(opts.session), opts }
}

/** The client's options from the shared flags (`--token`, `--timeout`, `--ca`, whose file is read here). */
export function clientOptions (opts: ClientOptions): ChorusClientOptions {
  return {
    ...(opts.token !== undefined ? { token: opts.token } : {}),
    timeoutMs: opts.timeout,
    ...(opts.ca !== undefined ? { ca: readCa(opts.ca) } : {})
  }
}

function readCa (file: string): Buffer {
  let pem: Buffer
  try {
    pem = readFileSync(file)
  } catch (err) {
    throw new UsageError(`--ca: cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`)
  }
  if (!pem.includes('-----BEGIN CERTIFICATE-----')) throw new UsageError(`--ca: ${file} holds no PEM certificate (-----BEGIN CERTIFICATE-----)`)
  return pem
}

function maybeContext (o: Record<string, unknown>): string | undefined {
  return typeof o.context === 'string' ? o.context : undefined
}

/** `--ttl MS`: expiring keys (docs/api.md, "Expiring keys"); the node checks the bound too. */
function ttlOption (): Option {
  return new Option('--ttl <ms>', `the key reads as absent on every node this many milliseconds after the write (1 to ${MAX_TTL_MS})`).argParser(intIn(1, MAX_TTL_MS))
}

function maybeTtl (o: Record<string, unknown>): { ttlMs?: number } {
  return typeof o.ttl === 'number' ? { ttlMs: o.ttl } : {}
}

/** Every item of one space's scan, following cursors; stops after `max` items when given. */
async function * scanAll (client: ChorusClient, space: 'kv' | 'counter' | 'set', options: Omit<ScanOptions, 'cursor'> & { max?: number }): AsyncGenerator<ScanItem | CounterScanItem | SetScanItem> {
  if (space === 'kv') { yield * client.kvScanAll(options); return }
  const { max, ...scan } = options
  let cursor: string | undefined
  let n = 0
  do {
    const params = { ...scan, limit: Math.min(max === undefined ? 1000 : max - n, 1000), ...(cursor !== undefined ? { cursor } : {}) }
    const page = space === 'counter' ? await client.counterScan(params) : await client.setScan(params)
    for (const item of page.items) {
      yield item
      if (max !== undefined && ++n >= max) return
    }
    cursor = page.cursor
  } while (cursor !== undefined)
}

export function clientCommands (): Command[] {
  const get = clientCommand('get', 'read a register: prints the winning value as JSON (exit 1 when not found)')
    .argument('<key>')
    .option('--all', 'show every sibling (concurrent version) with its node and HLC time')
    .addOption(new Option('--after <context>', 'wait until this node has seen the write that returned this context'))
    .action(async (key: string, _o: unknown, cmd: Command) => {
      const { client, opts } = connect(cmd)
      const r = await client.kvGet(key, {
        ...(opts.all === true ? { all: true } : {}),
        ...(typeof opts.after === 'string' ? { after: opts.after } : {})
      })
      if (opts.json === true) { json(r); return }
      if (!r.found && r.values === undefined) {
        process.stderr.write(`${key}: not found\n`)
        process.exitCode = 1
        return
      }
      if (r.values !== undefined) {
        for (const v of r.values) out(`${v.node}\t${v.hlc}\t${v.deleted === true ? '(deleted)' : formatValue(v.value)}`)
        if (!r.found) process.exitCode = 1
      } else {
        out(formatValue(r.value))
      }
      if (r.conflict) process.stderr.write(`${key}: conflict — concurrent versions exist (see --all); write with --context to resolve\n`)
    })

  const warnSiblingsRemain = (key: string): void => {
    process.stderr.write(`${key}: conflict — concurrent versions remain after this write (see get --all); write with the context of a fresh read to resolve\n`)
  }

  const put = withReplicasOption(clientCommand('put', 'write a register; VALUE is JSON, or a plain string when it does not parse as JSON; prints the new context')
    .argument('<key>')
    .argument('<value>')
    .addOption(new Option('--context <context>', 'supersede exactly what this context (from a read) covers'))
    .addOption(ttlOption()))
    .action(async (key: string, value: string, _o: unknown, cmd: Command) => {
      const { client, opts, durable } = connectDurable(cmd)
      const r = await client.kvPut(key, parseValueArg(value), maybeContext(opts), { ...durable, ...maybeTtl(opts) })
      if (opts.json === true) json(r)
      else out(r.context)
      if (r.conflict && opts.json !== true) warnSiblingsRemain(key)
    })

  const del = withReplicasOption(clientCommand('del', 'delete a register; prints the new context')
    .argument('<key>')
    .addOption(new Option('--context <context>', 'supersede exactly what this context (from a read) covers')))
    .action(async (key: string, _o: unknown, cmd: Command) => {
      const { client, opts, durable } = connectDurable(cmd)
      const r = await client.kvDelete(key, maybeContext(opts), durable)
      if (opts.json === true) json(r)
      else out(r.context)
      if (r.conflict && opts.json !== true) warnSiblingsRemain(key)
    })

  const scan = clientCommand('scan', 'list a key space in key order ("key<TAB>value"; sets: "key<TAB>[members]"), following cursors')
    .addOption(new Option('--space <space>', 'registers (kv), counters or sets').choices(['kv', 'counter', 'set']).default('kv'))
    .addOption(new Option('--prefix <prefix>', 'only keys starting with this'))
    .addOption(new Option('--start <key>', 'inclusive lower bound'))
    .addOption(new Option('--end <key>', 'exclusive upper bound'))
    .addOption(new Option('--limit <n>', 'stop after this many items (default: all)').argParser(intIn(1, Number.MAX_SAFE_INTEGER)))
    .action(async (_o: unknown, cmd: Command) => {
      const { client, opts } = connect(cmd)
      const items = []
      const space = opts.space as 'kv' | 'counter' | 'set'
      for await (const item of scanAll(client, space, {
        ...(typeof opts.prefix === 'string' ? { prefix: opts.prefix } : {}),
        ...(typeof opts.start === 'string' ? { start: opts.start } : {}),
        ...(typeof opts.end === 'string' ? { end: opts.end } : {}),
        ...(typeof opts.limit === 'number' ? { max: opts.limit } : {})
      })) {
        if (opts.json === true) items.push(item)
        else if ('members' in item) out(`${item.key}\t${formatValue(item.members)}`)
        else out(`${item.key}\t${formatValue(item.value)}${'conflict' in item && item.conflict ? '\t(conflict)' : ''}`)
      }
      if (opts.json === true) json(items)
    })

  const conflicts = clientCommand('conflicts', 'list keys that have concurrent versions now, following cursors')
    .addOption(new Option('--prefix <prefix>', 'only keys starting with this'))
    .action(async (_o: unknown, cmd: Command) => {
      const { client, opts } = connect(cmd)
      const keys: string[] = []
      let cursor: string | undefined
      do {
        const page = await client.kvConflicts({ ...(typeof opts.prefix === 'string' ? { prefix: opts.prefix } : {}), ...(cursor !== undefined ? { cursor } : {}) })
        keys.push(...page.keys)
        cursor = page.cursor
      } while (cursor !== undefined)
      if (opts.json === true) json(keys)
      else for (const k of keys) out(k)
    })

  const incr = withReplicasOption(clientCommand('incr', 'add BY (default 1, may be negative) to a counter; prints the new value')
    .argument('<key>')
    .argument('[by]', 'an integer', intIn(Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER))
    .addOption(ttlOption()))
    .action(async (key: string, by: number | undefined, _o: unknown, cmd: Command) => {
      const { client, opts, durable } = connectDurable(cmd)
      const r = await client.counterIncr(key, by, { ...durable, ...maybeTtl(opts) })
      if (opts.json === true) json(r)
      else out(String(r.value))
    })

  const count = clientCommand('count', 'read a counter (0 when absent)')
    .argument('<key>')
    .action(async (key: string, _o: unknown, cmd: Command) => {
      const { client, opts } = connect(cmd)
      const r = await client.counterGet(key)
      if (opts.json === true) json(r)
      else out(String(r.value))
    })

  const setCmd = (name: string, description: string, op: 'setAdd' | 'setRemove'): Command => {
    const command = clientCommand(name, description)
      .argument('<key>')
      .argument('<members...>')
    if (op === 'setAdd') command.addOption(ttlOption())
    return withReplicasOption(command)
      .action(async (key: string, members: string[], _o: unknown, cmd: Command) => {
        const { client, opts, durable } = connectDurable(cmd)
        const r = op === 'setAdd' ? await client.setAdd(key, members, { ...durable, ...maybeTtl(opts) }) : await client.setRemove(key, members, durable)
        if (opts.json === true) json(r)
        else for (const m of r.members) out(m)
      })
  }

  const smembers = clientCommand('smembers', 'list a set\'s members, sorted')
    .argument('<key>')
    .action(async (key: string, _o: unknown, cmd: Command) => {
      const { client, opts } = connect(cmd)
      const r = await client.setGet(key)
      if (opts.json === true) json(r)
      else for (const m of r.members) out(m)
    })

  const status = clientCommand('status', 'the node\'s state and a summary of its peers')
    .action(async (_o: unknown, cmd: Command) => {
      const { client, opts } = connect(cmd)
      const [info, peers] = await Promise.all([client.info(), client.peers()])
      if (opts.json === true) json({ ...info, peers })
      else out(formatStatus(info, peers))
    })

  const peers = clientCommand('peers', 'the peers this node knows: connection, last seen, in sync or not')
    .action(async (_o: unknown, cmd: Command) => {
      const { client, opts } = connect(cmd)
      const list = await client.peers()
      if (opts.json === true) json(list)
      else out(formatPeers(list))
    })

  const sync = clientCommand('sync', 'run one anti-entropy exchange now and report what it repaired')
    .addOption(new Option('--peer <peerId>', 'the peer to sync with (default: one chosen by the node)'))
    .action(async (_o: unknown, cmd: Command) => {
      const { client, opts } = connect(cmd)
      const r = await client.sync(typeof opts.peer === 'string' ? opts.peer : undefined)
      if (opts.json === true) json(r)
      else out(`${r.peer}: ${r.inSync ? 'already in sync' : `sent ${r.keysSent} keys, received ${r.keysReceived}, repaired ${r.keysRepaired}`} (${r.roundTrips} round trip${r.roundTrips === 1 ? '' : 's'}, ${r.durationMs} ms)`)
    })

  const watch = clientCommand('watch', 'print every change applied on the node (local or remote) until Ctrl-C; with --since, first those after a cursor. On exit it prints the cursor to resume from (stderr)')
    .addOption(new Option('--prefix <prefix>', 'only keys starting with this'))
    .addOption(new Option('--since <cursor>', 'replay the changes after this cursor (printed by a previous watch or by chorus changes), then go on live, each change once'))
    .action(async (_o: unknown, cmd: Command) => {
      const { client, opts } = connect(cmd)
      let resume = typeof opts.since === 'string' ? opts.since : undefined
      const show = (e: ChangeEvent): void => {
        if (e.cursor !== undefined) resume = e.cursor
        if (opts.json === true) json(e)
        else out(`${e.origin}\t${e.space}\t${e.key}\t${e.space === 'kv' && !e.found ? '(deleted)' : formatValue(e.value)}${e.conflict ? '\t(conflict)' : ''}${e.replayed === true ? '\t(replayed)' : ''}`)
      }
      let handle: Awaited<ReturnType<typeof client.watch>> | undefined
      let ended = false
      try {
        handle = await client.watch({
          ...(typeof opts.prefix === 'string' ? { prefix: opts.prefix } : {}),
          ...(typeof opts.since === 'string' ? { since: opts.since } : {})
        }, {
          onEvent: show,
          onMissed: (n, cursor) => { process.stderr.write(`watch: the node dropped ${n} event(s) because this watcher was too slow${cursor !== undefined ? `; to see them: chorus watch --since ${cursor}` : ''}\n`) },
          onEnd: (err) => {
            process.stderr.write(`watch: ${(withResumeCursor(err) as Error).message}\n`)
            process.exitCode = 1
            ended = true
            void handle?.close()
          }
        })
      } catch (err) {
        throw withResumeCursor(err)
      }
      const watching = handle
      let stopping = false
      const stop = (): void => { stopping = true; void watching.close() }
      process.once('SIGINT', stop)
      process.once('SIGTERM', stop)
      if (ended) void watching.close()
      await watching.closed
      if (resume !== undefined && !ended) process.stderr.write(`cursor: ${resume}\n(resume with: chorus watch --since ${resume})\n`)
      if (!stopping && !ended) {
        process.stderr.write('watch: the node closed the connection\n')
        process.exitCode = 1
      }
    })

  return [
    get, put, del, scan, conflicts, incr, count,
    setCmd('sadd', 'add members to a set; prints the members', 'setAdd'),
    setCmd('srem', 'remove members from a set; prints the members', 'setRemove'),
    smembers, status, peers, sync, watch
  ]
}
