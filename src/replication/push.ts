/**
 * The sending side of one push: a stream to one peer, the write's PUSH frames one after the
 * other, each answered by an ACK. The push counts only if the peer applied every state it
 * was sent (a state it rejected is not on its disk).
 */
import type { PeerId, Stream } from '@libp2p/interface'
import { FramedStream } from '../antientropy/framed-stream.js'
import { MAX_REPLICATE_FRAME_BYTES, REPLICATE_FRAME_TIMEOUT_MS } from '../constants.js'
import { decodeAck, violation } from './wire.js'

/** One encoded PUSH frame and how many states it carries. */
export interface PushFrame {
  bytes: Uint8Array
  states: number
}

export type PushOutcome = 'acked' | 'rejected'

export type DialStream = (peer: PeerId, signal: AbortSignal) => Promise<Stream>

/** Sends `frames` to `peer`; resolves with whether every state was applied, throws when the stream failed. */
export async function pushTo (dial: DialStream, peer: PeerId, frames: PushFrame[], signal: AbortSignal): Promise<PushOutcome> {
  const stream = await dial(peer, signal)
  const fs = new FramedStream(stream, { maxFrameBytes: MAX_REPLICATE_FRAME_BYTES, timeoutMs: REPLICATE_FRAME_TIMEOUT_MS, signal })
  try {
    let outcome: PushOutcome = 'acked'
    for (const frame of frames) {
      await fs.write(frame.bytes)
      const reply = await fs.read()
      if (reply === undefined) throw violation('the peer closed the stream without an ack')
      const ack = decodeAck(reply)
      if (ack.rejected > 0 || ack.applied !== frame.states) outcome = 'rejected'
    }
    await fs.close()
    return outcome
  } catch (err) {
    fs.abort(err instanceof Error ? err : new Error(String(err)))
    throw err
  }
}
