/**
 * `chorus init [DIR]`: everything a node needs to join a cluster across machines — a new
 * cluster key (mode 0600) and a config file that uses it — so that the secure way is also the
 * short way (docs/security.md).
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { Command, Option } from 'commander'
import { NODE_DEFAULTS } from '../config.js'
import { newClusterKey } from './keygen.js'
import { UsageError, clusterName } from './options.js'
import { readClusterKey } from './start.js'

export const KEY_FILE = 'cluster.key'
export const CONFIG_FILE = 'chorus.json'

interface InitOptions {
  clusterName?: string
  clusterKey?: string
}

export function initCommand (): Command {
  return new Command('init')
    .description('write a new cluster key (DIR/cluster.key, mode 0600) and a config that uses it (DIR/chorus.json); copy the key to every machine of the cluster')
    .argument('[dir]', 'where to write them', '.')
    .addOption(new Option('--cluster-name <name>', 'written into chorus.json (letters, digits, . _ -)').argParser(clusterName))
    .addOption(new Option('--cluster-key <file>', 'use this existing key (another machine\'s cluster.key) instead of a new one'))
    .addHelpText('after', `
Examples:
  # first machine: a new key and config in ./chorus
  chorus init chorus
  chorus start --config chorus/chorus.json

  # every other machine: the same key, copied over (scp, a secret store, ...)
  chorus init chorus --cluster-key /path/to/copied/cluster.key
  chorus start --config chorus/chorus.json --bootstrap /ip4/10.0.0.1/tcp/7071/p2p/<first node's peer id>`)
    .action(async (dir: string, opts: InitOptions) => {
      await runInit(dir, opts)
    })
}

async function runInit (dir: string, opts: InitOptions): Promise<void> {
  const keyPath = join(dir, KEY_FILE)
  const configPath = join(dir, CONFIG_FILE)
  for (const path of [keyPath, configPath]) {
    if (existsSync(path)) throw new UsageError(`${path} already exists: chorus init never overwrites a key or a config (remove it first, or pick another DIR)`)
  }
  mkdirSync(dir, { recursive: true })
  const key = opts.clusterKey === undefined ? (await newClusterKey()) + '\n' : readKeyToCopy(opts.clusterKey)
  writeFileSync(keyPath, key, { mode: 0o600, flag: 'wx' })
  const config = {
    data: 'chorus-data',
    clusterKey: KEY_FILE,
    listen: [...NODE_DEFAULTS.listen],
    ...(opts.clusterName !== undefined ? { clusterName: opts.clusterName } : {})
  }
  writeFileSync(configPath, JSON.stringify(config, null, 2) + '\n', { flag: 'wx' })
  process.stdout.write([
    `wrote ${resolve(keyPath)} (the cluster key: keep it secret, copy it to every machine of the cluster)`,
    `wrote ${resolve(configPath)}`,
    `start a node with: chorus start --config ${configPath}`,
    ''
  ].join('\n'))
}

function readKeyToCopy (file: string): string {
  // The same check `chorus start` makes, so a wrong file fails here and not on every machine.
  return new TextDecoder().decode(readClusterKey(file))
}
