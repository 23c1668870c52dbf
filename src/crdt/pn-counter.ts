/**
 * PN-counter: each node keeps its own running totals of increments (p) and decrements (n);
 * the value is Σp − Σn and merging takes the per-node maximum. `ops` counts each node's
 * operations so a counter has a causal context for read-your-writes (`kv.get after`).
 */
import type { VersionVector } from '../causal/index.js'
import { compareGen, FIRST_LIFE, isFirstLife, joinLives, nextLife, type Lifetime } from './lifetime.js'

export interface CounterEntry {
  readonly p: number
  readonly n: number
  readonly ops: number
}

/**
 * The key's lifetime (lifetime.ts) rides on a symbol: the state is a record keyed by node ids,
 * and a symbol key stays out of every iteration over nodes (Object.keys/values/entries), so the
 * totals, the context and the encoding of a counter without expiry are exactly what they were.
 */
export const COUNTER_LIFE: unique symbol = Symbol('chorus.counterLife')

export type CounterState = Readonly<Record<string, CounterEntry>> & { readonly [COUNTER_LIFE]?: Lifetime }

export const EMPTY_COUNTER: CounterState = Object.freeze({})

const NO_ENTRY: CounterEntry = Object.freeze({ p: 0, n: 0, ops: 0 })

/** Own properties only: "constructor" and "toString" are valid (base58) node ids. */
function entryOf (state: CounterState, node: string): CounterEntry | undefined {
  return Object.hasOwn(state, node) ? state[node] : undefined
}

/** Thrown (by callers) when a total would leave the safe-integer range. */
export function wouldOverflow (state: CounterState, node: string, by: number): boolean {
  const e = entryOf(state, node) ?? NO_ENTRY
  return by > 0 ? e.p + by > Number.MAX_SAFE_INTEGER : e.n - by > Number.MAX_SAFE_INTEGER
}

export function incrementCounter (state: CounterState, node: string, by: number): CounterState {
  if (by === 0) return state
  const e = entryOf(state, node) ?? NO_ENTRY
  const next: CounterEntry = by > 0
    ? { p: e.p + by, n: e.n, ops: e.ops + 1 }
    : { p: e.p, n: e.n - by, ops: e.ops + 1 }
  return { ...state, [node]: next }
}

export function counterLife (state: CounterState): Lifetime {
  return state[COUNTER_LIFE] ?? FIRST_LIFE
}

/** The same totals with another lifetime (none stored for the first life without an end). */
export function withCounterLife (state: CounterState, life: Lifetime): CounterState {
  return attachLife(Object.fromEntries(Object.entries(state)), life)
}

/** Gives a record built here its lifetime, without another copy. */
function attachLife (out: Record<string, CounterEntry> & { [COUNTER_LIFE]?: Lifetime }, life: Lifetime): CounterState {
  if (!isFirstLife(life)) out[COUNTER_LIFE] = life
  return out
}

/**
 * Within one generation, per-node maxima. Across generations the later one's totals replace the
 * earlier one's (lifetime.ts), while operation counts still take the maximum: they are the
 * counter's causal context and the evidence of who wrote what (replica/identity-check.ts), and
 * must never go back.
 */
export function mergeCounters (a: CounterState, b: CounterState): CounterState {
  const la = counterLife(a)
  const lb = counterLife(b)
  const byGen = compareGen(la, lb)
  if (byGen !== 0) return mergeAcrossLives(byGen > 0 ? a : b, byGen > 0 ? b : a)
  const out: Record<string, CounterEntry> = Object.fromEntries(Object.entries(a))
  for (const [node, eb] of Object.entries(b)) {
    const ea = entryOf(out, node)
    out[node] = ea === undefined
      ? eb
      : { p: Math.max(ea.p, eb.p), n: Math.max(ea.n, eb.n), ops: Math.max(ea.ops, eb.ops) }
  }
  return attachLife(out, joinLives(la, lb))
}

function mergeAcrossLives (later: CounterState, earlier: CounterState): CounterState {
  const out: Record<string, CounterEntry> = Object.fromEntries(Object.entries(later))
  for (const [node, e] of Object.entries(earlier)) {
    const kept = entryOf(out, node)
    if (kept === undefined) out[node] = { p: 0, n: 0, ops: e.ops }
    else if (e.ops > kept.ops) out[node] = { p: kept.p, n: kept.n, ops: e.ops }
  }
  return attachLife(out, counterLife(later))
}

/** The counter's next life after its end: totals back to 0, operation counts kept. */
export function restartCounter (state: CounterState): CounterState {
  const out: Record<string, CounterEntry> = {}
  for (const [node, e] of Object.entries(state)) out[node] = { p: 0, n: 0, ops: e.ops }
  return attachLife(out, nextLife(counterLife(state)))
}

export function counterValue (state: CounterState): number {
  let total = 0
  for (const e of Object.values(state)) total += e.p - e.n
  return total
}

export function counterContext (state: CounterState): VersionVector {
  const vv: Record<string, number> = {}
  for (const [node, e] of Object.entries(state)) if (e.ops > 0) vv[node] = e.ops
  return vv
}
