/**
 * What this node knows for sessions: its own position (session/vector.ts) and its catch-up
 * vector — for each other node o, a position of o whose whole state this node is known to hold
 * (learnt by a complete anti-entropy exchange, session/catch-up.ts).
 *
 * Persisted under two meta records: the incarnation (bumped and committed at every start,
 * before the node serves anything) and the catch-up vector (committed after the exchange that
 * advanced it, whose states were committed first). A crash between the two leaves the vector
 * behind what the store holds, never ahead of it.
 */
import { MAX_SESSION_VECTOR_ENTRIES } from '../constants.js'
import type { Store } from '../store/index.js'
import { decodeVector, encodeVector } from './codec.js'
import { comparePositions, laterPosition, uncovered, type Position, type SessionVector } from './vector.js'

const INCARNATION_META = 'sessionIncarnation'
const VECTOR_META = 'sessionVector'

export class SessionPositions {
  /** Commits begun: what a read may already show (a commit is visible a moment before it resolves). */
  private started = 0
  /** Commits ended: what this node surely holds. */
  private done = 0
  private readonly vector: Map<string, Position>
  /** Settled at the next advance; one promise shared by every waiter until then. */
  private next: { promise: Promise<void>, resolve: () => void } | undefined

  private constructor (readonly self: string, readonly incarnation: number, vector: Map<string, Position>) {
    this.vector = vector
  }

  /** Loads the record, and commits the next incarnation before returning it. */
  static async open (store: Store, self: string): Promise<SessionPositions> {
    const previous = Number(await store.getMeta(INCARNATION_META) ?? '0')
    const incarnation = (Number.isSafeInteger(previous) && previous >= 0 ? previous : 0) + 1
    await store.commit([store.metaWrite(INCARNATION_META, String(incarnation))])
    const stored = await store.getMeta(VECTOR_META)
    // An unreadable record is forgotten: the node then catches up again, which is only slower.
    const decoded = stored === undefined ? undefined : decodeVector(Buffer.from(stored, 'base64url'), MAX_SESSION_VECTOR_ENTRIES)
    const vector = decoded === undefined || typeof decoded === 'string' ? new Map<string, Position>() : decoded
    vector.delete(self)
    return new SessionPositions(self, incarnation, vector)
  }

  /** The position this node surely holds: every commit up to it has ended. */
  own (): Position {
    return { incarnation: this.incarnation, commits: this.done }
  }

  /**
   * The position a result may claim: it counts the commit in flight too, since a read can see
   * a commit's states before the commit's promise resolves. Claiming more than a node shows is
   * safe (a later call waits a moment longer); claiming less is not.
   */
  shown (): Position {
    return { incarnation: this.incarnation, commits: this.started }
  }

  /**
   * Called before a group commit that writes data; returns what to call once that commit
   * ended (stored or failed: a failed commit stored nothing, and nothing waits on it forever).
   */
  committing (): () => void {
    this.started++
    let ended = false
    return () => {
      if (ended) return
      ended = true
      this.done++
      this.advanced()
    }
  }

  /** Resolves at the next advance (a commit ended, or an adoption). */
  async changed (): Promise<void> {
    if (this.next === undefined) {
      let resolve!: () => void
      const promise = new Promise<void>(r => { resolve = r })
      this.next = { promise, resolve }
    }
    await this.next.promise
  }

  private advanced (): void {
    const next = this.next
    this.next = undefined
    next?.resolve()
  }

  /** The catch-up vector with this node's own position: what a peer may adopt from us. */
  advertised (): Map<string, Position> {
    const out = new Map(this.vector)
    out.set(this.self, this.own())
    return out
  }

  /** Nodes of a token this node does not cover yet, with the positions wanted. */
  lagging (token: SessionVector): Map<string, Position> {
    return uncovered(token, this.vector, this.self, this.own())
  }

  /**
   * After a complete exchange that merged everything a peer held when it advertised `vector`:
   * we now hold what it held, so its knowledge becomes ours. Returns whether anything advanced.
   */
  adopt (vector: SessionVector): boolean {
    let advanced = false
    for (const [node, pos] of vector) {
      if (node === this.self) continue
      const have = this.vector.get(node)
      if (have !== undefined && comparePositions(have, pos) >= 0) continue
      // Past the bound, only nodes already known advance (losing one is only slower, never wrong).
      if (have === undefined && this.vector.size >= MAX_SESSION_VECTOR_ENTRIES) continue
      this.vector.set(node, laterPosition(have, pos))
      advanced = true
    }
    if (advanced) this.advanced()
    return advanced
  }

  /** The record to commit after the data the adoption relied on is committed. */
  persistWrite (store: Store): ReturnType<Store['metaWrite']> {
    return store.metaWrite(VECTOR_META, Buffer.from(encodeVector(this.vector)).toString('base64url'))
  }
}
