/**
 * The anti-entropy part of a node: serves the protocol, runs exchanges (on demand, on a
 * jittered timer with a random connected peer, and shortly after a peer is identified), caps
 * concurrent exchanges in each direction, and announces digests.
 */
import type { Connection, IdentifyResult, Libp2p, PeerId, Stream } from '@libp2p/interface'
import type { Logger } from 'pino'
import type { Registry } from 'prom-client'
import { antiEntropyProtocol, digestTopic } from '../constants.js'
import { ExchangeInterruptedError, NoPeerError, ProtocolError, SyncFailedError } from '../errors.js'
import type { SyncReport } from '../node/api.js'
import type { AntiEntropyReplica } from '../replica/types.js'
import { resolveConfig, type AntiEntropyConfig, type AntiEntropyInit } from './config.js'
import { DigestAnnouncer, type DigestPubSub, type PeerDigest } from './digests.js'
import { FramedStream } from './framed-stream.js'
import { createMetrics, type AntiEntropyMetrics, type Outcome } from './metrics.js'
import { BUSY_FRAME, BusyError, runSession, StatesRefusedError, type Role } from './session.js'
import type { ExchangeStats } from './stats.js'
import { interrupted } from './wire.js'
import { LogThrottle } from '../util/log-throttle.js'

/** The slice of libp2p anti-entropy uses. */
export type AntiEntropyLibp2p = Pick<Libp2p, 'peerId' | 'handle' | 'unhandle' | 'dialProtocol' | 'getConnections' | 'addEventListener' | 'removeEventListener' | 'peerStore'>

export interface AntiEntropyComponents {
  libp2p: AntiEntropyLibp2p
  replica: AntiEntropyReplica
  logger: Logger
  /** For digest announcements; without it peerDigests() stays empty. */
  pubsub?: DigestPubSub
  metrics?: Registry
  /**
   * Called after every exchange this node initiated that the peer ended with DONE (not REFUSED),
   * with the physical time it started: from then on the peer holds everything we held at that
   * time (tombstone GC relies on it).
   */
  onExchangeComplete?: (peer: string, startedAtMs: number) => void
  /** Called when a peer broke the protocol (never for timeouts or a peer that went away): the node penalises it. */
  onViolation?: (peer: string, err: ProtocolError) => void
}

/** A SyncReport plus the split of bytes into tree metadata and key state (benchmarks). */
interface ExchangeScope {
  signal: AbortSignal
  abort: (reason: Error) => void
  end: () => void
}

interface InboundExchange {
  peer: string
  /** performance.now() when the slot was taken. */
  startedAt: number
  scope: ExchangeScope
}

export interface DetailedSyncReport extends SyncReport {
  stats: ExchangeStats
}

export interface AntiEntropy {
  start: () => Promise<void>
  stop: () => Promise<void>
  /** One exchange now, as initiator, with `peerId` or a random connected peer. */
  sync: (peerId?: string) => Promise<SyncReport>
  syncDetailed: (peerId?: string) => Promise<DetailedSyncReport>
  peerDigests: () => Map<string, PeerDigest>
}

/** Failures a healthy cluster has too: a peer at capacity, an exchange that gave way or was cut off. */
const ROUTINE_OUTCOMES: ReadonlySet<Outcome> = new Set(['busy', 'interrupted'])
/** A peer's failed exchanges are logged at info at most this often. */
const FAILURE_LOG_INTERVAL_MS = 60_000

export function createAntiEntropy (components: AntiEntropyComponents, init: AntiEntropyInit = {}): AntiEntropy {
  return new AntiEntropyService(components, resolveConfig(init))
}

class AntiEntropyService implements AntiEntropy {
  private readonly log: Logger
  private readonly metrics: AntiEntropyMetrics
  private readonly digests: DigestAnnouncer | undefined
  /** Inbound exchanges in flight: at most maxInbound (admit() preempts before it adds). */
  private readonly inbound = new Set<InboundExchange>()
  private outbound = 0
  /** Scheduled exchanges we are running as initiator, by peer: how to abort each. */
  private readonly scheduledTo = new Map<string, (reason: Error) => void>()
  /** Explicit syncs waiting for an outbound slot. */
  private readonly slotWaiters: Array<() => void> = []
  private readonly newPeers = new Set<string>()
  private readonly failures = new LogThrottle(FAILURE_LOG_INTERVAL_MS)
  private timer: NodeJS.Timeout | undefined
  private newPeerTimer: NodeJS.Timeout | undefined
  private running = false
  private shutdown = new AbortController()
  private readonly active = new Set<Promise<unknown>>()

  /** Our stream protocol id; it names the cluster, so other clusters' nodes never reach us. */
  readonly protocol: string

  constructor (private readonly c: AntiEntropyComponents, private readonly config: AntiEntropyConfig) {
    this.protocol = antiEntropyProtocol(config.clusterName)
    this.log = c.logger
    this.metrics = createMetrics(c.metrics)
    this.digests = c.pubsub === undefined
      ? undefined
      : new DigestAnnouncer({
        pubsub: c.pubsub,
        topic: digestTopic(config.clusterName),
        tree: c.replica.tree,
        keyCount: () => c.replica.keyCount(),
        self: c.libp2p.peerId.toString(),
        logger: c.logger,
        checkMs: config.announceCheckMs,
        intervalMs: config.announceIntervalMs,
        now: config.announceNow
      })
  }

  async start (): Promise<void> {
    if (this.running) return
    this.running = true
    this.shutdown = new AbortController()
    // Our own cap answers BUSY; libp2p's per-connection cap only needs to stay above it.
    await this.c.libp2p.handle(this.protocol, ({ stream, connection }) => { this.track(this.serve(stream, connection)) }, {
      maxInboundStreams: this.config.maxInbound + 1,
      maxOutboundStreams: this.config.maxOutbound + 1
    })
    this.digests?.start()
    if (this.config.schedule) {
      this.c.libp2p.addEventListener('peer:identify', this.onIdentify)
      this.scheduleNext()
    }
  }

  async stop (): Promise<void> {
    if (!this.running) return
    this.running = false
    clearTimeout(this.timer)
    clearTimeout(this.newPeerTimer)
    this.c.libp2p.removeEventListener('peer:identify', this.onIdentify)
    this.digests?.stop()
    this.shutdown.abort(new Error('anti-entropy stopping'))
    for (const wake of this.slotWaiters.splice(0)) wake()
    await this.c.libp2p.unhandle(this.protocol).catch(() => {})
    await Promise.allSettled([...this.active])
  }

  peerDigests (): Map<string, PeerDigest> {
    return new Map(this.digests?.digests ?? [])
  }

  async sync (peerId?: string): Promise<SyncReport> {
    const { stats: _stats, ...report } = await this.syncDetailed(peerId)
    return report
  }

  async syncDetailed (peerId?: string): Promise<DetailedSyncReport> {
    if (!this.running) throw new SyncFailedError('anti-entropy is not running')
    const peer = peerId === undefined ? await this.randomPeer() : this.connectedPeer(peerId)
    if (peer === undefined) throw new NoPeerError(peerId === undefined ? 'no connected peer to sync with' : `peer ${peerId} is not connected`, { data: { peer: peerId } })
    await this.acquireOutbound()
    try {
      return await this.track(this.initiate(peer))
    } finally {
      this.releaseOutbound()
    }
  }

  // ---- scheduling

  private scheduleNext (): void {
    if (!this.running) return
    const { intervalMs, jitter } = this.config
    const delay = Math.max(0, intervalMs * (1 + jitter * (2 * Math.random() - 1)))
    this.timer = setTimeout(() => {
      void this.scheduled().finally(() => { this.scheduleNext() })
    }, delay)
    this.timer.unref()
  }

  private readonly onIdentify = (evt: CustomEvent<IdentifyResult>): void => {
    if (!evt.detail.protocols.includes(this.protocol)) return
    this.newPeers.add(evt.detail.peerId.toString())
    if (this.newPeerTimer !== undefined) return
    this.newPeerTimer = setTimeout(() => {
      this.newPeerTimer = undefined
      void this.scheduled()
    }, this.config.newPeerDelayMs)
    this.newPeerTimer.unref()
  }

  /**
   * A scheduled exchange: newly identified peers first, else a random one; skipped when all
   * outbound slots are busy. A peer already running an exchange with us is left out: that
   * exchange repairs both directions, and a second one would only send the same states again
   * (a large repair takes minutes, during which the peer's own timer fires many times).
   */
  private async scheduled (): Promise<void> {
    if (!this.running || this.outbound >= this.config.maxOutbound) return
    let peer: PeerId | undefined
    for (const id of this.newPeers) {
      this.newPeers.delete(id)
      peer = this.isServing(id) ? undefined : this.connectedPeer(id)
      if (peer !== undefined) break
    }
    peer ??= await this.randomPeer(id => !this.isServing(id))
    if (peer === undefined || !this.running || this.outbound >= this.config.maxOutbound) return
    this.outbound++
    try {
      await this.track(this.initiate(peer, true))
    } catch (err) {
      this.logFailure(peer.toString(), err)
    } finally {
      this.releaseOutbound()
    }
    if (this.newPeers.size > 0) void this.scheduled()
  }

  /**
   * A failed scheduled exchange: an operator must see replication failing, so a failure that is
   * not routine (busy, given way, the peer went away) is logged at info, once a minute per peer.
   */
  private logFailure (peer: string, err: unknown): void {
    const outcome = failureOutcome(err instanceof SyncFailedError ? err.cause : err)
    const turn = ROUTINE_OUTCOMES.has(outcome) ? undefined : this.failures.take(peer)
    if (turn?.log === true) this.log.info({ err, peer, outcome, heldBack: turn.held }, 'anti-entropy exchange failed (chorus_ae_exchanges_total counts every outcome; this peer\'s next failures are logged at debug for a minute)')
    else this.log.debug({ err, peer, outcome }, 'scheduled anti-entropy exchange failed')
  }

  private connectedPeer (id: string): PeerId | undefined {
    return this.c.libp2p.getConnections().find(conn => conn.remotePeer.toString() === id && conn.status === 'open')?.remotePeer
  }

  /**
   * Two nodes that dial each other at once (on connect, say) would each send the other every
   * differing state, twice over. Either exchange repairs both directions, so the one started by
   * the node with the higher id gives way, if it was only scheduled (an explicit sync() never does).
   */
  private yieldToPeer (peer: string): void {
    if (this.c.libp2p.peerId.toString() < peer) return
    this.scheduledTo.get(peer)?.(interrupted('the peer started an exchange with us at the same time, and either one repairs both ways'))
  }

  private isServing (peer: string): boolean {
    for (const e of this.inbound) if (e.peer === peer) return true
    return false
  }

  /** A random connected peer (of those `eligible`) known to speak the protocol; else one identify has told us nothing of yet. */
  private async randomPeer (eligible: (peer: string) => boolean = () => true): Promise<PeerId | undefined> {
    const peers = new Map<string, PeerId>()
    for (const conn of this.c.libp2p.getConnections()) {
      if (conn.status === 'open') peers.set(conn.remotePeer.toString(), conn.remotePeer)
    }
    const speaking: PeerId[] = []
    const unidentified: PeerId[] = []
    for (const p of peers.values()) {
      const protocols = (await this.c.libp2p.peerStore.get(p).catch(() => undefined))?.protocols ?? []
      if (protocols.includes(this.protocol)) speaking.push(p)
      else if (protocols.length === 0) unidentified.push(p)
    }
    // Once identify has named who speaks the protocol, only those are candidates: when all of
    // them are busy with us, dialling one that does not speak it (another build, another
    // version of the protocol: node/peer-versions.ts) only fails.
    const pool = (speaking.length > 0 ? speaking : unidentified).filter(p => eligible(p.toString()))
    return pool[Math.floor(Math.random() * pool.length)]
  }

  private async acquireOutbound (): Promise<void> {
    while (this.outbound >= this.config.maxOutbound) {
      if (!this.running) throw new SyncFailedError('anti-entropy stopped')
      await new Promise<void>(resolve => { this.slotWaiters.push(resolve) })
    }
    if (!this.running) throw new SyncFailedError('anti-entropy stopped')
    this.outbound++
  }

  private releaseOutbound (): void {
    this.outbound--
    this.slotWaiters.shift()?.()
  }

  private track<T> (work: Promise<T>): Promise<T> {
    this.active.add(work)
    void work.catch(() => {}).finally(() => this.active.delete(work))
    return work
  }

  // ---- exchanges

  /** Aborted by the exchange deadline, by stop() or by `abort`; `end` unhooks it from the long-lived shutdown signal. */
  private exchangeScope (): ExchangeScope {
    const controller = new AbortController()
    const shutdown = this.shutdown.signal
    const onStop = (): void => { controller.abort(shutdown.reason) }
    shutdown.addEventListener('abort', onStop, { once: true })
    const timer = setTimeout(() => { controller.abort(new Error(`exchange exceeded ${this.config.exchangeTimeoutMs} ms`)) }, this.config.exchangeTimeoutMs)
    timer.unref()
    return {
      signal: controller.signal,
      abort: (reason: Error) => { controller.abort(reason) },
      end: () => {
        clearTimeout(timer)
        shutdown.removeEventListener('abort', onStop)
      }
    }
  }

  private framed (stream: Stream, signal: AbortSignal): FramedStream {
    return new FramedStream(stream, { maxFrameBytes: this.config.maxFrameBytes, timeoutMs: this.config.timeoutMs, signal })
  }

  private async initiate (peer: PeerId, scheduled = false): Promise<DetailedSyncReport> {
    const started = performance.now()
    const startedAtMs = this.config.now()
    const peerName = peer.toString()
    const { signal, abort, end } = this.exchangeScope()
    let fs: FramedStream | undefined
    /** Only while the session runs may a peer's own exchange make this one give way (yieldToPeer). */
    const yieldable = (on: boolean): void => {
      if (!scheduled) return
      if (on) this.scheduledTo.set(peerName, abort)
      else if (this.scheduledTo.get(peerName) === abort) this.scheduledTo.delete(peerName)
    }
    try {
      const stream = await this.c.libp2p.dialProtocol(peer, this.protocol, { signal: AbortSignal.any([signal, AbortSignal.timeout(this.config.timeoutMs)]) })
      fs = this.framed(stream, signal)
      yieldable(true)
      // The peer may have started its exchange with us while we dialled: give way at once.
      if (scheduled && this.isServing(peerName)) this.yieldToPeer(peerName)
      const freshMs = scheduled && this.connectedLongerThan(peerName, 2 * this.config.freshMs) ? this.config.freshMs : 0
      const stats = await runSession(fs, this.sessionContext(peerName, freshMs), 'initiator')
      yieldable(false)
      await fs.close()
      this.metrics.record('initiator', outcomeOf(stats), stats, (performance.now() - started) / 1000)
      // Keys we left to gossip may not have reached the peer yet: only what we held before the
      // fresh window began is sure to be there (tombstone GC counts from this time).
      this.c.onExchangeComplete?.(peerName, stats.keysLeftToGossip > 0 && stats.freshFromMs !== undefined ? Math.min(startedAtMs, stats.freshFromMs) : startedAtMs)
      this.log.debug({ peer: peerName, ...stats }, 'anti-entropy exchange done')
      return {
        peer: peerName,
        inSync: stats.inSync,
        keysSent: stats.keysSent,
        keysReceived: stats.keysReceived,
        keysRepaired: stats.keysRepaired,
        bytesSent: fs.bytesOut,
        bytesReceived: fs.bytesIn,
        roundTrips: stats.roundTrips,
        durationMs: Math.round((performance.now() - started) * 1000) / 1000,
        stats
      }
    } catch (caught) {
      yieldable(false)
      // Given way to the peer (or stopped): however the abort surfaced (an AbortError from the
      // dial, say), it is the interruption we asked for.
      const err = signal.aborted && signal.reason instanceof ExchangeInterruptedError ? signal.reason : caught
      const outcome = failureOutcome(err)
      // REFUSED is a regular end of the conversation; anything else resets the stream.
      if (err instanceof StatesRefusedError) await fs?.close().catch(() => {})
      else fs?.abort(err instanceof Error ? err : new Error(String(err)))
      this.metrics.record('initiator', outcome, undefined, (performance.now() - started) / 1000)
      this.log.debug({ err, peer: peerName }, 'anti-entropy exchange failed')
      if (outcome === 'violation') this.c.onViolation?.(peerName, err as ProtocolError)
      const data: Record<string, unknown> = { peer: peerName, busy: outcome === 'busy' }
      if (err instanceof StatesRefusedError) data.refused = err.count
      throw new SyncFailedError(`anti-entropy with ${peerName} failed: ${(err as Error).message}`, { cause: err, data })
    } finally {
      end()
    }
  }

  private async serve (stream: Stream, connection: Connection): Promise<void> {
    const peerName = connection.remotePeer.toString()
    const scope = this.exchangeScope()
    const fs = this.framed(stream, scope.signal)
    if (!this.admit(peerName)) {
      this.metrics.record('responder', 'busy')
      try {
        await fs.write(BUSY_FRAME)
        await fs.close()
      } catch {
        fs.abort(new Error('busy'))
      } finally {
        scope.end()
      }
      return
    }
    const exchange: InboundExchange = { peer: peerName, startedAt: performance.now(), scope }
    this.inbound.add(exchange)
    this.yieldToPeer(peerName)
    try {
      // Gossip delivers to a peer only while connected: over a young connection, send everything.
      const freshMs = this.connectedLongerThan(peerName, 2 * this.config.freshMs) ? this.config.freshMs : 0
      const stats = await runSession(fs, this.sessionContext(peerName, freshMs), 'responder')
      await fs.close()
      this.metrics.record('responder', outcomeOf(stats), stats, (performance.now() - exchange.startedAt) / 1000)
      // No onExchangeComplete here: whether the initiator kept every state we sent, only it
      // knows, and the protocol ends with our word, not its. Each node counts the exchanges it
      // initiates, where the peer's DONE (not REFUSED) says so.
    } catch (err) {
      // Whatever went wrong, the peer gets a reset and nothing more; we keep serving others.
      fs.abort(err instanceof Error ? err : new Error(String(err)))
      const outcome = failureOutcome(err)
      this.metrics.record('responder', outcome, undefined, (performance.now() - exchange.startedAt) / 1000)
      this.log.debug({ err, peer: peerName }, 'inbound anti-entropy exchange reset')
      if (outcome === 'violation') this.c.onViolation?.(peerName, err as ProtocolError)
    } finally {
      this.inbound.delete(exchange)
      scope.end()
    }
  }

  /**
   * Whether an inbound exchange from `peer` gets a slot. Each peer has its own cap; when every
   * slot is taken, the exchange that has held its slot longest gives it up, once it has held
   * it for `slotHoldMs`. So a few members trickling frames just inside every deadline cannot
   * keep the honest ones out: each of them loses its slot to the next peer that asks.
   */
  private admit (peer: string): boolean {
    if (!this.running) return false
    let ofPeer = 0
    for (const e of this.inbound) if (e.peer === peer) ofPeer++
    if (ofPeer >= this.config.maxInboundPerPeer) return false
    if (this.inbound.size < this.config.maxInbound) return true
    let longest: InboundExchange | undefined
    for (const e of this.inbound) if (e.peer !== peer && (longest === undefined || e.startedAt < longest.startedAt)) longest = e
    if (longest === undefined) return false
    const heldMs = performance.now() - longest.startedAt
    if (heldMs < this.config.slotHoldMs) return false
    this.inbound.delete(longest)
    longest.scope.abort(interrupted(`preempted after ${Math.round(heldMs)} ms: another peer is waiting for the slot`))
    this.log.debug({ preempted: longest.peer, heldMs: Math.round(heldMs), for: peer }, 'inbound anti-entropy slot given to a waiting peer')
    return true
  }

  private sessionContext (peer: string, freshMs: number): Parameters<typeof runSession>[1] {
    const { statesFrameBytes, maxFrameBytes, leavesPerEntries, now } = this.config
    return { replica: this.c.replica, peer, statesFrameBytes, maxFrameBytes, leavesPerEntries, freshMs, now, log: this.log }
  }

  /**
   * Whether some open connection to `peer` is older than `ms`: gossip published while it was
   * open reached the peer (floodPublish sends to every subscriber), so anti-entropy may leave
   * fresh changes to it.
   */
  private connectedLongerThan (peer: string, ms: number): boolean {
    const now = Date.now()
    return this.c.libp2p.getConnections().some(conn => conn.remotePeer.toString() === peer && conn.status === 'open' && now - conn.timeline.open > ms)
  }
}

function outcomeOf (stats: ExchangeStats): Outcome {
  return stats.inSync ? 'in_sync' : 'repaired'
}

function failureOutcome (err: unknown): Outcome {
  if (err instanceof BusyError) return 'busy'
  if (err instanceof StatesRefusedError) return 'refused'
  if (err instanceof ExchangeInterruptedError) return 'interrupted'
  if (err instanceof ProtocolError) return 'violation'
  return 'error'
}

export type { Role }
