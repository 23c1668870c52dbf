/**
 * Version vectors: for each node, the highest event counter seen from it. Immutable; every
 * function returns a new object and never mutates its arguments.
 */

export type VersionVector = Readonly<Record<string, number>>

/** A single event: the `counter`-th event that `node` created (for one key). */
export interface Dot {
  readonly node: string
  readonly counter: number
}

export const EMPTY_VV: VersionVector = Object.freeze({})

export function vvGet (vv: VersionVector, node: string): number {
  // Own properties only: "constructor" and "toString" are valid (base58) node ids.
  return Object.hasOwn(vv, node) ? vv[node] as number : 0
}

/** Pointwise maximum: the least vector that has seen everything either has seen. */
export function vvJoin (a: VersionVector, b: VersionVector): VersionVector {
  const out: Record<string, number> = { ...a }
  for (const [node, n] of Object.entries(b)) {
    if (n > vvGet(out, node)) out[node] = n
  }
  return out
}

/** Extend a vector with one dot. */
export function vvAdd (vv: VersionVector, dot: Dot): VersionVector {
  if (vvGet(vv, dot.node) >= dot.counter) return vv
  return { ...vv, [dot.node]: dot.counter }
}

/** Has `vv` seen `dot`? */
export function vvCovers (vv: VersionVector, dot: Dot): boolean {
  return dot.counter <= vvGet(vv, dot.node)
}

/** Has `a` seen everything `b` has? */
export function vvDescends (a: VersionVector, b: VersionVector): boolean {
  for (const [node, n] of Object.entries(b)) {
    if (n > vvGet(a, node)) return false
  }
  return true
}

export function vvEquals (a: VersionVector, b: VersionVector): boolean {
  return vvDescends(a, b) && vvDescends(b, a)
}

export function dotEquals (a: Dot, b: Dot): boolean {
  return a.node === b.node && a.counter === b.counter
}

/** A total order on dots, used to keep sibling lists canonical. */
export function compareDots (a: Dot, b: Dot): number {
  if (a.node !== b.node) return a.node < b.node ? -1 : 1
  return a.counter - b.counter
}

/** A vector is valid when every entry is a positive safe integer under a non-empty node id. */
export function isValidVersionVector (value: unknown): value is VersionVector {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false
  for (const [node, n] of Object.entries(value)) {
    if (node.length === 0 || typeof n !== 'number' || !Number.isSafeInteger(n) || n < 1) return false
  }
  return true
}
