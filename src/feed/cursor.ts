/**
 * Change-feed cursors: opaque to clients, they name the node that issued them (its peer id),
 * the incarnation of its data directory (a random id made when the feed was first opened, so a
 * directory that was reset issues different cursors) and the last seq the consumer has seen.
 * A cursor is only meaningful on the log that issued it: two logs reuse the same seqs.
 *
 * Text: base64url of `f1 <incarnation> <seq> <peerId>`. Pure.
 */
import { MAX_FEED_CURSOR_CHARS } from '../constants.js'

export interface FeedCursor {
  /** Peer id of the issuing node. */
  node: string
  /** The data directory's feed incarnation (hex). */
  incarnation: string
  /** Every change up to and including this seq has been seen; 0 = none. */
  seq: number
}

const VERSION = 'f1'
const INCARNATION = /^[0-9a-f]{8,64}$/
const NODE = /^[A-Za-z0-9]{1,128}$/
const SEQ = /^(0|[1-9][0-9]{0,15})$/

export function encodeFeedCursor (cursor: FeedCursor): string {
  return Buffer.from(`${VERSION} ${cursor.incarnation} ${cursor.seq} ${cursor.node}`, 'utf8').toString('base64url')
}

/** The cursor a text holds, or a reason it holds none (a message fragment). */
export function decodeFeedCursor (text: unknown): FeedCursor | { problem: string } {
  if (typeof text !== 'string' || text.length === 0) return { problem: 'must be a cursor string returned by kv.changes or kv.watch' }
  if (text.length > MAX_FEED_CURSOR_CHARS) return { problem: `is not a cursor (longer than ${MAX_FEED_CURSOR_CHARS} characters)` }
  if (!/^[A-Za-z0-9_-]+$/.test(text)) return { problem: 'is not a cursor returned by kv.changes or kv.watch (not base64url)' }
  const parts = Buffer.from(text, 'base64url').toString('utf8').split(' ')
  const [version, incarnation, seq, node] = parts
  if (parts.length !== 4 || version !== VERSION || incarnation === undefined || seq === undefined || node === undefined ||
      !INCARNATION.test(incarnation) || !SEQ.test(seq) || !NODE.test(node)) {
    return { problem: 'is not a cursor returned by kv.changes or kv.watch' }
  }
  const n = Number(seq)
  if (!Number.isSafeInteger(n)) return { problem: 'is not a cursor returned by kv.changes or kv.watch (seq out of range)' }
  return { node, incarnation, seq: n }
}
