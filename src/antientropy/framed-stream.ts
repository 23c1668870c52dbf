/**
 * One libp2p stream seen as a sequence of length-prefixed frames, with a deadline on every
 * read and write and byte counters (the SyncReport's bytes are what crossed this stream,
 * length prefixes included).
 */
import type { Stream } from '@libp2p/interface'
import * as lp from 'it-length-prefixed'
import type { Uint8ArrayList } from 'uint8arraylist'
import { interrupted, violation } from './wire.js'

/** What the muxer throws at a reader once the remote reset or abandoned the stream. */
const STREAM_GONE = new Set(['StreamResetError', 'StreamStateError'])

export interface FramedStreamOptions {
  maxFrameBytes: number
  /** Deadline of each read and write. */
  timeoutMs: number
  /** Aborts everything (the exchange deadline, or shutdown). */
  signal: AbortSignal
}

interface Outgoing { bytes: Uint8Array, taken: () => void }

export class FramedStream {
  bytesIn = 0
  bytesOut = 0
  private readonly reader: AsyncIterator<Uint8ArrayList>
  private readonly queue: Outgoing[] = []
  private wake: (() => void) | undefined
  private ended = false
  private readonly sinkDone: Promise<void>
  private sinkError: unknown

  constructor (private readonly stream: Stream, private readonly options: FramedStreamOptions) {
    this.reader = lp.decode(stream.source, { maxDataLength: options.maxFrameBytes })[Symbol.asyncIterator]()
    this.sinkDone = stream.sink(this.outgoing()).catch((err: unknown) => { this.sinkError = err })
  }

  /** Next frame, or undefined when the remote closed its side. */
  async read (): Promise<Uint8Array | undefined> {
    const result = await this.deadline(this.reader.next(), 'read').catch((err: unknown) => {
      // The peer reset the stream (it was stopped, or gave the exchange up): not our failure.
      if (STREAM_GONE.has((err as Error | undefined)?.name ?? '')) throw interrupted('the peer reset the stream', err)
      throw err
    })
    if (result.done === true) return undefined
    const frame = result.value.subarray()
    this.bytesIn += frame.length + varintLength(frame.length)
    return frame
  }

  /** Resolves once the muxer took the frame, so a long stream of frames cannot pile up in memory. */
  async write (frame: Uint8Array): Promise<void> {
    if (this.ended) throw violation('write after end')
    if (frame.length > this.options.maxFrameBytes) throw violation(`frame of ${frame.length} bytes exceeds the limit`)
    if (this.sinkError !== undefined) throw interrupted('stream closed while writing', this.sinkError)
    const taken = new Promise<void>(resolve => {
      this.queue.push({ bytes: frame, taken: resolve })
    })
    this.wake?.()
    await this.deadline(taken, 'write')
  }

  /** Ends our side gracefully and waits for the muxer to flush it. */
  async close (): Promise<void> {
    this.ended = true
    this.wake?.()
    await this.deadline(this.sinkDone, 'close')
    await this.stream.close({ signal: AbortSignal.timeout(this.options.timeoutMs) }).catch(() => {})
  }

  /** Reset: the remote's reads fail at once. */
  abort (err: Error): void {
    this.ended = true
    this.stream.abort(err)
    this.wake?.()
  }

  private async * outgoing (): AsyncGenerator<Uint8Array> {
    while (true) {
      const next = this.queue.shift()
      if (next !== undefined) {
        next.taken()
        const framed = lp.encode.single(next.bytes).subarray()
        this.bytesOut += framed.length
        yield framed
        continue
      }
      if (this.ended) return
      await new Promise<void>(resolve => { this.wake = resolve })
      this.wake = undefined
    }
  }

  /** Race `work` against the per-operation timeout and the exchange's signal (timers, not AbortSignal.any, which leaks listeners on long-lived signals in Node 20). */
  private async deadline<T> (work: Promise<T>, what: string): Promise<T> {
    const parent = this.options.signal
    if (parent.aborted) throw interrupted(`${what} aborted`, parent.reason)
    let timer: NodeJS.Timeout | undefined
    let onAbort: (() => void) | undefined
    const aborted = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => { reject(interrupted(`${what} timed out after ${this.options.timeoutMs} ms`)) }, this.options.timeoutMs)
      onAbort = () => { reject(interrupted(`${what} aborted`, parent.reason)) }
      parent.addEventListener('abort', onAbort, { once: true })
    })
    try {
      return await Promise.race([work, aborted])
    } finally {
      clearTimeout(timer)
      if (onAbort !== undefined) parent.removeEventListener('abort', onAbort)
    }
  }
}

function varintLength (n: number): number {
  let len = 1
  while (n >= 0x80) { n = Math.floor(n / 128); len++ }
  return len
}
