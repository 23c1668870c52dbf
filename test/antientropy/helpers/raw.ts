/**
 * A scripted peer that speaks (or mis-speaks) the anti-entropy protocol frame by frame, for
 * lying-peer tests. It records how its stream ended: a reset from the honest side shows up
 * as a failing read.
 */
import type { Libp2p, Stream } from '@libp2p/interface'
import { FramedStream } from '../../../src/antientropy/framed-stream.js'
import { decodeFrame, encodeFrame, type Frame } from '../../../src/antientropy/wire.js'
import { antiEntropyProtocol, MAX_AE_FRAME_BYTES } from '../../../src/constants.js'

export interface RawIO {
  read: () => Promise<Frame | undefined>
  write: (frame: Frame) => Promise<void>
  writeBytes: (bytes: Uint8Array) => Promise<void>
  stream: Stream
}

/** `script failed: …` when the script itself broke (a wrong expectation), which no test accepts. */
export type Ending = 'reset' | 'closed' | `script failed: ${string}`

export interface RawRun {
  /** How the stream ended after the script ran (or failed). */
  ending: Promise<Ending>
}

function io (stream: Stream): { io: RawIO, fs: FramedStream } {
  const fs = new FramedStream(stream, { maxFrameBytes: MAX_AE_FRAME_BYTES, timeoutMs: 30_000, signal: new AbortController().signal })
  return {
    fs,
    io: {
      read: async () => {
        const bytes = await fs.read()
        return bytes === undefined ? undefined : decodeFrame(bytes)
      },
      write: async frame => { await fs.write(encodeFrame(frame)) },
      writeBytes: async bytes => { await fs.write(bytes) },
      stream
    }
  }
}

/** Run `script`, then drain: a read that throws means the other side reset the stream. */
async function drive (stream: Stream, script: (io: RawIO) => Promise<void>): Promise<Ending> {
  const { io: raw, fs } = io(stream)
  try {
    await script(raw)
  } catch (err) {
    if (!isStreamError(err)) return `script failed: ${(err as Error).message}`
    return 'reset'
  }
  try {
    while (await fs.read() !== undefined) {}
    return 'closed'
  } catch {
    return 'reset'
  }
}

/** Serve the protocol on `host` with `script` for every inbound stream. */
export async function serveRaw (host: Libp2p<any>, script: (io: RawIO) => Promise<void>): Promise<RawRun[]> {
  const runs: RawRun[] = []
  await host.handle(antiEntropyProtocol('default'), ({ stream }) => { runs.push({ ending: drive(stream, script) }) }, { maxInboundStreams: 64 })
  return runs
}

/** Open a stream to `peer` and run `script` as the initiator. */
export async function dialRaw (host: Libp2p<any>, peer: Libp2p<any>, script: (io: RawIO) => Promise<void>): Promise<Ending> {
  const stream = await host.dialProtocol(peer.getMultiaddrs()[0] as never, antiEntropyProtocol('default'))
  return await drive(stream, script)
}

/**
 * Errors the muxer raises when the other side resets, as opposed to the script's own. The
 * framed stream reports a reset as an interruption caused by the muxer's error; an interruption
 * without such a cause is the script's own read deadline (the node went silent), never a reset.
 */
function isStreamError (err: unknown): boolean {
  const name = (err as Error | undefined)?.name ?? ''
  if (name === 'ExchangeInterruptedError') return isStreamError((err as Error).cause)
  return /Reset|Abort|Closed|Stream/i.test(name)
}
