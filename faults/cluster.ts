/**
 * The `bin/chorus start` processes, one per node namespace, and what the faults do to them:
 * kill -9, graceful stop, SIGSTOP/SIGCONT, restart on the same data dir. Each node gets a
 * pre-made identity (DATA/peer.key, the format src/node/identity.ts reads), so every node's
 * bootstrap list — all the other nodes' multiaddrs with /p2p/<peer id> — is known before any
 * node starts. Every node runs under libfaketime (see clock.ts).
 *
 * A node that exits without the harness asking (a crash, e.g. on a full disk) is recorded
 * as an event; the next heal restarts it.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { createWriteStream, type WriteStream } from 'node:fs'
import { mkdir, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { generateKeyPair, privateKeyToProtobuf } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { generateKey } from '@libp2p/pnet'
import { AgentClient } from './agent-client.js'
import { faketimeEnv, setClockOffset } from './clock.js'
import type { NodeNet } from './netns.js'

export const CHORUS_BIN = fileURLToPath(new URL('../bin/chorus', import.meta.url))
const RPC_ADDR = '127.0.0.1:7070'
const P2P_PORT = 7071
const READY_TIMEOUT_MS = 60_000

export type NodeState = 'down' | 'up' | 'paused'

export interface ClusterEvent { t: number, node: number, what: string, detail?: unknown }

export interface ClusterOptions { fsync: boolean, logLevel: string, logDir: string, onEvent: (e: ClusterEvent) => void }
/** What every node of one trial shares besides the options: the cluster key (nodes on 10.x need one). */
interface NodeOptions extends ClusterOptions { clusterKeyFile: string }

export class ChorusNode {
  state: NodeState = 'down'
  clockOffsetSec = 0
  private child: ChildProcess | undefined
  private exited: Promise<void> = Promise.resolve()
  private expectingExit = false
  private starts = 0
  readonly agent: AgentClient

  constructor (
    readonly net: NodeNet,
    /** Changes when the node's data directory is wiped (a new identity: see wipe()). */
    public peerId: string,
    readonly mountDir: string,
    readonly clockFile: string,
    private readonly bootstrap: () => string[],
    private readonly opts: NodeOptions,
    private readonly log: WriteStream
  ) {
    this.agent = new AgentClient(net.ns, RPC_ADDR)
  }

  get index (): number { return this.net.index }
  get dataDir (): string { return join(this.mountDir, 'data') }
  get multiaddr (): string { return `/ip4/${this.net.ip}/tcp/${P2P_PORT}/p2p/${this.peerId}` }
  get pid (): number | undefined { return this.child?.pid }

  /**
   * The `wipe` fault, on a node that is down: its whole data directory is deleted and it gets a
   * NEW identity — reusing one whose counters were lost would reuse its dots. Returns the new
   * peer id (the others' bootstrap lists follow it).
   */
  async wipe (): Promise<string> {
    if (this.state !== 'down') throw new Error(`node ${this.index} is ${this.state}, not down`)
    await rm(this.dataDir, { recursive: true, force: true })
    this.peerId = await writeIdentity(this.dataDir)
    return this.peerId
  }

  /** Starts the node and waits for its `ready` line (its RPC then answers). */
  async start (): Promise<void> {
    if (this.state !== 'down') throw new Error(`node ${this.index} is ${this.state}, not down`)
    const args = [
      'netns', 'exec', this.net.ns, 'env', ...Object.entries(faketimeEnv(this.clockFile)).map(([k, v]) => `${k}=${v}`),
      process.execPath, CHORUS_BIN, 'start', '--data', this.dataDir, '--rpc', RPC_ADDR,
      '--listen', `/ip4/${this.net.ip}/tcp/${P2P_PORT}`, '--no-mdns', '--log-level', this.opts.logLevel,
      '--cluster-key', this.opts.clusterKeyFile,
      ...this.bootstrap().flatMap(b => ['--bootstrap', b]),
      ...(this.opts.fsync ? ['--fsync'] : [])
    ]
    // `ip netns exec` and `env` both exec, so the pid we hold is the node's own: signals reach it.
    const child = spawn('ip', args, { stdio: ['ignore', 'pipe', 'pipe'] })
    this.child = child
    this.expectingExit = false
    this.starts++
    this.log.write(`--- start #${this.starts} at ${new Date().toISOString()} clock ${this.clockOffsetSec}s pid ${child.pid}\n`)
    child.stderr?.pipe(this.log, { end: false })
    this.exited = new Promise(resolve => {
      child.on('exit', (code, signal) => {
        if (this.child === child) {
          if (!this.expectingExit) this.opts.onEvent({ t: Date.now(), node: this.index, what: 'unexpected-exit', detail: { code, signal } })
          this.state = 'down'
        }
        resolve()
      })
    })
    await new Promise<void>((resolve, reject) => {
      let out = ''
      const timer = setTimeout(() => { reject(new Error(`node ${this.index}: no ready line in ${READY_TIMEOUT_MS} ms`)) }, READY_TIMEOUT_MS)
      child.stdout?.on('data', (d: Buffer) => {
        out += d.toString()
        if (out.includes('ready ')) { clearTimeout(timer); resolve() }
      })
      child.on('exit', (code, signal) => { clearTimeout(timer); reject(new Error(`node ${this.index} exited (${code ?? signal}) before ready`)) })
    })
    this.state = 'up'
  }

  async kill9 (): Promise<void> {
    if (this.child === undefined || this.state === 'down') return
    this.expectingExit = true
    this.child.kill('SIGKILL')
    await this.exited
    this.state = 'down'
  }

  /** SIGTERM (a paused node is continued first, or it could not act on it); SIGKILL after 15 s. */
  async stop (): Promise<void> {
    if (this.child === undefined || this.state === 'down') return
    this.expectingExit = true
    if (this.state === 'paused') this.child.kill('SIGCONT')
    this.child.kill('SIGTERM')
    const t = setTimeout(() => { this.child?.kill('SIGKILL') }, 15_000)
    await this.exited
    clearTimeout(t)
    this.state = 'down'
  }

  pause (): void {
    if (this.state !== 'up') return
    this.child?.kill('SIGSTOP')
    this.state = 'paused'
  }

  resume (): void {
    if (this.state !== 'paused') return
    this.child?.kill('SIGCONT')
    this.state = 'up'
  }

  async setClock (offsetSec: number): Promise<void> {
    this.clockOffsetSec = offsetSec
    await setClockOffset(this.clockFile, offsetSec)
  }

  /** Sync, for exit and signal handlers. */
  killNow (): void {
    this.expectingExit = true
    try { this.child?.kill('SIGCONT'); this.child?.kill('SIGKILL') } catch {}
  }

  close (): void { this.agent.close(); this.log.end() }
}

export class Cluster {
  readonly nodes: ChorusNode[] = []

  private constructor (private readonly opts: ClusterOptions) {}

  /** Data dirs, identities and clock files; no process is started yet. */
  static async create (nets: NodeNet[], mountDirs: string[], clockDir: string, opts: ClusterOptions): Promise<Cluster> {
    const cluster = new Cluster(opts)
    await mkdir(opts.logDir, { recursive: true })
    const clusterKeyFile = join(opts.logDir, 'cluster.key')
    const psk = new Uint8Array(95)
    generateKey(psk)
    await writeFile(clusterKeyFile, psk, { mode: 0o600 })
    const nodeOpts: NodeOptions = { ...opts, clusterKeyFile }
    for (const [i, net] of nets.entries()) {
      const mountDir = mountDirs[i] as string
      const peerId = await writeIdentity(join(mountDir, 'data'))
      const clockFile = join(clockDir, `clock-${net.index}`)
      await setClockOffset(clockFile, 0)
      const log = createWriteStream(join(opts.logDir, `node-${net.index}.stderr.log`))
      cluster.nodes.push(new ChorusNode(net, peerId, mountDir, clockFile, () => cluster.bootstrapFor(net.index), nodeOpts, log))
    }
    return cluster
  }

  node (index: number): ChorusNode {
    const n = this.nodes[index - 1]
    if (n === undefined) throw new Error(`no node ${index}`)
    return n
  }

  private bootstrapFor (index: number): string[] {
    return this.nodes.filter(n => n.index !== index).map(n => n.multiaddr)
  }

  async startAll (): Promise<void> { await Promise.all(this.nodes.map(async n => { await n.start() })) }

  killAllNow (): void { for (const n of this.nodes) n.killNow() }

  async stopAll (): Promise<void> {
    await Promise.all(this.nodes.map(async n => { await n.stop() }))
    for (const n of this.nodes) n.close()
  }
}

/** A new data directory holding only a new identity; its peer id. */
async function writeIdentity (dataDir: string): Promise<string> {
  await mkdir(dataDir, { recursive: true })
  const key = await generateKeyPair('Ed25519')
  await writeFile(join(dataDir, 'peer.key'), privateKeyToProtobuf(key), { mode: 0o600 })
  return peerIdFromPrivateKey(key).toString()
}
