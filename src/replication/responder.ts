/**
 * The serving side of the replicate protocol: merges each PUSH through the replica's one
 * validated write path and answers ACK once that merge is committed to LevelDB — so an ACK is
 * a fact about this node's disk, never a promise.
 *
 * Hostile input is bounded three ways: frame bytes (MAX_REPLICATE_FRAME_BYTES, checked by the
 * length-prefix decoder before a frame is buffered), frames per stream and streams per peer,
 * and time (a deadline per read and write, and one per stream). A malformed frame, too many
 * frames, or a PUSH whose every state is invalid is a protocol violation, reported to the
 * node's peer penalties; nothing a peer sends can crash the node.
 */
import type { Connection, Stream } from '@libp2p/interface'
import type { Logger } from 'pino'
import { FramedStream } from '../antientropy/framed-stream.js'
import { MAX_REPLICAS_TIMEOUT_MS, MAX_REPLICATE_FRAME_BYTES, MAX_REPLICATE_FRAMES_PER_STREAM, MAX_REPLICATE_STREAMS_PER_PEER, REPLICATE_FRAME_TIMEOUT_MS } from '../constants.js'
import { ExchangeInterruptedError, ProtocolError } from '../errors.js'
import type { ApplyReport, EncodedChange } from '../replica/index.js'
import { decodePush, encodeAck, violation } from './wire.js'

export interface ResponderComponents {
  /** The one write path (replica.applyRemote): validates, merges, commits. */
  applyRemote: (changes: EncodedChange[], from: string) => Promise<ApplyReport>
  /** Whether `peer` may be served: the gate gossip and anti-entropy pass (not banned, not refused). */
  allowed: (peer: string) => boolean
  onViolation: (peer: string, why: string) => void
  logger: Logger
}

export interface ResponderStats {
  /** PUSH frames merged and acknowledged. */
  pushes: number
  /** Streams refused: a peer not allowed, or past its stream slots. */
  refused: number
  violations: number
}

export class ReplicateResponder {
  readonly stats: ResponderStats = { pushes: 0, refused: 0, violations: 0 }
  private readonly open = new Map<string, number>()
  private readonly shutdown = new AbortController()

  constructor (private readonly c: ResponderComponents) {}

  /** Stops every stream in progress (their commits still complete). */
  stop (): void {
    this.shutdown.abort(new ExchangeInterruptedError('replicate: node stopping'))
  }

  async serve (stream: Stream, connection: Connection): Promise<void> {
    const peer = connection.remotePeer.toString()
    const open = this.open.get(peer) ?? 0
    if (!this.c.allowed(peer) || open >= MAX_REPLICATE_STREAMS_PER_PEER || this.shutdown.signal.aborted) {
      this.stats.refused++
      stream.abort(new Error('replicate: refused'))
      return
    }
    this.open.set(peer, open + 1)
    // One deadline for the whole stream: an honest push is done long before any write stops waiting.
    const scope = new AbortController()
    const timer = setTimeout(() => { scope.abort(new ExchangeInterruptedError('replicate: stream deadline')) }, MAX_REPLICAS_TIMEOUT_MS)
    const onStop = (): void => { scope.abort(this.shutdown.signal.reason) }
    this.shutdown.signal.addEventListener('abort', onStop, { once: true })
    const fs = new FramedStream(stream, { maxFrameBytes: MAX_REPLICATE_FRAME_BYTES, timeoutMs: REPLICATE_FRAME_TIMEOUT_MS, signal: scope.signal })
    try {
      await this.exchange(fs, peer)
      await fs.close()
    } catch (err) {
      fs.abort(err instanceof Error ? err : new Error(String(err)))
      if (err instanceof ProtocolError && !(err instanceof ExchangeInterruptedError)) {
        this.stats.violations++
        this.c.onViolation(peer, (err as Error).message)
      }
      this.c.logger.debug({ err, peer }, 'replicate stream failed')
    } finally {
      clearTimeout(timer)
      this.shutdown.signal.removeEventListener('abort', onStop)
      const left = (this.open.get(peer) ?? 1) - 1
      if (left === 0) this.open.delete(peer)
      else this.open.set(peer, left)
    }
  }

  /** PUSH → merge and commit → ACK, until the peer ends its side. */
  private async exchange (fs: FramedStream, peer: string): Promise<void> {
    for (let frames = 0; ; frames++) {
      const frame = await readFrame(fs)
      if (frame === undefined) return
      if (frames >= MAX_REPLICATE_FRAMES_PER_STREAM) throw violation(`more than ${MAX_REPLICATE_FRAMES_PER_STREAM} frames in one stream`)
      const changes = decodePush(frame)
      // A failure here is ours (a full disk, stopping), not the peer's: no ack, no penalty.
      const report = await this.c.applyRemote(changes, peer)
      // States refused because we collected their tombstone are an honest peer's lag; states
      // that fail validation are not something an honest node sends.
      if (report.rejected - (report.superseded ?? 0) === changes.length) throw violation('every state of the push is invalid')
      this.stats.pushes++
      await fs.write(encodeAck({ applied: report.applied, rejected: report.rejected }))
    }
  }
}

/** The next frame; a frame the length-prefix decoder refused (too long, malformed) is the peer's violation. */
async function readFrame (fs: FramedStream): Promise<Uint8Array | undefined> {
  try {
    return await fs.read()
  } catch (err) {
    if (err instanceof ExchangeInterruptedError) throw err
    throw violation(`unreadable frame: ${(err as Error).message}`, err)
  }
}
