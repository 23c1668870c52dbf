/**
 * Carries out a schedule against a running cluster: each fault starts at its `at` and heals
 * at its `until` (ms after the phase began). Actions on one node run one after another (a
 * restart takes a second or two, and must not interleave with the next fault on that node);
 * firewall changes are serialised too. Nothing waits on a guess: a restart waits for the
 * node's ready line, a skew is proved by probing the clock under the same environment.
 */
import { drainDisk, fillDisk } from './disk.js'
import { probeOffsetMs } from './clock.js'
import type { Cluster, ChorusNode } from './cluster.js'
import type { Drop, Firewall } from './firewall.js'
import type { Fault } from './schedule.js'

/** t: when the action began (a restart or a clock probe can take seconds on a loaded machine); done: when it finished. */
export interface InjectEvent { t: number, done?: number, fault?: number, kind?: string, phase: string, node?: number, detail?: unknown }

export class Injector {
  private readonly active = new Map<number, Drop[]>()
  private chains = new Map<string, Promise<void>>()
  private readonly timers: NodeJS.Timeout[] = []
  lastHealAt = 0
  injected = 0
  healsPending = 0

  constructor (
    private readonly cluster: Cluster,
    private readonly firewall: Firewall,
    private readonly record: (e: InjectEvent) => void
  ) {}

  /** Schedules every fault relative to `phaseStart` (epoch ms). */
  schedule (faults: readonly Fault[], phaseStart: number): void {
    for (const f of faults) {
      this.healsPending++
      this.at(phaseStart + f.at, this.chainKey(f), async () => { await this.begin(f) })
      this.at(phaseStart + f.until, this.chainKey(f), async () => { await this.heal(f); this.healsPending-- })
    }
  }

  /** Waits until every scheduled action has run. */
  async settle (): Promise<void> {
    for (;;) {
      const chains = [...this.chains.values()]
      await Promise.all(chains)
      if (this.healsPending === 0 && chains.length === this.chains.size) return
      await new Promise(resolve => setTimeout(resolve, 100))
    }
  }

  cancel (): void { for (const t of this.timers) clearTimeout(t) }

  private chainKey (f: Fault): string { return f.drops !== undefined ? 'net' : `node-${f.nodes[0] ?? 0}` }

  private at (when: number, chain: string, action: () => Promise<void>): void {
    this.timers.push(setTimeout(() => {
      const prev = this.chains.get(chain) ?? Promise.resolve()
      const next = prev.then(action).catch(err => {
        this.record({ t: Date.now(), phase: 'harness-error', detail: String((err as Error).stack ?? err) })
      })
      this.chains.set(chain, next)
    }, Math.max(0, when - Date.now())))
  }

  private async applyNet (): Promise<void> {
    await this.firewall.apply([...this.active.values()].flat())
  }

  private async begin (f: Fault): Promise<void> {
    const node = f.drops === undefined ? this.cluster.node(f.nodes[0] as number) : undefined
    const detail: Record<string, unknown> = { what: f.what }
    const t = Date.now()
    if (f.drops !== undefined) {
      this.active.set(f.id, f.drops)
      await this.applyNet()
    } else if (node !== undefined) {
      switch (f.kind) {
        case 'kill': await node.kill9(); break
        case 'wipe':
          await node.kill9()
          detail.oldPeerId = node.peerId
          detail.newPeerId = await node.wipe()
          break
        case 'pause': node.pause(); break
        case 'skew-start':
          await node.kill9()
          await node.setClock(f.offsetSec ?? 0)
          detail.probeOffsetMs = await probeOffsetMs(node.clockFile, node.net.ns)
          await node.start()
          break
        case 'clock-jump':
          await node.setClock(f.offsetSec ?? 0)
          detail.probeOffsetMs = await probeOffsetMs(node.clockFile, node.net.ns)
          break
        case 'disk-full':
          detail.ballastBytes = await fillDisk(node.mountDir)
          break
        default: throw new Error(`no action for ${f.kind}`)
      }
    }
    this.injected++
    this.record({ t, done: Date.now(), fault: f.id, kind: f.kind, phase: 'begin', node: node?.index, detail })
  }

  private async heal (f: Fault): Promise<void> {
    const node = f.drops === undefined ? this.cluster.node(f.nodes[0] as number) : undefined
    const detail: Record<string, unknown> = {}
    const t = Date.now()
    if (f.drops !== undefined) {
      this.active.delete(f.id)
      await this.applyNet()
    } else if (node !== undefined) {
      switch (f.kind) {
        case 'kill': case 'wipe': await node.start(); break
        case 'pause': node.resume(); break
        case 'skew-start':
          // Back to the right time through a clean restart, as an operator fixing NTP would.
          await node.stop()
          await node.setClock(0)
          await node.start()
          break
        case 'clock-jump':
          await node.setClock(0)
          detail.probeOffsetMs = await probeOffsetMs(node.clockFile, node.net.ns)
          break
        case 'disk-full':
          await drainDisk(node.mountDir)
          break
        default: throw new Error(`no heal for ${f.kind}`)
      }
      // A node that died during its fault (a crash on a full disk, say) comes back now.
      if (node.state === 'down') { detail.restartedAfterCrash = true; await node.start() }
    }
    this.lastHealAt = Date.now()
    this.record({ t, done: this.lastHealAt, fault: f.id, kind: f.kind, phase: 'heal', node: node?.index, detail })
  }

  /** The safety net at the end of the phase: everything back to normal, whatever happened. */
  async healAll (): Promise<void> {
    await this.settle()
    const changed: string[] = []
    if (this.active.size > 0) { this.active.clear(); changed.push('firewall') }
    await this.firewall.apply([])
    for (const n of this.cluster.nodes) {
      if (n.state === 'paused') { n.resume(); changed.push(`resume ${n.index}`) }
      if (n.clockOffsetSec !== 0) { await n.setClock(0); changed.push(`clock ${n.index}`) }
      await drainDisk(n.mountDir)
      if (n.state === 'down') { await startWithRetry(n); changed.push(`restart ${n.index}`) }
    }
    if (changed.length > 0) {
      this.lastHealAt = Date.now()
      this.record({ t: this.lastHealAt, phase: 'heal-all', detail: changed })
    }
  }
}

async function startWithRetry (n: ChorusNode): Promise<void> {
  try {
    await n.start()
  } catch {
    await n.start()
  }
}
