/**
 * The start-up check of a node that returns after the member TTL (docs/consistency.md,
 * "Members"). Its peers stop waiting for a member unseen for the TTL and may then collect
 * tombstones it never received; the records of collected keys expire with the same TTL, so
 * its copies of those keys would come back as live data. Hence the rule, on its own side:
 *
 * - the last contact with the cluster is the newest `lastSeenMs` among the remembered
 *   members (persisted on every sweep and at stop, so it is at most one sweep old);
 * - if that is older than the member TTL and the node holds keys, it is stale: it refuses to
 *   start until reset (or until the operator vouches for it with --accept-stale-data);
 * - if it holds no keys there is nothing to bring back: it forgets the old members and starts.
 *
 * A node that keeps running while every member is away drops them one by one (each expires
 * and is refused, node/refused-peers.ts), so at its next start it has no stale members: it is
 * the survivor, and the side that was away is the one refused.
 */
import type { Logger } from 'pino'
import { StaleDataError } from '../errors.js'
import type { Membership } from './membership.js'
import { formatAge } from '../util/format-age.js'

export type StaleVerdict =
  | { kind: 'fresh' }
  /** Away past the TTL with nothing stored: start afresh. */
  | { kind: 'stale-empty', awayMs: number }
  | { kind: 'stale', awayMs: number }

export interface StaleInput {
  /** Newest member lastSeenMs (0 with no members). */
  lastContactMs: number
  now: number
  ttlMs: number
  /** Keys stored, tombstones included. */
  keys: number
}

export function staleVerdict (input: StaleInput): StaleVerdict {
  if (input.lastContactMs === 0) return { kind: 'fresh' }
  const awayMs = input.now - input.lastContactMs
  if (awayMs <= input.ttlMs) return { kind: 'fresh' }
  return input.keys > 0 ? { kind: 'stale', awayMs } : { kind: 'stale-empty', awayMs }
}

/** The error a stale node stops with: what happened, and the two ways out. */
export function staleDataError (awayMs: number, ttlMs: number, dataDir: string): StaleDataError {
  return new StaleDataError(
    `this node last saw its cluster ${formatAge(awayMs)} ago, longer than the member TTL (${formatAge(ttlMs)}): ` +
    'its peers have stopped waiting for it and may have collected tombstones of keys it still holds, which would come back to life. ' +
    `Reset it: stop it, move the data directory aside (mv ${dataDir} ${dataDir}.stale) and start it again with an empty --data; it re-syncs from its peers under a new peer id ` +
    '(keys written only here while it was away are lost; read them from the old directory first if they matter). ' +
    'Only if no node of the cluster ran meanwhile (the whole cluster was stopped), start every node once with --accept-stale-data.',
    { data: { awayMs, memberTtlMs: ttlMs } }
  )
}

export interface ReturnCheck {
  membership: Membership
  keys: number
  now: number
  ttlMs: number
  dataDir: string
  acceptStaleData: boolean
  logger: Logger
}

/**
 * Run at start, before anything replicates: throws StaleDataError for a stale node with data
 * (unless the operator vouched for it), forgets the old members of a stale node without data.
 */
export function checkReturn (c: ReturnCheck): void {
  // An unreadable members record tells nothing about the last contact (GC waits a TTL instead).
  const verdict = staleVerdict({ lastContactMs: c.membership.incomplete ? 0 : c.membership.lastContactMs(), now: c.now, ttlMs: c.ttlMs, keys: c.keys })
  if (verdict.kind === 'fresh') return
  if (verdict.kind === 'stale-empty') {
    c.logger.info({ awayMs: verdict.awayMs }, 'away longer than the member TTL with no data: the old members are forgotten, this node joins afresh')
    c.membership.clear()
    return
  }
  if (!c.acceptStaleData) throw staleDataError(verdict.awayMs, c.ttlMs, c.dataDir)
  c.logger.warn({ awayMs: verdict.awayMs }, '--accept-stale-data: starting although this node was away longer than the member TTL; its remembered members count as seen now')
  c.membership.vouchAll(c.now)
}
