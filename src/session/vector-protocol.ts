/**
 * The session protocol (constants.sessionProtocol): one round trip tells a peer's session
 * vector — its catch-up vector plus its own position (session/positions.ts). A node asks it
 * just before a complete anti-entropy exchange with that peer, so that the vector describes
 * less than (or exactly) what the exchange then brings: everything the peer held when it
 * answered.
 *
 * Request: one frame (ignored, ≤ 64 bytes). Reply: one frame, session/codec.ts's vector encoding.
 */
import type { PeerId, Stream } from '@libp2p/interface'
import type { Logger } from 'pino'
import { MAX_SESSION_VECTOR_BYTES, MAX_SESSION_VECTOR_ENTRIES } from '../constants.js'
import { answerOnce, askOnce } from '../util/round-trip.js'
import { decodeVector, encodeVector } from './codec.js'
import type { Position } from './vector.js'

const MAX_REQUEST_BYTES = 64

export interface VectorProtocolComponents {
  libp2p: {
    handle: (protocol: string, handler: (data: { stream: Stream }) => void, options?: { runOnLimitedConnection?: boolean }) => Promise<void>
    unhandle: (protocol: string) => Promise<void>
    dialProtocol: (peer: PeerId, protocol: string, options?: { signal?: AbortSignal }) => Promise<Stream>
  }
  /** What to answer: the catch-up vector with our own position. */
  advertised: () => Map<string, Position>
  logger: Logger
}

export interface VectorProtocolInit {
  protocol: string
  timeoutMs: number
}

export class VectorProtocol {
  private readonly abort = new AbortController()

  constructor (private readonly c: VectorProtocolComponents, private readonly init: VectorProtocolInit) {}

  async start (): Promise<void> {
    await this.c.libp2p.handle(this.init.protocol, ({ stream }) => { void this.serve(stream) }, { runOnLimitedConnection: false })
  }

  async stop (): Promise<void> {
    this.abort.abort()
    await this.c.libp2p.unhandle(this.init.protocol).catch(() => {})
  }

  /** The peer's vector; it must name the peer itself (its own position). */
  async query (peer: PeerId): Promise<Map<string, Position>> {
    const signal = AbortSignal.any([this.abort.signal, AbortSignal.timeout(this.init.timeoutMs)])
    const stream = await this.c.libp2p.dialProtocol(peer, this.init.protocol, { signal })
    try {
      const reply = await askOnce(stream, new Uint8Array(0), MAX_SESSION_VECTOR_BYTES, signal)
      if (reply === undefined) throw new Error('peer closed the session stream without answering')
      const vector = decodeVector(reply, MAX_SESSION_VECTOR_ENTRIES)
      if (typeof vector === 'string') throw new Error(`malformed session vector: ${vector}`)
      if (!vector.has(peer.toString())) throw new Error('the session vector does not name its sender')
      return vector
    } catch (err) {
      stream.abort(err as Error)
      throw err
    }
  }

  private async serve (stream: Stream): Promise<void> {
    const signal = AbortSignal.any([this.abort.signal, AbortSignal.timeout(this.init.timeoutMs)])
    const advertised = this.c.advertised
    try {
      // Read at the moment of answering: before the asker's exchange reads our tree.
      await answerOnce(stream, MAX_REQUEST_BYTES, () => encodeVector(advertised()), signal)
    } catch (err) {
      this.c.logger.debug({ err }, 'session vector request failed')
      stream.abort(err as Error)
    }
  }
}
