/**
 * Learns how far each connected peer's clock is from ours, over a one-round-trip stream
 * protocol (constants.timeProtocol), and holds local writes back at start until the cluster's time is
 * known.
 *
 * Why a protocol of its own: the offsets decide whether this node stamps its writes with its own
 * clock or the cluster's (clock/cluster-time.ts). Digest announcements came late (after the
 * gossip mesh formed, a second or more after connecting) and could name any sender; a stream is
 * answered at once, by the peer the connection authenticated, and its round trip bounds the
 * error of the measurement.
 *
 * Why a fence: a node that starts with its clock ahead would otherwise stamp its first writes
 * with its own future time. When the node has peers to ask (bootstrap addresses or remembered
 * members), local writes wait until one of them answered, or until `settleTimeoutMs` passed
 * (peers down: the node then trusts its own clock, and says so).
 *
 * Request: one frame (ignored, ≤ 64 bytes). Reply: one frame, CBOR `[systemClockMs]`.
 */
import type { Connection, PeerId, Stream } from '@libp2p/interface'
import type { Logger } from 'pino'
import type { ClusterTime } from '../clock/index.js'
import { decodeCbor, encodeCbor } from '../codec/index.js'

import { answerOnce, askOnce } from '../util/round-trip.js'
import type { ChorusLibp2p } from './libp2p.js'

/** Frames of the time protocol are tiny; anything larger is not ours. */
const MAX_TIME_FRAME_BYTES = 64
/** A sample whose round trip took longer says too little about the offset. */
const MAX_SAMPLE_RTT_MS = 1_000
/** Peers sampled per periodic round, so a large cluster costs a bounded number of streams. */
const PEERS_PER_ROUND = 8
/**
 * Until settled, a failed sample is tried again this soon: right after a connection opens the
 * peer may not serve the protocol yet (a whole cluster restarting at once), and waiting for the
 * next round would let the start-up fence run out.
 */
const SETTLE_RETRY_MS = 200

export interface TimeSyncInit {
  /** How long local writes may wait at start for the first peer's time. */
  settleTimeoutMs: number
  /** How often connected peers are sampled again. */
  intervalMs: number
  /** Whether there is anyone to ask (bootstrap addresses, remembered members). */
  peersToAsk: boolean
  /** Deadline of one sample. */
  timeoutMs: number
  /** The stream protocol id (constants.timeProtocol of the cluster name). */
  protocol: string
}

export interface TimeSyncComponents {
  libp2p: Pick<ChorusLibp2p, 'handle' | 'unhandle' | 'dialProtocol' | 'getConnections' | 'addEventListener' | 'removeEventListener'>
  time: ClusterTime
  logger: Logger
}

export class TimeSync {
  private readonly settledPromise: Promise<void>
  private settle!: () => void
  private isSettled = false
  private timer?: NodeJS.Timeout
  private settleTimer?: NodeJS.Timeout
  private readonly inFlight = new Set<string>()
  private readonly abort = new AbortController()

  constructor (private readonly c: TimeSyncComponents, private readonly init: TimeSyncInit) {
    this.settledPromise = new Promise(resolve => { this.settle = resolve })
  }

  async start (): Promise<void> {
    await this.c.libp2p.handle(this.init.protocol, ({ stream }) => { void this.serve(stream) }, { runOnLimitedConnection: false })
    this.c.libp2p.addEventListener('peer:connect', this.onConnect)
    this.c.libp2p.addEventListener('peer:disconnect', this.onDisconnect)
    this.timer = setInterval(() => { this.round() }, this.init.intervalMs)
    this.timer.unref()
    if (!this.init.peersToAsk) {
      this.markSettled()
      return
    }
    this.settleTimer = setTimeout(() => {
      if (this.isSettled) return
      this.c.logger.warn({ waitedMs: this.init.settleTimeoutMs }, 'no peer told us the cluster\'s time: writes are stamped with this node\'s own clock')
      this.markSettled()
    }, this.init.settleTimeoutMs)
    this.settleTimer.unref()
    for (const conn of this.c.libp2p.getConnections()) this.sampleSoon(conn.remotePeer)
  }

  async stop (): Promise<void> {
    clearInterval(this.timer)
    clearTimeout(this.settleTimer)
    this.abort.abort()
    this.c.libp2p.removeEventListener('peer:connect', this.onConnect)
    this.c.libp2p.removeEventListener('peer:disconnect', this.onDisconnect)
    await this.c.libp2p.unhandle(this.init.protocol).catch(() => {})
    this.markSettled()
  }

  /** Resolves once local writes may be stamped: the cluster's time is known, or nobody answered in time. */
  async settled (): Promise<void> {
    await this.settledPromise
  }

  get ready (): boolean {
    return this.isSettled
  }

  private markSettled (): void {
    this.isSettled = true
    this.settle()
  }

  private readonly onConnect = (evt: CustomEvent<PeerId>): void => { this.sampleSoon(evt.detail) }

  private readonly onDisconnect = (evt: CustomEvent<PeerId>): void => { this.c.time.dropPeer(evt.detail.toString()) }

  /** Sample every connected peer now (after our clock jumped, say). */
  resampleAll (): void {
    for (const conn of this.c.libp2p.getConnections()) this.sampleSoon(conn.remotePeer)
  }

  private round (): void {
    const peers = [...new Map(this.c.libp2p.getConnections().map((conn: Connection) => [conn.remotePeer.toString(), conn.remotePeer])).values()]
    for (let i = peers.length - 1; i > 0; i--) {
      const j = Math.floor(Math.random() * (i + 1))
      ;[peers[i], peers[j]] = [peers[j] as PeerId, peers[i] as PeerId]
    }
    for (const peer of peers.slice(0, PEERS_PER_ROUND)) this.sampleSoon(peer)
  }

  private sampleSoon (peer: PeerId): void {
    const id = peer.toString()
    if (this.inFlight.has(id) || this.abort.signal.aborted) return
    this.inFlight.add(id)
    this.sample(peer)
      .then(() => { this.markSettled() })
      .catch((err: unknown) => {
        this.c.logger.debug({ err, peer: id }, 'time sample failed')
        if (!this.isSettled) setTimeout(() => { this.retry(peer) }, SETTLE_RETRY_MS).unref()
      })
      .finally(() => { this.inFlight.delete(id) })
  }

  private retry (peer: PeerId): void {
    if (this.isSettled || this.c.libp2p.getConnections(peer).length === 0) return
    this.sampleSoon(peer)
  }

  /** One round trip; the peer's clock is taken to be read half-way through it. */
  private async sample (peer: PeerId): Promise<void> {
    const signal = AbortSignal.any([this.abort.signal, AbortSignal.timeout(this.init.timeoutMs)])
    const stream = await this.c.libp2p.dialProtocol(peer, this.init.protocol, { signal })
    try {
      const sentWall = this.c.time.raw()
      const jumpsBefore = this.c.time.jumps
      const sentAt = performance.now()
      const reply = await askOnce(stream, encodeCbor([]), MAX_TIME_FRAME_BYTES, signal)
      const rtt = performance.now() - sentAt
      const peerWall = parseReply(reply)
      if (rtt > MAX_SAMPLE_RTT_MS) throw new Error(`round trip of ${Math.round(rtt)} ms is too slow for a time sample`)
      // Our clock jumped meanwhile: the offsets were shifted, this one would not be.
      if (this.c.time.jumps !== jumpsBefore) throw new Error('the clock jumped during the sample')
      // A peer that left meanwhile was dropped; its offset must not come back with no one to refresh it.
      if (this.c.libp2p.getConnections(peer).length === 0) return
      this.c.time.addSample(peer.toString(), peerWall - (sentWall + rtt / 2))
    } catch (err) {
      stream.abort(err as Error)
      throw err
    }
  }

  private async serve (stream: Stream): Promise<void> {
    const signal = AbortSignal.any([this.abort.signal, AbortSignal.timeout(this.init.timeoutMs)])
    const time = this.c.time
    try {
      await answerOnce(stream, MAX_TIME_FRAME_BYTES, () => encodeCbor([time.raw()]), signal)
    } catch (err) {
      stream.abort(err as Error)
    }
  }
}

function parseReply (reply: Uint8Array | undefined): number {
  if (reply === undefined) throw new Error('peer closed the time stream without answering')
  const decoded = decodeCbor(reply, 'time reply')
  const wall = Array.isArray(decoded) ? decoded[0] : undefined
  if (typeof wall !== 'number' || !Number.isSafeInteger(wall) || wall < 0) throw new Error('malformed time reply')
  return wall
}
