/**
 * `chorus keygen`: a new libp2p private-network pre-shared key, as text.
 */
import { existsSync, writeFileSync } from 'node:fs'
import { Command, Option } from 'commander'
import { UsageError } from './options.js'

/** The key as text: `/key/swarm/psk/1.0.0/`, `/base16/`, 64 hex digits. */
export async function newClusterKey (): Promise<string> {
  // Loaded on demand: libp2p's crypto is heavy and the other commands do not need it.
  const { generateKey } = await import('@libp2p/pnet')
  const bytes = new Uint8Array(95)
  generateKey(bytes)
  return new TextDecoder().decode(bytes)
}

export function keygenCommand (): Command {
  return new Command('keygen')
    .description('print a new cluster key (libp2p private-network pre-shared key); save it and pass it to every node with --cluster-key FILE')
    .addOption(new Option('--out <file>', 'write the key to FILE (mode 0600) instead of stdout'))
    .action(async (opts: { out?: string }) => {
      const key = (await newClusterKey()) + '\n'
      if (opts.out === undefined) {
        process.stdout.write(key)
        return
      }
      if (existsSync(opts.out)) throw new UsageError(`--out ${opts.out}: the file exists; a cluster key is never overwritten (every node holding the old one would be cut off). Remove it first, or pick another path`)
      writeFileSync(opts.out, key, { mode: 0o600, flag: 'wx' })
    })
}
