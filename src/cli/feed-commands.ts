/**
 * The change feed on the command line (docs/cli.md): `chorus changes` lists what changed after
 * a cursor, and `chorus watch --since` resumes a watch. Both print the cursor to resume from.
 */
import { Option, type Command } from 'commander'
import type { ChangeEntry, ChangesResult } from '../node/api.js'
import { clientCommand, connect, json, out } from './client-commands.js'
import { formatChange, withResumeCursor } from './feed-format.js'
import { intIn } from './options.js'
import { MAX_FEED_LIMIT } from '../constants.js'

export function changesCommand (): Command {
  return clientCommand('changes', 'list the changes applied on the node after a cursor, in the order applied ("seq<TAB>origin<TAB>space<TAB>key"), following pages until caught up; prints the cursor to resume from (stderr, or in --json)')
    .addOption(new Option('--since <cursor>', 'the cursor a previous run printed (default: from the oldest change the node keeps)'))
    .addOption(new Option('--prefix <prefix>', 'only keys starting with this (the cursor still moves past the others)'))
    .addOption(new Option('--limit <n>', 'stop after this many changes (default: all until caught up)').argParser(intIn(1, Number.MAX_SAFE_INTEGER)))
    .action(async (_o: unknown, cmd: Command) => {
      const { client, opts } = connect(cmd)
      const max = typeof opts.limit === 'number' ? opts.limit : Infinity
      const all: ChangeEntry[] = []
      let cursor = typeof opts.since === 'string' ? opts.since : undefined
      let page: ChangesResult
      try {
        do {
          const limit = Math.min(MAX_FEED_LIMIT, max - all.length)
          page = await client.changes({ ...(cursor !== undefined ? { since: cursor } : {}), ...(typeof opts.prefix === 'string' ? { prefix: opts.prefix } : {}), limit })
          // A page that examined entries but returned none (all filtered) still moves the cursor.
          const moved = page.cursor !== cursor
          cursor = page.cursor
          if (opts.json === true) all.push(...page.changes)
          else for (const c of page.changes) { out(formatChange(c)); all.push(c) }
          if (!moved) break
        } while (all.length < max)
      } catch (err) {
        throw withResumeCursor(err)
      }
      if (opts.json === true) json({ changes: all, cursor })
      else process.stderr.write(`cursor: ${cursor ?? ''}\n(resume with: chorus changes --since ${cursor ?? ''})\n`)
    })
}
