/**
 * PN-counter: each node keeps its own running totals of increments (p) and decrements (n);
 * the value is Σp − Σn and merging takes the per-node maximum. `ops` counts each node's
 * operations so a counter has a causal context for read-your-writes (`kv.get after`).
 */
import type { VersionVector } from '../causal/index.js'

export interface CounterEntry {
  readonly p: number
  readonly n: number
  readonly ops: number
}

export type CounterState = Readonly<Record<string, CounterEntry>>

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

export function mergeCounters (a: CounterState, b: CounterState): CounterState {
  const out: Record<string, CounterEntry> = { ...a }
  for (const [node, eb] of Object.entries(b)) {
    const ea = entryOf(out, node)
    out[node] = ea === undefined
      ? eb
      : { p: Math.max(ea.p, eb.p), n: Math.max(ea.n, eb.n), ops: Math.max(ea.ops, eb.ops) }
  }
  return out
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
