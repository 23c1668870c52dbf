/**
 * `chorus map …`: read and edit maps (docs/api.md, "Maps"). FIELD is a path: `address.city` is
 * the field `city` of the nested map `address` (a name holding a dot needs `map update` and
 * JSON ops). Each subcommand takes the client flags (--url, --token, --json) after it.
 */
import { Command, Option } from 'commander'
import type { MapGetResult, MapUpdateOp } from '../node/api.js'
import { clientCommand, connect, json, out, parseValueArg } from './client-commands.js'
import { formatValue } from './format.js'
import { intIn, UsageError } from './options.js'

const FIELD_TYPES = ['register', 'counter', 'set', 'map'] as const

/** The op for the field at `path` (`a.b.c`): wrapped in an `update` per nested map. */
export function opAtPath (path: string, leaf: (field: string) => MapUpdateOp): MapUpdateOp {
  const names = path.split('.')
  if (names.some(n => n === '')) throw new UsageError(`FIELD: "${path}" has an empty name (write a.b.c; names holding a dot need chorus map update)`)
  let op = leaf(names.at(-1) as string)
  for (const name of names.slice(0, -1).reverse()) op = { op: 'update', field: name, ops: [op] }
  return op
}

function integerArg (text: string): number {
  try {
    return intIn(Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER)(text)
  } catch (err) {
    throw new UsageError(`BY: ${(err as Error).message}`)
  }
}

function contextOf (opts: Record<string, unknown>): string | undefined {
  return typeof opts.context === 'string' ? opts.context : undefined
}

const contextOption = (): Option => new Option('--context <context>', 'supersede exactly what this context (from map get --json) covers')

function warnConflicts (key: string, r: { conflict: boolean }): void {
  if (r.conflict) process.stderr.write(`${key}: conflict — a register field has concurrent versions (see map get --all); write with --context to resolve\n`)
}

/** Runs one map.update and prints its context (or the result with --json). */
function updateCommand (name: string, description: string, args: string[], build: (values: unknown[]) => MapUpdateOp[]): Command {
  const cmd = clientCommand(name, description).argument('<key>')
  for (const a of args) cmd.argument(a)
  return cmd.addOption(contextOption()).action(async (key: string, ...rest: unknown[]) => {
    const command = rest.at(-1) as Command
    const { client, opts } = connect(command)
    const r = await client.mapUpdate(key, build(rest.slice(0, -2)), contextOf(opts))
    if (opts.json === true) json(r)
    else out(r.context)
    if (opts.json !== true) warnConflicts(key, r)
  })
}

function printMap (key: string, r: MapGetResult): void {
  if (r.fields !== undefined) {
    for (const f of r.fields) {
      const path = f.path.join('.')
      if (f.values !== undefined) for (const v of f.values) out(`${path}\t${f.type}\t${formatValue(v.value)}\t${v.node}\t${v.hlc}`)
      else out(`${path}\t${f.type}\t${formatValue(f.value)}`)
    }
  } else {
    out(formatValue(r.value))
  }
  if (r.mixed !== undefined) process.stderr.write(`${key}: ${r.mixed.map(p => p.join('.')).join(', ')} hold fields of several types; see --all\n`)
  warnConflicts(key, r)
}

function getCommand (): Command {
  return clientCommand('get', 'read a map: prints its fields as one JSON object (exit 1 when it has none)')
    .argument('<key>')
    .option('--all', 'one line per field: path, type, value (registers: one line per concurrent version, with node and HLC time)')
    .addOption(new Option('--after <context>', 'wait until this node has seen the write that returned this context'))
    .action(async (key: string, _o: unknown, cmd: Command) => {
      const { client, opts } = connect(cmd)
      const r = await client.mapGet(key, { ...(opts.all === true ? { all: true } : {}), ...(typeof opts.after === 'string' ? { after: opts.after } : {}) })
      if (opts.json === true) json(r)
      else if (r.found) printMap(key, r)
      else process.stderr.write(`${key}: not found\n`)
      if (!r.found) process.exitCode = 1
    })
}

function delCommand (): Command {
  return clientCommand('del', 'remove one field (with FIELD) or every field of a map; concurrent updates elsewhere survive; prints the new context')
    .argument('<key>')
    .argument('[field]', 'the field\'s path; none: the whole map')
    .addOption(new Option('--type <type>', 'the field\'s type').choices([...FIELD_TYPES]).default('register'))
    .addOption(contextOption())
    .action(async (key: string, field: string | undefined, _o: unknown, cmd: Command) => {
      const { client, opts } = connect(cmd)
      const type = opts.type as typeof FIELD_TYPES[number]
      const r = field === undefined
        ? await client.mapDelete(key, contextOf(opts))
        : await client.mapUpdate(key, [opAtPath(field, f => ({ op: 'delete', field: f, type }))], contextOf(opts))
      if (opts.json === true) json(r)
      else out(r.context)
    })
}

function rawUpdateCommand (): Command {
  return updateCommand('update', 'apply JSON ops atomically (docs/api.md, "Maps"); prints the new context', ['<ops>'], ([ops]) => {
    const parsed = parseValueArg(ops as string)
    if (!Array.isArray(parsed)) throw new UsageError('OPS: must be a JSON array of operations, e.g. \'[{"op":"set","field":"title","value":"x"}]\'')
    return parsed as MapUpdateOp[]
  })
}

function scanCommand (): Command {
  return clientCommand('scan', 'list maps in key order ("key<TAB>{fields}"), following cursors; emptied maps are absent')
    .addOption(new Option('--prefix <prefix>', 'only keys starting with this'))
    .addOption(new Option('--limit <n>', 'stop after this many maps (default: all)').argParser(intIn(1, Number.MAX_SAFE_INTEGER)))
    .action(async (_o: unknown, cmd: Command) => {
      const { client, opts } = connect(cmd)
      const max = typeof opts.limit === 'number' ? opts.limit : Number.MAX_SAFE_INTEGER
      const items = []
      let cursor: string | undefined
      do {
        const page = await client.mapScan({ ...(typeof opts.prefix === 'string' ? { prefix: opts.prefix } : {}), limit: Math.min(1000, max - items.length), ...(cursor !== undefined ? { cursor } : {}) })
        items.push(...page.items)
        cursor = items.length >= max ? undefined : page.cursor
      } while (cursor !== undefined)
      if (opts.json === true) json(items)
      else for (const i of items) out(`${i.key}\t${formatValue(i.value)}${i.conflict ? '\t(conflict)' : ''}`)
    })
}

const EXAMPLES = `
Examples:
  chorus map set user/1 name Ada                  # a register field (VALUE: JSON, or a plain string)
  chorus map set user/1 address.city '"Oslo"'     # a field of the nested map "address"
  chorus map incr user/1 logins                   # a counter field (BY defaults to 1, may be negative)
  chorus map add user/1 roles admin dev           # a set field
  chorus map remove user/1 roles dev
  chorus map get user/1                           # {"address":{"city":"Oslo"},"logins":1,"name":"Ada","roles":["admin"]}
  chorus map get user/1 --all                     # one line per field (and per concurrent version)
  chorus map del user/1 logins --type counter     # remove one field; chorus map del user/1 removes them all
  chorus map update user/1 '[{"op":"set","field":"name","value":"Ada L."},{"op":"incr","field":"logins"}]'
  chorus map scan --prefix user/ --json

Fields are merged one by one: concurrent edits of different fields all survive, concurrent
writes of one register field become siblings (resolve with --context from map get --json),
and a field removed while another node updates it keeps that update.`

/** The examples at the end of each subcommand's --help. */
const SUB_EXAMPLES: Readonly<Record<string, string[]>> = {
  get: ['chorus map get user/1', 'chorus map get user/1 --all', 'chorus map get user/1 --json        # found, value, conflict, conflicts, context'],
  set: ['chorus map set user/1 name Ada', 'chorus map set user/1 address.city \'"Oslo"\'', 'chorus map set user/1 name \'"Ada L."\' --context <context from map get --json>'],
  incr: ['chorus map incr user/1 logins', 'chorus map incr shop/1 stats.stock -3'],
  add: ['chorus map add user/1 roles admin dev'],
  remove: ['chorus map remove user/1 roles dev'],
  del: ['chorus map del user/1 nickname                  # a register field', 'chorus map del user/1 address --type map', 'chorus map del user/1                           # every field'],
  update: ['chorus map update user/1 \'[{"op":"set","field":"name","value":"Ada"},{"op":"delete","field":"old","type":"set"}]\''],
  scan: ['chorus map scan --prefix user/', 'chorus map scan --json --limit 10']
}

export function mapCommand (): Command {
  const map = new Command('map')
    .description('maps: documents of named fields (registers, counters, sets, nested maps) merged field by field')
    .addHelpText('after', EXAMPLES)
  const subcommands = [
    getCommand(),
    updateCommand('set', 'write a register field; VALUE is JSON, or a plain string; prints the new context', ['<field>', '<value>'],
      ([field, value]) => [opAtPath(field as string, f => ({ op: 'set', field: f, value: parseValueArg(value as string) }))]),
    updateCommand('incr', 'add BY (default 1, may be negative) to a counter field; prints the new context', ['<field>', '[by]'],
      ([field, by]) => [opAtPath(field as string, f => ({ op: 'incr', field: f, ...(by !== undefined ? { by: integerArg(by as string) } : {}) }))]),
    updateCommand('add', 'add members to a set field; prints the new context', ['<field>', '<members...>'],
      ([field, members]) => [opAtPath(field as string, f => ({ op: 'add', field: f, members: members as string[] }))]),
    updateCommand('remove', 'remove members from a set field; prints the new context', ['<field>', '<members...>'],
      ([field, members]) => [opAtPath(field as string, f => ({ op: 'remove', field: f, members: members as string[] }))]),
    delCommand(),
    rawUpdateCommand(),
    scanCommand()
  ]
  for (const sub of subcommands) {
    const examples = SUB_EXAMPLES[sub.name()] ?? []
    sub.addHelpText('after', `\nExamples:\n${examples.map(e => `  ${e}`).join('\n')}`)
    // As buildProgram does for top-level commands: main() picks the exit code.
    sub.exitOverride()
    map.addCommand(sub)
  }
  return map
}
