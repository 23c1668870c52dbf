/**
 * One request, one reply, over a length-prefixed libp2p stream: the shape of the small
 * protocols that ask a peer one thing (node/time-sync.ts, session/vector-protocol.ts). Both
 * ends are bounded by the caller's signal and by the largest frame they accept.
 */
import type { Stream } from '@libp2p/interface'
import * as lp from 'it-length-prefixed'
import { pipe } from 'it-pipe'

/** Sends `request` and resolves with the peer's one reply (undefined if it closed without one). */
export async function askOnce (stream: Stream, request: Uint8Array, maxReplyBytes: number, signal: AbortSignal): Promise<Uint8Array | undefined> {
  return await withSignal(pipe(
    [request],
    (source) => lp.encode(source),
    stream,
    (source) => lp.decode(source, { maxDataLength: maxReplyBytes }),
    async (source) => { for await (const frame of source) return frame.subarray() }
  ), signal)
}

/** Waits for one request and answers it with `reply()`, read at the moment of answering. */
export async function answerOnce (stream: Stream, maxRequestBytes: number, reply: () => Uint8Array, signal: AbortSignal): Promise<void> {
  await withSignal(pipe(
    stream,
    (source) => lp.decode(source, { maxDataLength: maxRequestBytes }),
    async function * (source) {
      for await (const _request of source) {
        yield reply()
        return
      }
    },
    (source) => lp.encode(source),
    stream
  ), signal)
}

/** `work`, or the signal's reason once it aborts (a stalled pipe is left to the caller to abort). */
async function withSignal<T> (work: Promise<T>, signal: AbortSignal): Promise<T> {
  signal.throwIfAborted()
  let onAbort: (() => void) | undefined
  const aborted = new Promise<never>((_resolve, reject) => {
    onAbort = () => { reject(signal.reason) }
    signal.addEventListener('abort', onAbort, { once: true })
  })
  try {
    return await Promise.race([work, aborted])
  } finally {
    if (onAbort !== undefined) signal.removeEventListener('abort', onAbort)
  }
}
