/**
 * `chorus cluster --nodes N`: N local nodes, each a separate `chorus start` process on
 * 127.0.0.1, node i bootstrapping to every earlier node. Ctrl-C/SIGTERM stops them all and
 * removes the temporary data directories.
 */
import { spawn } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { Command, Option } from 'commander'
import { NODE_DEFAULTS } from '../config.js'
import { UsageError, configOption, intIn, nonEmpty, resolveOptions } from './options.js'
import { LOG_LEVELS, START_LIMITS } from '../start/index.js'
import type { ChildProcess } from 'node:child_process'

/** bin/chorus, from dist/cli/cluster.js or src/cli/cluster.ts alike. */
export const CHORUS_BIN = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', 'bin', 'chorus')
const READY_TIMEOUT_MS = 60_000
const STOP_TIMEOUT_MS = 20_000

interface ClusterOptions {
  nodes: number
  data?: string
  basePort?: number
  clusterKey?: string
  clusterName?: string
  rpcToken?: string
  aeInterval?: number
  fsync: boolean
  logLevel: string
}

interface Child {
  name: string
  proc: ChildProcess
  exited: Promise<number | null>
  url?: string
  listen?: string
}

const READY_LINE = /^ready (\S+) peer=(\S+) listen=(\S*)/

function waitReady (child: Child): Promise<{ url: string, peer: string, listen: string }> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => { reject(new Error(`${child.name} was not ready within ${READY_TIMEOUT_MS} ms`)) }, READY_TIMEOUT_MS)
    const rl = createInterface({ input: child.proc.stdout! })
    rl.on('line', (line) => {
      const m = READY_LINE.exec(line)
      if (m !== null) {
        clearTimeout(timer)
        resolve({ url: m[1] ?? '', peer: m[2] ?? '', listen: m[3] ?? '' })
      }
    })
    void child.exited.then((code) => {
      clearTimeout(timer)
      reject(new Error(`${child.name} exited with code ${String(code)} before it was ready`))
    })
  })
}

export function clusterCommand (): Command {
  return new Command('cluster')
    .description('run N local nodes as separate processes (127.0.0.1, mDNS off, each bootstrapping to the earlier ones); prints each RPC URL, then "ready"; Ctrl-C stops all')
    .addOption(configOption())
    .addOption(new Option('--nodes <n>', 'how many nodes').env('CHORUS_NODES').default(3).argParser(intIn(1, 64)))
    .addOption(new Option('--data <dir>', 'keep data in DIR/node-1 … DIR/node-N (default: temporary directories, removed at exit)').env('CHORUS_DATA').argParser(nonEmpty('--data')))
    .addOption(new Option('--base-port <port>', 'node i uses RPC port P+2(i-1) and libp2p port P+2(i-1)+1 (default: free ports)').env('CHORUS_BASE_PORT').argParser(intIn(1, 65535)))
    .addOption(new Option('--cluster-key <file>', 'passed to every node').env('CHORUS_CLUSTER_KEY'))
    .addOption(new Option('--cluster-name <name>', 'passed to every node').env('CHORUS_CLUSTER_NAME'))
    .addOption(new Option('--rpc-token <token>', 'passed to every node').env('CHORUS_RPC_TOKEN'))
    .addOption(new Option('--ae-interval <ms>', 'passed to every node').env('CHORUS_AE_INTERVAL').argParser(intIn(START_LIMITS.aeInterval.min, START_LIMITS.aeInterval.max)))
    .addOption(new Option('--fsync', 'passed to every node (env: true/false)').env('CHORUS_FSYNC').default(NODE_DEFAULTS.fsync))
    .addOption(new Option('--log-level <level>', 'the nodes\' log level (their JSON logs go to this stderr)').env('CHORUS_LOG_LEVEL').default('warn').choices(LOG_LEVELS))
    .action(async (_o: unknown, cmd: Command) => {
      const opts = resolveOptions<ClusterOptions>(cmd)
      if (opts.basePort !== undefined && opts.basePort + 2 * opts.nodes - 1 > 65535) {
        throw new UsageError(`--base-port ${opts.basePort}: ${opts.nodes} nodes need ports up to ${opts.basePort + 2 * opts.nodes - 1}`)
      }
      await runCluster(opts)
    })
}

async function runCluster (opts: ClusterOptions): Promise<void> {
  const tempRoot = opts.data === undefined ? mkdtempSync(join(tmpdir(), 'chorus-cluster-')) : undefined
  const root = opts.data ?? tempRoot!
  const children: Child[] = []
  let stopping: Promise<void> | undefined

  const stopAll = async (): Promise<boolean> => {
    for (const c of children) if (c.proc.exitCode === null && c.proc.signalCode === null) c.proc.kill('SIGTERM')
    const codes = await Promise.all(children.map(async c => {
      const timer = setTimeout(() => { c.proc.kill('SIGKILL') }, STOP_TIMEOUT_MS)
      const code = await c.exited
      clearTimeout(timer)
      return code
    }))
    if (tempRoot !== undefined) rmSync(tempRoot, { recursive: true, force: true })
    return codes.every(code => code === 0)
  }
  const onSignal = (): void => {
    stopping ??= stopAll().then(ok => { process.exit(ok ? 0 : 1) }, () => { process.exit(1) })
  }
  process.on('SIGINT', onSignal)
  process.on('SIGTERM', onSignal)

  // Children get explicit flags only: CHORUS_* variables meant for this command must not leak.
  const env: NodeJS.ProcessEnv = {}
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('CHORUS_')) env[k] = v

  const earlier: string[] = []
  process.stdout.write(`data ${root}${tempRoot !== undefined ? ' (temporary, removed at exit)' : ''}\n`)
  try {
    for (let i = 1; i <= opts.nodes; i++) {
      if (stopping !== undefined) return
      const dir = join(root, `node-${i}`)
      mkdirSync(dir, { recursive: true })
      const rpcPort = opts.basePort === undefined ? 0 : opts.basePort + 2 * (i - 1)
      const p2pPort = opts.basePort === undefined ? 0 : opts.basePort + 2 * (i - 1) + 1
      const args = [
        CHORUS_BIN, 'start',
        '--data', dir,
        '--rpc', `127.0.0.1:${rpcPort}`,
        '--listen', `/ip4/127.0.0.1/tcp/${p2pPort}`,
        '--no-mdns',
        '--exit-with-stdin',
        '--log-level', opts.logLevel,
        ...earlier.flatMap(a => ['--bootstrap', a]),
        ...(opts.clusterKey !== undefined ? ['--cluster-key', opts.clusterKey] : []),
        ...(opts.clusterName !== undefined ? ['--cluster-name', opts.clusterName] : []),
        ...(opts.rpcToken !== undefined ? ['--rpc-token', opts.rpcToken] : []),
        ...(opts.aeInterval !== undefined ? ['--ae-interval', String(opts.aeInterval)] : []),
        ...(opts.fsync ? ['--fsync'] : [])
      ]
      // A process group of its own: Ctrl-C on the terminal signals only this command, which then
      // stops every node once, in order (a node signalled twice exits at once, with code 1).
      // If this command dies instead, each node sees its stdin close and stops (--exit-with-stdin).
      const proc = spawn(process.execPath, args, { env, stdio: ['pipe', 'pipe', 'inherit'], detached: true })
      const name = `node-${i}`
      const exited = new Promise<number | null>(resolve => { proc.once('exit', (code) => { resolve(code) }) })
      const child: Child = { name, proc, exited }
      children.push(child)
      const ready = await waitReady(child)
      child.url = ready.url
      child.listen = ready.listen
      if (ready.listen !== '') earlier.push(ready.listen)
      process.stdout.write(`${name} ${ready.url} peer=${ready.peer} listen=${ready.listen}\n`)
      void exited.then(code => {
        if (stopping === undefined) process.stderr.write(`chorus cluster: ${name} exited unexpectedly with code ${String(code)}\n`)
      })
    }
  } catch (err) {
    process.stderr.write(`chorus cluster: ${(err as Error).message}; stopping\n`)
    stopping ??= stopAll().then(() => { process.exit(1) }, () => { process.exit(1) })
    return
  }
  process.stdout.write(`ready ${children.map(c => c.url ?? '').join(' ')}\n`)
  // Stay alive until a signal; exit 1 if every node dies on its own.
  await Promise.all(children.map(async c => await c.exited))
  if (stopping === undefined) {
    if (tempRoot !== undefined) rmSync(tempRoot, { recursive: true, force: true })
    process.stderr.write('chorus cluster: every node has exited\n')
    process.exit(1)
  }
}
