/**
 * kv.changes and kv.watch over the change feed (feed/): a page of the log, and a subscription
 * that replays the log after a cursor and then goes on live, each change once and in order.
 */
import { DEFAULT_FEED_LIMIT, FEED_REPLAY_PAGE, MAX_FEED_EXAMINED, MAX_FEED_LIMIT, MAX_FEED_REPLAY_BUFFER } from '../constants.js'
import { HistoryGoneError, InvalidParamsError } from '../errors.js'
import type { ChangeLog, FeedEntry } from '../feed/index.js'
import { keyBoundProblem } from '../model/validate.js'
import type { AppliedChange, Replica } from '../replica/index.js'
import type { ChangeEntry, ChangeEvent, ChangesOptions, ChangesResult, FeedWatch } from './api.js'
import { changeEvent } from './views.js'

export interface ChangeFeedParts {
  log: ChangeLog
  replica: Replica
}

function checkLimit (limit: unknown): number {
  if (limit === undefined || limit === null) return DEFAULT_FEED_LIMIT
  if (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 1 || limit > MAX_FEED_LIMIT) {
    throw new InvalidParamsError(`limit: must be an integer from 1 to ${MAX_FEED_LIMIT}`, { data: { field: 'limit' } })
  }
  return limit
}

function checkPrefix (prefix: unknown): string {
  if (prefix === undefined || prefix === null) return ''
  const problem = keyBoundProblem(prefix)
  if (problem !== undefined) throw new InvalidParamsError(`prefix: ${problem}`, { data: { field: 'prefix' } })
  return prefix as string
}

function toChangeEntry (entry: FeedEntry): ChangeEntry {
  return { seq: entry.seq, space: entry.space as ChangeEntry['space'], key: entry.key, origin: entry.origin, deleted: entry.deleted, at: new Date(entry.atMs).toISOString() }
}

/** kv.changes: the changes after `since` (or from the oldest retained), at most `limit`. */
export async function changesPage ({ log }: ChangeFeedParts, options: ChangesOptions = {}): Promise<ChangesResult> {
  const limit = checkLimit(options.limit)
  const prefix = checkPrefix(options.prefix)
  const since = options.since === undefined || options.since === null ? undefined : log.resolveSince(options.since)
  const read = async (after: number): Promise<ChangesResult> => {
    const page = await log.read(after, { ...(prefix !== '' ? { prefix } : {}), limit, maxExamined: MAX_FEED_EXAMINED })
    return { changes: page.entries.map(toChangeEntry), cursor: log.cursorAt(page.last) }
  }
  if (since !== undefined) return await read(since)
  try {
    return await read(log.oldest - 1)
  } catch (err) {
    // From the oldest: the pruner moved it while we read; start again from the new oldest.
    if (err instanceof HistoryGoneError) return await read(log.oldest - 1)
    throw err
  }
}

/**
 * A feed subscription. Live changes are subscribed to first and held while the log after
 * `since` is replayed: every change after `heldFrom` (the feed's head when holding began) is
 * held, so once the replay has delivered up to `heldFrom` the held changes not yet delivered
 * follow and the subscription goes live — it catches up under any write load, since the replay
 * chases a fixed point, not the moving head. Every change is delivered once, by seq. Held
 * changes are bounded: past MAX_FEED_REPLAY_BUFFER they are dropped, and holding starts again
 * from the head, so the replay reads the dropped ones from the log instead.
 */
export function watchFeed ({ log, replica }: ChangeFeedParts, options: { prefix: string, since?: string }, listener: (event: ChangeEvent) => void, onEnd: (err: unknown) => void): FeedWatch {
  const prefix = checkPrefix(options.prefix)
  const since = options.since === undefined ? undefined : log.resolveSince(options.since)
  let delivered = since ?? log.head
  const cursor = log.cursorAt(delivered)
  let live = since === undefined
  let held: Array<[AppliedChange, unknown]> = []
  /** Every change after this seq is in `held` (listeners run right after the commit that set the head). */
  let heldFrom = log.head
  let ended = false

  const deliver = (change: AppliedChange, decoded: unknown): void => {
    const seq = change.seq as number
    delivered = seq
    listener({ ...changeEvent(change.space, change.key, decoded, change.origin, replica.readTime()), seq, cursor: log.cursorAt(seq) })
  }
  const unsubscribe = replica.onChange((change, decoded) => {
    if (ended || !change.key.startsWith(prefix)) return
    if (live) {
      if (change.seq === undefined || change.seq > delivered) deliver(change, decoded)
    } else if (held.length >= MAX_FEED_REPLAY_BUFFER) {
      held = []
      heldFrom = log.head // this change included: the replay reads it from the log
    } else {
      held.push([change, decoded])
    }
  })
  const end = (err: unknown): void => {
    if (ended) return
    ended = true
    unsubscribe()
    onEnd(err)
  }

  const replay = async (): Promise<void> => {
    while (!ended) {
      if (delivered >= heldFrom) {
        // Replayed up to where holding began: the held changes close the gap.
        live = true
        for (const [change, decoded] of held) if ((change.seq ?? 0) > delivered) deliver(change, decoded)
        held = []
        return
      }
      const page = await log.read(delivered, { ...(prefix !== '' ? { prefix } : {}), limit: FEED_REPLAY_PAGE, maxExamined: FEED_REPLAY_PAGE * 4 })
      for (const entry of page.entries) {
        const state = await replica.read(entry.space, entry.key)
        if (ended) return
        delivered = entry.seq
        listener({ ...changeEvent(entry.space, entry.key, state, entry.origin, replica.readTime()), seq: entry.seq, cursor: log.cursorAt(entry.seq), replayed: true })
      }
      delivered = Math.max(delivered, page.last)
    }
  }
  // After the caller has answered the subscription: its id must reach the client first.
  if (!live) setImmediate(() => { replay().catch(end) })
  return { cursor, unsubscribe: () => { ended = true; unsubscribe() } }
}
