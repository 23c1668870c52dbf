/**
 * Session positions and vectors (pure).
 *
 * A node's *position* is `(incarnation, commits)`: `incarnation` goes up by one at every start
 * (persisted before the node serves anything), `commits` counts the group commits that wrote
 * data since that start. Positions of one node are totally ordered, and a node's state only grows
 * along them: a node at position p holds every state it held at any position ≤ p (its commits
 * are durable before they are visible, and a restart keeps what was committed).
 *
 * A *vector* maps node ids to positions: "this holds everything node o held at position v[o]".
 * A client's session token and a node's catch-up record (session/positions.ts) are both vectors.
 */

export interface Position {
  /** Starts of the node's data directory, this one included (≥ 1). */
  readonly incarnation: number
  /** Group commits that wrote data since that start. */
  readonly commits: number
}

export type SessionVector = ReadonlyMap<string, Position>

export function comparePositions (a: Position, b: Position): number {
  if (a.incarnation !== b.incarnation) return a.incarnation < b.incarnation ? -1 : 1
  if (a.commits !== b.commits) return a.commits < b.commits ? -1 : 1
  return 0
}

/** The later of two positions (undefined counts as nothing). */
export function laterPosition (a: Position | undefined, b: Position): Position {
  return a === undefined || comparePositions(b, a) > 0 ? b : a
}

/** Per node, the later position of the two vectors. */
export function mergeVectors (a: SessionVector, b: SessionVector): Map<string, Position> {
  const out = new Map(a)
  for (const [node, pos] of b) out.set(node, laterPosition(out.get(node), pos))
  return out
}

/**
 * The nodes of `wanted` that `held` does not cover, with the position wanted. `self` (this
 * node's id) is compared with `own`, this node's current position.
 */
export function uncovered (wanted: SessionVector, held: SessionVector, self: string, own: Position): Map<string, Position> {
  const out = new Map<string, Position>()
  for (const [node, pos] of wanted) {
    const have = node === self ? own : held.get(node)
    if (have === undefined || comparePositions(have, pos) < 0) out.set(node, pos)
  }
  return out
}

/** `incarnation.commits`, the form errors show. */
export function formatPosition (pos: Position): string {
  return `${pos.incarnation}.${pos.commits}`
}
