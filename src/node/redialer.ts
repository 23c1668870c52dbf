/**
 * Keeps the node connected to its bootstrap peers (dialled at start, redialled whenever the
 * connection is lost — after a partition TCP may take seconds to notice, so we also check on a
 * timer) and dials peers that mDNS discovers, which libp2p 2.x does not do by itself.
 */
import { multiaddr, type Multiaddr } from '@multiformats/multiaddr'
import type { Logger } from 'pino'
import type { ChorusLibp2p } from './libp2p.js'
import { ConfigError, DialFailedError } from '../errors.js'
import { dialAndSettle } from './dial-peer.js'
import { LogThrottle } from '../util/log-throttle.js'

const DIAL_TIMEOUT_MS = 10_000
/** A peer that refuses this node is asked again at most this rarely. */
const REFUSED_BACKOFF_MAX_MS = 60_000

export interface RedialerInit {
  bootstrap: string[]
  /** @default 2000 */
  intervalMs?: number
}

/** A bootstrap address that keeps failing is logged at info at most this often. */
const BOOTSTRAP_FAILURE_LOG_INTERVAL_MS = 60_000

export class Redialer {
  private readonly libp2p: ChorusLibp2p
  private readonly logger: Logger
  private targets: Multiaddr[]
  private readonly intervalMs: number
  private timer?: NodeJS.Timeout
  private readonly dialing = new Set<string>()
  /** Targets whose peer refuses this node: how often in a row, and when to ask again. */
  private readonly refusals = new Map<string, { count: number, retryAtMs: number }>()
  /** Failed dials in a row per bootstrap address (reset when it connects). */
  private readonly failures = new Map<string, number>()
  private readonly failureLog = new LogThrottle(BOOTSTRAP_FAILURE_LOG_INTERVAL_MS)
  /** Targets added at run time, oldest first. */
  private readonly added: string[] = []

  constructor (libp2p: ChorusLibp2p, logger: Logger, init: RedialerInit) {
    this.libp2p = libp2p
    this.logger = logger
    this.intervalMs = init.intervalMs ?? 2000
    this.targets = init.bootstrap.map(addr => {
      try {
        return multiaddr(addr)
      } catch (err) {
        throw new ConfigError(`--bootstrap ${addr}: not a multiaddr (${(err as Error).message})`, { cause: err })
      }
    })
  }

  /**
   * Keep `target` connected too, like a bootstrap address, until the node stops
   * (`cluster.connect`). At most `max` such targets: past it the oldest added one goes.
   */
  add (target: Multiaddr, max: number): void {
    const key = target.toString()
    if (this.targets.some(t => t.toString() === key)) return
    this.targets.push(target)
    this.added.push(key)
    if (this.added.length > max) {
      const oldest = this.added.shift()
      this.targets = this.targets.filter(t => t.toString() !== oldest)
      if (oldest !== undefined) this.refusals.delete(oldest)
    }
  }

  /** Stop redialling every address of `peer` (it was forgotten). */
  remove (peer: string): void {
    const gone = new Set(this.targets.filter(t => t.getPeerId() === peer).map(String))
    this.targets = this.targets.filter(t => !gone.has(t.toString()))
    for (let i = this.added.length - 1; i >= 0; i--) if (gone.has(this.added[i] as string)) this.added.splice(i, 1)
    for (const key of gone) this.refusals.delete(key)
  }

  start (): void {
    this.libp2p.addEventListener('peer:discovery', this.onDiscovery)
    this.libp2p.addEventListener('peer:disconnect', this.onDisconnect)
    this.tick()
    this.timer = setInterval(() => { this.tick() }, this.intervalMs)
    this.timer.unref()
  }

  stop (): void {
    clearInterval(this.timer)
    this.libp2p.removeEventListener('peer:discovery', this.onDiscovery)
    this.libp2p.removeEventListener('peer:disconnect', this.onDisconnect)
  }

  private tick (): void {
    for (const target of this.targets) {
      const peer = target.getPeerId()
      if (peer !== null && this.libp2p.getConnections().some(c => c.remotePeer.toString() === peer)) continue
      this.dial(target)
    }
  }

  private dial (target: Multiaddr): void {
    const key = target.toString()
    if (this.dialing.has(key)) return
    const refusal = this.refusals.get(key)
    if (refusal !== undefined && Date.now() < refusal.retryAtMs) return
    this.dialing.add(key)
    const peer = target.getPeerId()
    const dialled = peer === null
      ? this.libp2p.dial(target, { signal: AbortSignal.timeout(DIAL_TIMEOUT_MS) })
      : dialAndSettle(this.libp2p, target, peer, DIAL_TIMEOUT_MS)
    dialled
      .then(() => {
        this.refusals.delete(key)
        // A bootstrap peer that came back after failed dials is news; the first connect is not.
        const failures = this.failures.get(key) ?? 0
        this.failures.delete(key)
        if (failures > 0) this.logger.info({ addr: key, failedDials: failures }, 'connected to bootstrap peer')
        else this.logger.debug({ addr: key }, 'connected to bootstrap peer')
      })
      .catch(err => {
        if (err instanceof DialFailedError && err.data?.refusedByPeer === true) this.refusedBy(key, err)
        else this.dialFailed(key, err as Error)
      })
      .finally(() => { this.dialing.delete(key) })
  }

  /**
   * A bootstrap peer that cannot be reached: at info the first time and then once a minute (an
   * operator must see that the node is cut off from its bootstrap list), at debug otherwise.
   */
  private dialFailed (key: string, err: Error): void {
    const failures = (this.failures.get(key) ?? 0) + 1
    this.failures.set(key, failures)
    const turn = this.failureLog.take(key)
    if (turn.log) this.logger.info({ addr: key, err: err.message, failedDials: failures }, 'bootstrap dial failed; will retry')
    else this.logger.debug({ addr: key, err: err.message }, 'bootstrap dial failed; will retry')
  }

  /**
   * The peer closed the connection right after the handshake: it refuses this node. Said once,
   * loudly (the operator must reset this node or the peer's refusal is a mistake), and asked
   * again less and less often, so that neither side spends a handshake every tick.
   */
  private refusedBy (key: string, err: DialFailedError): void {
    const previous = this.refusals.get(key)
    const count = (previous?.count ?? 0) + 1
    this.refusals.set(key, { count, retryAtMs: Date.now() + Math.min(REFUSED_BACKOFF_MAX_MS, this.intervalMs * 2 ** count) })
    if (previous === undefined) this.logger.warn({ addr: key }, err.message)
  }

  private readonly onDisconnect = (): void => {
    // Give libp2p a moment to settle, then reconnect anything we lost.
    setTimeout(() => { if (this.timer !== undefined) this.tick() }, 200).unref()
  }

  private readonly onDiscovery = (evt: CustomEvent<{ id: { toString: () => string }, multiaddrs: Multiaddr[] }>): void => {
    const { id, multiaddrs } = evt.detail
    if (id.toString() === this.libp2p.peerId.toString()) return
    if (this.libp2p.getConnections().some(c => c.remotePeer.toString() === id.toString())) return
    this.libp2p.dial(evt.detail.id as any, { signal: AbortSignal.timeout(10_000) })
      .catch(err => { this.logger.debug({ peer: id.toString(), addrs: multiaddrs.map(String), err: (err as Error).message }, 'dial of discovered peer failed') })
  }
}
