/**
 * The change feed's log: one entry per change applied on this node (local writes and remote
 * merges that changed a key), with a node-local seq that only grows. The replica hands every
 * group commit's changes to `stage` and the entries join that commit's LevelDB batch, so the
 * feed never lists a change the store does not hold, and both survive `kill -9` together.
 *
 * Seqs are contiguous: a commit that fails gives its seqs back, and the pruner deletes from the
 * oldest end only. A reader therefore knows it missed nothing when each entry it reads is the
 * one after the last, and that the history is gone when it is not.
 */
import { randomBytes } from 'node:crypto'
import { setImmediate as yieldToWrites } from 'node:timers/promises'
import { FEED_PRUNE_BATCH } from '../constants.js'
import { HistoryGoneError, InvalidParamsError } from '../errors.js'
import type { AppliedChange, CommitHook } from '../replica/index.js'
import type { Store, StoreWrite } from '../store/index.js'
import { decodeFeedCursor, encodeFeedCursor } from './cursor.js'
import { decodeEntry, encodeEntryValue, readsAbsent, seqKey, seqOfKey, type FeedEntry } from './entry.js'

/** The meta record naming this data directory's feed (see cursor.ts). */
const INCARNATION_META = 'feedIncarnation'

export interface FeedPage {
  /** The entries read that match the prefix, in seq order. */
  entries: FeedEntry[]
  /** The last seq examined (matching or not): where the next page starts. */
  last: number
}

export interface ReadOptions {
  prefix?: string
  /** Most entries returned. */
  limit: number
  /** Most entries examined (prefix or not). */
  maxExamined: number
}

export class ChangeLog implements CommitHook {
  /** The seq the next committed change gets. */
  private next: number
  /** The oldest seq retained (== next while the log is empty). Moved before the pruner deletes. */
  private first: number
  /** Seqs handed out to the commit in flight. */
  private staged = 0

  private constructor (private readonly store: Store, private readonly node: string, private readonly incarnation: string, first: number, next: number) {
    this.first = first
    this.next = next
  }

  /** Opens the log of a store (giving the data directory its incarnation on first use). */
  static async open (store: Store, node: string): Promise<ChangeLog> {
    let incarnation = await store.getMeta(INCARNATION_META)
    if (incarnation === undefined || !/^[0-9a-f]{8,64}$/.test(incarnation)) {
      incarnation = randomBytes(8).toString('hex')
      await store.commit([store.metaWrite(INCARNATION_META, incarnation)])
    }
    const firstSeq = await edgeSeq(store, false)
    const lastSeq = await edgeSeq(store, true)
    const next = lastSeq === undefined ? 1 : lastSeq + 1
    return new ChangeLog(store, node, incarnation, firstSeq ?? next, next)
  }

  /** The seq of the latest committed change (0 before the first). */
  get head (): number {
    return this.next - 1
  }

  /** The oldest seq still retained (head + 1 when the log is empty). */
  get oldest (): number {
    return this.first
  }

  /** The cursor that stands after `seq`. */
  cursorAt (seq: number): string {
    return encodeFeedCursor({ node: this.node, incarnation: this.incarnation, seq })
  }

  // ---- the commit hook (replica/types.ts)

  stage (changes: ReadonlyArray<readonly [AppliedChange, unknown]>, atMs: number): StoreWrite[] {
    const writes: StoreWrite[] = []
    let seq = this.next
    for (const [change, state] of changes) {
      change.seq = seq
      writes.push({ sublevel: 'feed', key: seqKey(seq), value: encodeEntryValue(change.storeKey, change.origin, readsAbsent(change.space, state), atMs) })
      seq++
    }
    this.staged = changes.length
    return writes
  }

  settle (committed: boolean): void {
    if (committed) this.next += this.staged
    this.staged = 0
  }

  // ---- reading

  /**
   * The seq a `since` cursor stands at. -32602 naming `field` for text that is no cursor, a
   * cursor of another node or data directory, or one ahead of this log; ERR_HISTORY_GONE when
   * the changes after it were pruned.
   */
  resolveSince (text: unknown, field = 'since'): number {
    const cursor = decodeFeedCursor(text)
    if ('problem' in cursor) throw new InvalidParamsError(`${field}: ${cursor.problem}`, { data: { field } })
    if (cursor.node !== this.node || cursor.incarnation !== this.incarnation) {
      const whose = cursor.node !== this.node ? `node ${cursor.node}` : 'an earlier incarnation of this node\'s data directory (it was reset)'
      throw new InvalidParamsError(`${field}: this cursor was issued by ${whose}, not by this node's change feed (node ${this.node}); a cursor resumes only on the node and data directory that issued it. Re-read what you need (kv.scan) and resume from data.cursor`, { data: { field, reason: 'foreign-cursor', cursor: this.cursorAt(this.head) } })
    }
    if (cursor.seq > this.head) {
      throw new InvalidParamsError(`${field}: this cursor stands at change ${cursor.seq}, after the latest this node has (${this.head}): was the data directory restored from a copy? Re-read and resume from data.cursor`, { data: { field, reason: 'future-cursor', cursor: this.cursorAt(this.head) } })
    }
    this.checkRetained(cursor.seq)
    return cursor.seq
  }

  /** ERR_HISTORY_GONE unless every change after `after` is still retained. */
  checkRetained (after: number): void {
    if (after + 1 >= this.first) return
    throw new HistoryGoneError(`the change feed no longer holds the changes after this cursor (it keeps changes ${this.first} to ${this.head}; the cursor stands at ${after}): re-read what you need (kv.scan…), then resume from data.cursor, taken before the re-read`, {
      data: { cursor: this.cursorAt(this.head), oldest: this.cursorAt(this.first - 1) }
    })
  }

  /**
   * The changes after seq `after`, in seq order. Throws ERR_HISTORY_GONE when some were pruned,
   * also while this read was under way (the seqs read are contiguous, or something is gone).
   */
  async read (after: number, options: ReadOptions): Promise<FeedPage> {
    this.checkRetained(after)
    const entries: FeedEntry[] = []
    let last = after
    for await (const [key, value] of this.store.entriesOf('feed', { gt: seqKey(after), limit: options.maxExamined })) {
      const seq = seqOfKey(key)
      if (seq === undefined) continue
      // A seq skipped below the retained ones: the pruner took it after this read began.
      if (seq !== last + 1) this.checkRetained(last)
      last = seq
      const entry = decodeEntry(key, value)
      if (entry === undefined || (options.prefix !== undefined && !entry.key.startsWith(options.prefix))) continue
      entries.push(entry)
      if (entries.length >= options.limit) break
    }
    // Nothing read although there was something to read: pruned under us.
    if (last === after) this.checkRetained(after)
    return { entries, last }
  }

  // ---- retention

  /** Deletes the oldest entries until at most `retain` remain, FEED_PRUNE_BATCH per batch. */
  async prune (retain: number): Promise<number> {
    let pruned = 0
    while (true) {
      const keepFrom = this.next - retain
      if (this.first >= keepFrom) return pruned
      const from = this.first
      const upTo = Math.min(keepFrom, from + FEED_PRUNE_BATCH)
      const writes: StoreWrite[] = []
      for (let seq = from; seq < upTo; seq++) writes.push({ sublevel: 'feed', key: seqKey(seq) })
      // Before the delete: a reader that meets the hole must already see it as pruned.
      this.first = upTo
      try {
        await this.store.commit(writes)
      } catch (err) {
        // Nothing was deleted: the next pass starts from the same place.
        this.first = from
        throw err
      }
      pruned += upTo - from
      await yieldToWrites()
    }
  }
}

/** The first (or last) seq stored, if any. */
async function edgeSeq (store: Store, last: boolean): Promise<number | undefined> {
  for await (const [key] of store.entriesOf('feed', { limit: 1, reverse: last })) {
    const seq = seqOfKey(key)
    if (seq !== undefined) return seq
  }
  return undefined
}
