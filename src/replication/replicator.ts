/**
 * Durable writes on k nodes: after a local commit, the written keys' states are pushed to
 * every connected, allowed peer at once over the replicate protocol; the write's call resolves
 * when k − 1 peers acknowledged them (each ACK says the peer committed them to its LevelDB),
 * or fails with ReplicasTimeoutError at its deadline. The write is never undone: it is
 * committed here, gossip publishes it as usual, and pushes still in flight finish.
 *
 * Peers that connect while a write waits are pushed to as well (k may exceed the cluster as
 * it is now); a push that failed on the way (a reset, a busy peer) is tried again while its
 * write still waits.
 */
import type { Connection, IdentifyResult, PeerId, Stream } from '@libp2p/interface'
import type { Logger } from 'pino'
import { MAX_REPLICAS_TIMEOUT_MS, MAX_REPLICATE_FRAME_BYTES, MAX_REPLICATE_STREAMS_PER_PEER, REPLICATE_RETRY_MS } from '../constants.js'
import { ExchangeInterruptedError, ReplicasTimeoutError } from '../errors.js'
import type { ApplyReport, EncodedChange } from '../replica/index.js'
import { PeerSlots } from './peer-slots.js'
import { pushTo, type PushFrame, type PushOutcome } from './push.js'
import { ReplicateResponder } from './responder.js'
import { ReplicationMetrics } from './metrics.js'
import { encodePush, packPushes } from './wire.js'

export interface ReplicatorLibp2p {
  handle: (protocol: string, handler: (data: { stream: Stream, connection: Connection }) => void, options?: { maxInboundStreams?: number, maxOutboundStreams?: number }) => Promise<void>
  unhandle: (protocol: string) => Promise<void>
  dialProtocol: (peer: PeerId, protocol: string, options?: { signal?: AbortSignal }) => Promise<Stream>
  getConnections: (peer?: PeerId) => Connection[]
  addEventListener: (type: 'peer:identify', listener: (evt: CustomEvent<IdentifyResult>) => void) => void
  removeEventListener: (type: 'peer:identify', listener: (evt: CustomEvent<IdentifyResult>) => void) => void
}

export interface ReplicatorComponents {
  libp2p: ReplicatorLibp2p
  /** The replica: reads back a write's states, merges peers' pushes. */
  replica: {
    readStates: (storeKeys: string[]) => Promise<Array<Uint8Array | undefined>>
    applyRemote: (changes: EncodedChange[], from: string) => Promise<ApplyReport>
  }
  /** The peer gate gossip and anti-entropy pass: not banned, not refused (removed or expired). */
  allowed: (peer: string) => boolean
  onViolation: (peer: string, why: string) => void
  logger: Logger
}

export interface ReplicatorInit {
  /** constants.replicateProtocol of the cluster name. */
  protocol: string
}

/** One write waiting for acknowledgements. */
interface Wait {
  readonly frames: PushFrame[]
  readonly needed: number
  readonly acked: Set<string>
  readonly tried: Set<string>
  /** Aborted when the wait ends: pushes not started by then are dropped (gossip carries them). */
  readonly done: AbortController
}

export class Replicator {
  readonly metrics = new ReplicationMetrics()
  private readonly responder: ReplicateResponder
  private readonly slots = new PeerSlots(MAX_REPLICATE_STREAMS_PER_PEER)
  private readonly waits = new Set<Wait>()
  private readonly shutdown = new AbortController()

  constructor (private readonly c: ReplicatorComponents, private readonly init: ReplicatorInit) {
    this.responder = new ReplicateResponder({ applyRemote: async (changes, from) => await c.replica.applyRemote(changes, from), allowed: c.allowed, onViolation: c.onViolation, logger: c.logger })
    this.metrics.responder = this.responder.stats
  }

  async start (): Promise<void> {
    // Our own per-peer cap refuses first; libp2p's per-connection caps only need to stay above it.
    await this.c.libp2p.handle(this.init.protocol, ({ stream, connection }) => { void this.responder.serve(stream, connection) }, {
      maxInboundStreams: MAX_REPLICATE_STREAMS_PER_PEER + 1,
      maxOutboundStreams: MAX_REPLICATE_STREAMS_PER_PEER + 1
    })
    this.c.libp2p.addEventListener('peer:identify', this.onIdentify)
  }

  async stop (): Promise<void> {
    this.c.libp2p.removeEventListener('peer:identify', this.onIdentify)
    this.shutdown.abort(new ExchangeInterruptedError('replicate: node stopping'))
    // Writes still waiting answer now, with how many nodes had them (the write is kept).
    for (const wait of this.waits) wait.done.abort()
    this.responder.stop()
    this.slots.clear()
    await this.c.libp2p.unhandle(this.init.protocol).catch(() => {})
  }

  /**
   * Resolves once `nodes` nodes (this one included) hold the committed states of `storeKeys`;
   * throws ReplicasTimeoutError (data.replicas: how many did) after `timeoutMs`.
   */
  async replicate (storeKeys: string[], nodes: number, timeoutMs: number): Promise<void> {
    if (nodes <= 1) return
    const started = performance.now()
    const wait = await this.newWait([...new Set(storeKeys)], nodes - 1)
    try {
      await this.waitFor(wait, timeoutMs)
      this.metrics.observeWait('ok', (performance.now() - started) / 1000)
    } catch (err) {
      this.metrics.observeWait('timeout', (performance.now() - started) / 1000)
      throw err
    } finally {
      wait.done.abort()
      this.waits.delete(wait)
    }
  }

  private async newWait (storeKeys: string[], needed: number): Promise<Wait> {
    const states = await this.c.replica.readStates(storeKeys)
    const changes: EncodedChange[] = []
    // The states read back hold the write and perhaps later ones: a peer that holds them holds the write.
    states.forEach((state, i) => { if (state !== undefined) changes.push({ storeKey: storeKeys[i] as string, state }) })
    const frames = packPushes(changes).map(group => ({ bytes: encodePush(group), states: group.length }))
    const wait: Wait = { frames, needed, acked: new Set(), tried: new Set(), done: new AbortController() }
    // A state larger than a frame cannot be pushed at all (our own stream refuses it): say so at
    // once rather than retry until the deadline. Anti-entropy still carries it, in parts.
    const largest = Math.max(0, ...frames.map(f => f.bytes.byteLength))
    if (largest > MAX_REPLICATE_FRAME_BYTES) throw tooLargeError(wait, largest)
    return wait
  }

  private async waitFor (wait: Wait, timeoutMs: number): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => { wait.done.abort() }, timeoutMs)
      wait.done.signal.addEventListener('abort', () => {
        clearTimeout(timer)
        if (wait.acked.size >= wait.needed) resolve()
        else reject(timeoutError(wait))
      }, { once: true })
      this.waits.add(wait)
      for (const peer of this.peers()) this.begin(wait, peer)
    })
  }

  private readonly onIdentify = (evt: CustomEvent<IdentifyResult>): void => {
    if (!evt.detail.protocols.includes(this.init.protocol)) return
    for (const wait of this.waits) this.begin(wait, evt.detail.peerId)
  }

  /** Distinct connected peers the gate allows. */
  private peers (): PeerId[] {
    const peers = new Map<string, PeerId>()
    for (const conn of this.c.libp2p.getConnections()) {
      const id = conn.remotePeer.toString()
      if (!peers.has(id) && this.c.allowed(id)) peers.set(id, conn.remotePeer)
    }
    return [...peers.values()]
  }

  private begin (wait: Wait, peer: PeerId): void {
    const id = peer.toString()
    if (wait.done.signal.aborted || wait.tried.has(id) || !this.c.allowed(id)) return
    wait.tried.add(id)
    void this.pushUntilDone(wait, peer).then(settled => {
      // Lost the connection: the peer is pushed to again if it comes back while the write waits.
      if (!settled) wait.tried.delete(id)
    })
  }

  /**
   * Push to one peer; a failed stream is tried again while the wait lasts and the peer stays
   * connected. True when the peer answered for good (acked, rejected, or does not speak the
   * protocol); false when the connection went away first.
   */
  private async pushUntilDone (wait: Wait, peer: PeerId): Promise<boolean> {
    const id = peer.toString()
    while (!wait.done.signal.aborted && !this.shutdown.signal.aborted) {
      const release = await this.slots.acquire(id, wait.done.signal)
      if (release === undefined) return true
      try {
        const outcome = await this.pushOnce(peer, wait.frames)
        this.metrics.push(outcome)
        if (outcome === 'acked') this.acked(wait, id)
        return true
      } catch (err) {
        this.metrics.push('failed')
        this.c.logger.debug({ err, peer: id }, 'replicate push failed')
        if ((err as Error).name === 'UnsupportedProtocolError') return true
      } finally {
        release()
      }
      if (this.c.libp2p.getConnections(peer).length === 0) return false
      await delay(REPLICATE_RETRY_MS, wait.done.signal)
    }
    return true
  }

  /** One push under a deadline of its own (and the node's shutdown). */
  private async pushOnce (peer: PeerId, frames: PushFrame[]): Promise<PushOutcome> {
    const scope = new AbortController()
    const timer = setTimeout(() => { scope.abort(new ExchangeInterruptedError('replicate: push deadline')) }, MAX_REPLICAS_TIMEOUT_MS)
    const onStop = (): void => { scope.abort(this.shutdown.signal.reason) }
    this.shutdown.signal.addEventListener('abort', onStop, { once: true })
    try {
      return await pushTo(this.dial, peer, frames, scope.signal)
    } finally {
      clearTimeout(timer)
      this.shutdown.signal.removeEventListener('abort', onStop)
    }
  }

  private acked (wait: Wait, peer: string): void {
    wait.acked.add(peer)
    if (wait.acked.size >= wait.needed) wait.done.abort()
  }

  /**
   * A stream on a connection we already have (the peer was pushed to because it is connected):
   * libp2p's dialProtocol would go through the dialer and the peer store on every push.
   */
  private readonly dial = async (peer: PeerId, signal: AbortSignal): Promise<Stream> => {
    const open = this.c.libp2p.getConnections(peer).find(conn => conn.status === 'open')
    if (open !== undefined) return await open.newStream(this.init.protocol, { signal })
    return await this.c.libp2p.dialProtocol(peer, this.init.protocol, { signal })
  }
}

function tooLargeError (wait: Wait, bytes: number): ReplicasTimeoutError {
  const required = wait.needed + 1
  return new ReplicasTimeoutError(`the write is committed on this node only: its state (${bytes} bytes) is larger than a replicate frame (${MAX_REPLICATE_FRAME_BYTES} bytes), so it cannot be acknowledged by other nodes; it was not undone and spreads by anti-entropy`, { data: { replicas: 1, required, reason: 'too-large' } })
}

function timeoutError (wait: Wait): ReplicasTimeoutError {
  const replicas = 1 + wait.acked.size
  const required = wait.needed + 1
  return new ReplicasTimeoutError(`the write is committed on ${replicas} of the ${required} nodes asked for; it was not undone and keeps spreading`, { data: { replicas, required } })
}

async function delay (ms: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return
  await new Promise<void>(resolve => {
    const timer = setTimeout(done, ms)
    function done (): void {
      clearTimeout(timer)
      signal.removeEventListener('abort', done)
      resolve()
    }
    signal.addEventListener('abort', done, { once: true })
  })
}
