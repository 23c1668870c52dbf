/**
 * Membership commands: `chorus members` (who tombstone GC waits for), `chorus members remove
 * ID` (forget a dead node for good) and `chorus connect ADDR` (add a peer at run time).
 */
import { createInterface } from 'node:readline/promises'
import { Command, Option } from 'commander'
import type { MemberInfo } from '../node/api.js'
import { formatAge } from '../util/format-age.js'
import { clientCommand, connect, json, out } from './client-commands.js'

function ago (ms: number): string {
  return ms < 0 ? 'never' : `${formatAge(ms)} ago`
}

export function formatMembers (members: MemberInfo[]): string {
  if (members.length === 0) return '(no members: tombstone collection waits for nobody)'
  const rows = members.map(m => [
    m.peerId,
    m.connected ? 'connected' : 'disconnected',
    m.connected ? 'now' : ago(m.lastSeenMs),
    ago(m.lastSyncMs),
    m.holdsGc ? 'holds GC back' : '-'
  ])
  const header = ['PEER', 'CONNECTION', 'LAST SEEN', 'LAST SYNC', 'GC']
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map(r => (r[i] ?? '').length)))
  const line = (r: string[]): string => r.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ').trimEnd()
  return [line(header), ...rows.map(line)].join('\n')
}

/** Asks on the terminal; anything but y/yes is no. */
async function confirm (question: string): Promise<boolean> {
  const rl = createInterface({ input: process.stdin, output: process.stderr })
  try {
    const answer = await rl.question(`${question} [y/N] `)
    return /^y(es)?$/i.test(answer.trim())
  } finally {
    rl.close()
  }
}

/**
 * `chorus members --url U remove ID`: options given on the command line before the subcommand
 * belong to `members`; the subcommand takes them unless it was given its own.
 */
function inheritFromParent (cmd: Command): void {
  const parent = cmd.parent
  if (parent === null) return
  for (const option of parent.options) {
    const key = option.attributeName()
    if (parent.getOptionValueSource(key) === 'cli' && cmd.getOptionValueSource(key) !== 'cli') {
      cmd.setOptionValueWithSource(key, parent.getOptionValue(key), 'cli')
    }
  }
}

function removeCommand (): Command {
  return clientCommand('remove', 'forget a member for good: tombstone collection stops waiting for it, and its peer id is refused from now on (run it on every node)')
    .argument('<peerId>', 'the member\'s peer id (chorus members lists them)')
    .addOption(new Option('-y, --yes', 'do not ask for confirmation'))
    .addHelpText('after', `
Examples:
  chorus members remove 12D3KooWDead… --url http://127.0.0.1:7070
  # in a script (no question asked without a terminal either)
  chorus members remove 12D3KooWDead… --yes --json

The removed machine can rejoin only after a reset: stop it, move its data directory aside
and start it with an empty --data (it gets a new peer id).`)
    .action(async (peerId: string, _o: unknown, cmd: Command) => {
      inheritFromParent(cmd)
      const { client, opts } = connect(cmd)
      if (opts.yes !== true && process.stdin.isTTY && process.stderr.isTTY) {
        const ok = await confirm(`Remove ${peerId}? Tombstone collection will stop waiting for it, and this node will refuse it from now on.`)
        if (!ok) {
          process.stderr.write('not removed\n')
          process.exitCode = 1
          return
        }
      }
      const r = await client.forget(peerId)
      if (opts.json === true) { json(r); return }
      out(`removed ${r.peerId}: ${r.wasMember ? 'tombstone collection no longer waits for it' : 'it was not a member'}${r.disconnected ? '; disconnected' : ''}; refused from now on (reset that node, an empty --data, before it rejoins)`)
    })
}

export function membersCommand (): Command {
  const members = clientCommand('members', 'the cluster members tombstone collection waits for: last seen, last complete sync, whether each holds collection back')
    .addHelpText('after', `
Examples:
  chorus members
  chorus members --json --url http://127.0.0.1:7070
  chorus members remove 12D3KooWDead…     # a dead or rebuilt node that holds GC back

LAST SYNC is when the last complete anti-entropy exchange with the member started. A member
"holds GC back" when, at the last collection sweep (once a minute), a deleted key old enough
to collect was kept because that member had not synced since the delete: it stays stored as a
tombstone until the member syncs again, is removed, or stays away longer than --member-ttl.`)
    .action(async (_o: unknown, cmd: Command) => {
      const { client, opts } = connect(cmd)
      const list = await client.members()
      if (opts.json === true) json(list)
      else out(formatMembers(list))
    })
  const remove = removeCommand()
  // As buildProgram does for top-level commands: main() picks the exit code.
  remove.exitOverride()
  // Options after `remove` are remove's own (--url, --yes), not the listing's.
  members.enablePositionalOptions()
  members.addCommand(remove)
  return members
}

export function connectCommand (): Command {
  return clientCommand('connect', 'connect the node to a peer now, and keep redialling it when lost until the node stops')
    .argument('<addr>', 'the peer\'s multiaddr, ending in /p2p/PEER_ID (chorus status on that node prints it)')
    .addHelpText('after', `
Examples:
  chorus connect /ip4/127.0.0.1/tcp/7073/p2p/12D3KooW…
  chorus connect /ip4/10.0.0.2/tcp/7071/p2p/12D3KooW… --url http://127.0.0.1:7070 --json

A node without a cluster key dials this host only (127.0.0.1, ::1, localhost).`)
    .action(async (addr: string, _o: unknown, cmd: Command) => {
      const { client, opts } = connect(cmd)
      const r = await client.connect(addr)
      if (opts.json === true) json(r)
      else out(`${r.connected ? 'connected to' : 'dialled, not connected:'} ${r.peerId} (${r.addr})`)
    })
}
