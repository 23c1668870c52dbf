/**
 * The parent's side of bench/lib/node-host.ts: a cluster of N in-process nodes spread over
 * ceil(N / perProcess) child processes, each node addressed by its global index.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { processCpuMs } from './chorus.js'

const HOST_SCRIPT = fileURLToPath(new URL('./node-host.ts', import.meta.url))

export interface HostedEvent { node: number, key: string, at: number }

interface Host {
  child: ChildProcess
  /** Global index of its first node. */
  first: number
  count: number
  waiters: Map<number, { resolve: (v: unknown) => void, reject: (e: Error) => void }>
}

export class NodeHosts {
  private nextId = 1
  private onEvent: (e: HostedEvent) => void = () => {}
  readonly addrs: string[] = []
  readonly peerIds: string[] = []

  private constructor (private readonly hosts: Host[]) {
    for (const host of hosts) {
      host.child.on('message', (m: { id?: number, result?: unknown, error?: string, event?: HostedEvent }) => {
        if (m.event !== undefined) { this.onEvent({ ...m.event, node: host.first + m.event.node }); return }
        if (m.id === undefined) return
        const w = host.waiters.get(m.id)
        host.waiters.delete(m.id)
        if (m.error !== undefined) w?.reject(new Error(m.error))
        else w?.resolve(m.result)
      })
      host.child.on('exit', () => { for (const w of host.waiters.values()) w.reject(new Error('node host exited')) })
    }
  }

  /** Starts `total` nodes, `perProcess` to a process. */
  static async start (total: number, perProcess: number): Promise<NodeHosts> {
    const hosts: Host[] = []
    for (let first = 0; first < total; first += perProcess) {
      const child = spawn(process.execPath, ['--import', 'tsx', HOST_SCRIPT], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
      hosts.push({ child, first, count: Math.min(perProcess, total - first), waiters: new Map() })
    }
    const cluster = new NodeHosts(hosts)
    try {
      await Promise.all(hosts.map(async h => await new Promise<void>((resolve, reject) => {
        h.child.once('message', () => { resolve() })
        h.child.once('exit', (code) => { reject(new Error(`node host exited (${code ?? 'signal'}) before it was ready`)) })
      })))
      const started = await Promise.all(hosts.map(async h => await cluster.ask(h, 'start', { count: h.count }) as Array<{ addr: string, peerId: string }>))
      for (const list of started) {
        cluster.addrs.push(...list.map(n => n.addr))
        cluster.peerIds.push(...list.map(n => n.peerId))
      }
    } catch (err) {
      await cluster.stop()
      throw err
    }
    return cluster
  }

  get size (): number { return this.addrs.length }
  get processes (): number { return this.hosts.length }

  private hostOf (node: number): Host {
    const host = this.hosts.find(h => node >= h.first && node < h.first + h.count)
    if (host === undefined) throw new RangeError(`no node ${node}`)
    return host
  }

  private async ask (host: Host, op: string, args: Record<string, unknown> = {}): Promise<unknown> {
    const id = this.nextId++
    return await new Promise((resolve, reject) => {
      host.waiters.set(id, { resolve, reject })
      host.child.send({ id, op, ...args })
    })
  }

  async dial (node: number, addr: string): Promise<void> {
    const host = this.hostOf(node)
    await this.ask(host, 'dial', { node: node - host.first, addr })
  }

  async put (node: number, key: string, value: unknown): Promise<void> {
    const host = this.hostOf(node)
    await this.ask(host, 'put', { node: node - host.first, key, value })
  }

  /** Every node's change events under `prefix`, until unwatch(). */
  async watch (prefix: string, onEvent: (e: HostedEvent) => void): Promise<void> {
    this.onEvent = onEvent
    await Promise.all(this.hosts.map(async h => await this.ask(h, 'watch', { prefix })))
  }

  async unwatch (): Promise<void> {
    await Promise.all(this.hosts.map(async h => await this.ask(h, 'unwatch')))
    this.onEvent = () => {}
  }

  /**
   * Splits the cluster in two for `ms`: nodes below `at` and the others refuse each other both
   * ways until then (whole processes to a side: `at` must be a multiple of the nodes per process).
   */
  async partition (at: number, ms: number): Promise<void> {
    const low = this.peerIds.slice(0, at)
    const high = this.peerIds.slice(at)
    await Promise.all(this.hosts.map(async h => {
      if (h.first < at && h.first + h.count > at) throw new RangeError('a partition must not split a process')
      await this.ask(h, 'partition', { peers: h.first < at ? high : low, ms })
    }))
  }

  async digests (): Promise<string[]> {
    return (await Promise.all(this.hosts.map(async h => await this.ask(h, 'digests') as string[]))).flat()
  }

  /** A counter summed over every node (all label sets, or those whose labels contain `labels`). */
  async counter (name: string, labels = ''): Promise<number> {
    return (await Promise.all(this.hosts.map(async h => await this.ask(h, 'counter', { name, labels }) as number))).reduce((a, b) => a + b, 0)
  }

  /** CPU time of every host process, ms (all threads, from /proc). */
  cpuMs (): number {
    return this.hosts.reduce((sum, h) => sum + (h.child.pid === undefined ? 0 : processCpuMs(h.child.pid) ?? 0), 0)
  }

  async stop (): Promise<void> {
    await Promise.allSettled(this.hosts.map(async h => {
      if (h.child.exitCode !== null) return
      await this.ask(h, 'stop').catch(() => {})
      h.child.disconnect()
      await new Promise<void>(resolve => {
        const timer = setTimeout(() => { h.child.kill('SIGKILL'); resolve() }, 10_000)
        h.child.once('exit', () => { clearTimeout(timer); resolve() })
      })
    }))
  }
}
