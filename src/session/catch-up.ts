/**
 * Waiting for a session token: a call that carries a token waits until this node covers it
 * (session/positions.ts), and meanwhile the node asks for what it lacks. One catch-up round runs
 * at a time, for every waiting call at once:
 *
 * 1. the nodes the waiting tokens name that this node does not cover, and how far;
 * 2. the connected peers, those lagging nodes first (a node's own position always covers what
 *    it showed), then the others: each is asked its session vector (one round trip, cheap)
 *    until one covers some of what is missing;
 * 3. a complete anti-entropy exchange with that peer (an explicit sync: nothing left out); if it
 *    merged every state the peer sent, the vector asked before it is adopted — this node now
 *    holds everything the peer held then — and persisted after the states it relied on.
 *
 * When no connected peer covers anything missing, the round ends after SESSION_RETRY_MS and the
 * next one asks again (a peer may have caught up, a partition may have healed).
 */
import type { Logger } from 'pino'
import { SESSION_RETRY_MS } from '../constants.js'
import { SessionTimeoutError } from '../errors.js'
import type { SessionPositions } from './positions.js'
import { comparePositions, formatPosition, laterPosition, type Position, type SessionVector } from './vector.js'

/** Peers asked for their vector in one round, beyond the lagging nodes themselves. */
const MAX_PEERS_ASKED = 8

export interface CatchUpComponents {
  positions: SessionPositions
  /** Peer ids connected now. */
  connectedPeers: () => string[]
  /** A peer's session vector (session/vector-protocol.ts). */
  query: (peer: string) => Promise<SessionVector>
  /** A complete exchange with the peer; true when every state it sent was merged. */
  exchange: (peer: string) => Promise<boolean>
  /** Commits the catch-up vector (after the exchange's states are committed). */
  persist: () => Promise<void>
  logger: Logger
  /** @default SESSION_RETRY_MS */
  retryMs?: number
}

export class CatchUp {
  private readonly waiting = new Set<SessionVector>()
  private round: Promise<void> | undefined
  private stopped = false
  /** Rounds run and exchanges they made (metrics, tests). */
  readonly stats = { rounds: 0, exchanges: 0, adopted: 0 }

  constructor (private readonly c: CatchUpComponents) {}

  stop (): void {
    this.stopped = true
  }

  /** Resolves once this node covers `token`; SessionTimeoutError after `timeoutMs`. */
  async wait (token: SessionVector, timeoutMs: number): Promise<void> {
    const { positions } = this.c
    if (positions.lagging(token).size === 0) return
    const deadline = performance.now() + timeoutMs
    this.waiting.add(token)
    let timer: NodeJS.Timeout | undefined
    try {
      const expired = new Promise<'expired'>(resolve => { timer = setTimeout(() => { resolve('expired') }, timeoutMs) })
      for (;;) {
        const lag = positions.lagging(token)
        if (lag.size === 0) return
        if (performance.now() >= deadline || this.stopped) throw timeoutError(lag, timeoutMs)
        const outcome = await Promise.race([expired, positions.changed(), this.startRound()])
        if (outcome === 'expired') {
          const left = positions.lagging(token)
          if (left.size === 0) return
          throw timeoutError(left, timeoutMs)
        }
      }
    } finally {
      clearTimeout(timer)
      this.waiting.delete(token)
    }
  }

  /** The round in flight, or a new one. */
  private async startRound (): Promise<void> {
    this.round ??= this.runRound().finally(() => { this.round = undefined })
    await this.round
  }

  private async runRound (): Promise<void> {
    this.stats.rounds++
    const missing = this.missing()
    if (missing.size === 0) {
      // Only this node's own commit in flight is awaited: positions.changed() wakes the waiters.
      await sleep(this.c.retryMs ?? SESSION_RETRY_MS)
      return
    }
    for (const peer of this.candidates(missing)) {
      if (this.stopped) return
      let vector: SessionVector
      try {
        vector = await this.c.query(peer)
      } catch (err) {
        this.c.logger.debug({ err, peer }, 'session vector query failed')
        continue
      }
      if (!coversAny(vector, missing)) continue
      try {
        this.stats.exchanges++
        if (!await this.c.exchange(peer)) continue
      } catch (err) {
        this.c.logger.debug({ err, peer }, 'session catch-up exchange failed')
        continue
      }
      if (this.c.positions.adopt(vector)) {
        this.stats.adopted++
        await this.c.persist().catch((err: unknown) => { this.c.logger.warn({ err }, 'could not persist the session catch-up vector') })
      }
      return
    }
    await sleep(this.c.retryMs ?? SESSION_RETRY_MS)
  }

  /** What the waiting tokens name that this node lacks, this node itself aside. */
  private missing (): Map<string, Position> {
    const out = new Map<string, Position>()
    for (const token of this.waiting) {
      for (const [node, pos] of this.c.positions.lagging(token)) {
        if (node !== this.c.positions.self) out.set(node, laterPosition(out.get(node), pos))
      }
    }
    return out
  }

  /** The lagging nodes that are connected, then other connected peers in random order. */
  private candidates (missing: Map<string, Position>): string[] {
    const connected = [...new Set(this.c.connectedPeers())]
    const direct = connected.filter(p => missing.has(p))
    const others = connected.filter(p => !missing.has(p))
    for (let i = others.length - 1; i > 0; i--) {
      const j = Math.floor(Math.random() * (i + 1))
      ;[others[i], others[j]] = [others[j] as string, others[i] as string]
    }
    return [...direct, ...others.slice(0, MAX_PEERS_ASKED)]
  }
}

function coversAny (vector: SessionVector, missing: Map<string, Position>): boolean {
  for (const [node, pos] of missing) {
    const have = vector.get(node)
    if (have !== undefined && comparePositions(have, pos) >= 0) return true
  }
  return false
}

function timeoutError (lag: Map<string, Position>, timeoutMs: number): SessionTimeoutError {
  const lagging = [...lag].map(([node, pos]) => ({ node, position: formatPosition(pos) }))
  return new SessionTimeoutError(`this node did not catch up with the session within ${timeoutMs} ms: it lacks writes of ${lagging.map(l => l.node).join(', ')} (unreachable, or no connected peer holds them yet)`, { data: { lagging, timeoutMs } })
}

async function sleep (ms: number): Promise<void> {
  await new Promise(resolve => setTimeout(resolve, ms).unref())
}
