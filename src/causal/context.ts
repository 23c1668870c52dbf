/**
 * Causal contexts: what a client has seen of one key, carried from a read (or a write) to the
 * next write. A context is a version vector — every dot up to each counter — plus a few
 * individual dots beyond it: the context a write returns covers exactly what that write
 * superseded and the write itself, and "dots 1–3 and 5 of node a, but not 4" (4 being a
 * concurrent version the writer never saw) is not a version vector. Pure.
 *
 * A context only ever supersedes versions the receiving replica has seen: what it names beyond
 * that is ignored (writeRegister never joins a context into the state), so a forged or stale
 * context can neither invent counters nor drop versions that arrive later.
 */
import { MAX_CONTEXT_DOTS } from '../constants.js'
import type { RegisterState } from './register.js'
import { compareDots, vvCovers, vvGet, type Dot, type VersionVector } from './version-vector.js'

export interface CausalContext {
  readonly vv: VersionVector
  /** Dots beyond `vv`, sorted, none covered by `vv`. */
  readonly dots: readonly Dot[]
}

export function contextOf (vv: VersionVector): CausalContext {
  return { vv, dots: [] }
}

export function contextCovers (context: CausalContext, dot: Dot): boolean {
  return vvCovers(context.vv, dot) || context.dots.some(d => d.node === dot.node && d.counter === dot.counter)
}

/** Has `seen` (a replica's version vector) seen everything the context covers? */
export function vvCoversContext (seen: VersionVector, context: CausalContext): boolean {
  for (const [node, n] of Object.entries(context.vv)) if (n > vvGet(seen, node)) return false
  return context.dots.every(d => vvCovers(seen, d))
}

/**
 * The context a register write returns: what the write superseded (its context, or all the
 * replica had seen for a blind write) plus the new version, and nothing that survived it — so
 * writing again with it keeps every concurrent sibling. Past MAX_CONTEXT_DOTS the oldest
 * individual dots are left out: a context that covers less only ever keeps more siblings.
 */
export function contextAfterWrite (after: RegisterState, writer: string, context: CausalContext | undefined): CausalContext {
  if (context === undefined) return contextOf(after.vv)
  const written: Dot = { node: writer, counter: vvGet(after.vv, writer) }
  // Only what the replica had seen was superseded (see the module comment).
  const vv: Record<string, number> = {}
  for (const [node, n] of Object.entries(context.vv)) {
    const kept = Math.min(n, vvGet(after.vv, node))
    if (kept > 0) vv[node] = kept
  }
  const dots = [...context.dots.filter(d => vvCovers(after.vv, d)), written]
  return normaliseContext(vv, dots, written)
}

/**
 * Folds dots that extend the vector into it, drops covered ones, sorts and bounds the rest.
 * `keep` (the write a context is returned for) survives the bound: without it, writing again
 * with the context would keep the client's own write as a sibling.
 */
export function normaliseContext (vvIn: VersionVector, dotsIn: readonly Dot[], keep?: Dot): CausalContext {
  const vv: Record<string, number> = { ...vvIn }
  const pending = [...dotsIn].sort(compareDots)
  for (const d of pending) if (d.counter === vvGet(vv, d.node) + 1) vv[d.node] = d.counter
  const dots = pending.filter((d, i) => !vvCovers(vv, d) && (i === 0 || compareDots(pending[i - 1] as Dot, d) !== 0))
  return { vv, dots: dots.length <= MAX_CONTEXT_DOTS ? dots : newestDots(dots, keep) }
}

function newestDots (dots: readonly Dot[], keep: Dot | undefined): Dot[] {
  const isKept = (d: Dot): boolean => keep !== undefined && d.node === keep.node && d.counter === keep.counter
  const kept = dots.filter(isKept)
  const rest = dots.filter(d => !isKept(d)).sort((a, b) => b.counter - a.counter).slice(0, MAX_CONTEXT_DOTS - kept.length)
  return [...kept, ...rest].sort(compareDots)
}
