/**
 * A map whose fields are CRDTs (Riak maps; the "causal CRDT" composition of Almeida, Shoker &
 * Baquero, "Delta state replicated data types", 2018): every embedded value is a *dot store*
 * under ONE causal context (the map's version vector), so a field is present exactly while it
 * holds a dot, and removing a field forgets the dots the remover saw — an update made
 * concurrently carries a dot outside the remover's context and survives (update wins).
 *
 * A field is identified by its path and type, as in Riak: a register `a`, a counter `a` and a
 * map `a` are three fields that never collide. A nested map is not stored as such: it is the
 * prefix shared by the paths of its leaves, and it is present while one of them is. Merging the
 * flat leaves with the one context is exactly the recursive ORMap merge, without recursion (and
 * its encoding stays shallow whatever the nesting).
 *
 * - register leaves are multi-value registers: siblings with dots, HLCs and JSON values; a write
 *   supersedes the siblings its context covers (the reader picks the LWW winner, like `kv`);
 * - counter leaves are PN-counters with one *share* per node: the node's running totals under
 *   the dot of its latest increment (Riak's embedded counter);
 * - set leaves are add-wins observed-remove sets (ORSWOT): member → dots of its present adds.
 *
 * Pure and immutable. The laws (commutative, associative, idempotent) are proven by the shared
 * suite in test/crdt/or-map.test.ts.
 */
import type { Hlc } from '../clock/index.js'
import { compareHlc } from '../clock/index.js'
import { compareDots, vvCovers, vvJoin, EMPTY_VV, type Dot, type VersionVector } from '../causal/index.js'

/** The types a field may have; `map` fields are the paths' prefixes. */
export type MapFieldType = 'register' | 'counter' | 'set' | 'map'
export type MapLeafType = Exclude<MapFieldType, 'map'>
export const MAP_FIELD_TYPES: readonly MapFieldType[] = ['register', 'counter', 'set', 'map']

export interface MapSibling extends Dot {
  readonly hlc: Hlc
  /** JSON text, kept verbatim so every node hashes the same bytes. */
  readonly value: string
}

/** One node's contribution to a counter field: its totals, under the dot of its latest increment. */
export interface CounterShare extends Dot {
  readonly p: number
  readonly n: number
}

interface LeafBase {
  /** Field names from the top map down to this field; 1 to MAX_MAP_DEPTH names. */
  readonly path: readonly string[]
}
export interface RegisterLeaf extends LeafBase { readonly type: 'register', readonly siblings: readonly MapSibling[] }
export interface CounterLeaf extends LeafBase { readonly type: 'counter', readonly shares: readonly CounterShare[] }
export interface SetLeaf extends LeafBase { readonly type: 'set', readonly members: ReadonlyMap<string, readonly Dot[]> }
export type MapLeaf = RegisterLeaf | CounterLeaf | SetLeaf

export interface OrMapState {
  /** Every dot the map has seen, in any field, present or removed. */
  readonly vv: VersionVector
  /** leafId(path, type) → the leaf; never an empty leaf (a field without dots is absent). */
  readonly leaves: ReadonlyMap<string, MapLeaf>
}

export const EMPTY_OR_MAP: OrMapState = Object.freeze({ vv: EMPTY_VV, leaves: new Map<string, MapLeaf>() })

/** The identity of a leaf: its type and path (JSON of an array: no two fields share one). */
export function leafId (path: readonly string[], type: MapLeafType): string {
  return JSON.stringify([type, ...path])
}

/** Whether `path` starts with `prefix`. */
export function hasPrefix (path: readonly string[], prefix: readonly string[]): boolean {
  return prefix.length <= path.length && prefix.every((name, i) => path[i] === name)
}

const dotId = (d: Dot): string => `${d.counter}@${d.node}`

/**
 * The dot-store join: an element stays when both sides hold its dot, or when the other side has
 * not seen the dot (it was added there concurrently, not removed). `pick` chooses between two
 * elements with one dot, which only a faulty node makes; deterministically, so all agree.
 */
function joinDots<T extends Dot> (xs: readonly T[], ys: readonly T[], vx: VersionVector, vy: VersionVector, pick: (x: T, y: T) => T): T[] {
  const inY = new Map(ys.map(y => [dotId(y), y]))
  const inX = new Set(xs.map(dotId))
  const out: T[] = []
  for (const x of xs) {
    const y = inY.get(dotId(x))
    if (y !== undefined) out.push(pick(x, y))
    else if (!vvCovers(vy, x)) out.push(x)
  }
  for (const y of ys) if (!inX.has(dotId(y)) && !vvCovers(vx, y)) out.push(y)
  return out.sort(compareDots)
}

function pickSibling (x: MapSibling, y: MapSibling): MapSibling {
  const byTime = compareHlc(x.hlc, y.hlc)
  if (byTime !== 0) return byTime > 0 ? x : y
  return x.value >= y.value ? x : y
}

function pickShare (x: CounterShare, y: CounterShare): CounterShare {
  return x.p === y.p && x.n === y.n ? x : { node: x.node, counter: x.counter, p: Math.max(x.p, y.p), n: Math.max(x.n, y.n) }
}

/** At most one share per node: the newest (an honest state never holds two). */
function oneSharePerNode (shares: CounterShare[]): CounterShare[] {
  return shares.filter((s, i) => shares[i + 1]?.node !== s.node)
}

function joinMembers (a: SetLeaf['members'], b: SetLeaf['members'], va: VersionVector, vb: VersionVector): Map<string, readonly Dot[]> {
  const out = new Map<string, readonly Dot[]>()
  for (const member of new Set([...a.keys(), ...b.keys()])) {
    const dots = joinDots(a.get(member) ?? [], b.get(member) ?? [], va, vb, x => x)
    if (dots.length > 0) out.set(member, dots)
  }
  return out
}

/** The join of one field's two sides (either may be absent); undefined when nothing survives. */
function joinLeaf (x: MapLeaf | undefined, y: MapLeaf | undefined, vx: VersionVector, vy: VersionVector): MapLeaf | undefined {
  const some = (x ?? y) as MapLeaf
  switch (some.type) {
    case 'register': {
      const siblings = joinDots((x as RegisterLeaf | undefined)?.siblings ?? [], (y as RegisterLeaf | undefined)?.siblings ?? [], vx, vy, pickSibling)
      return siblings.length === 0 ? undefined : { type: 'register', path: some.path, siblings }
    }
    case 'counter': {
      const joined = joinDots((x as CounterLeaf | undefined)?.shares ?? [], (y as CounterLeaf | undefined)?.shares ?? [], vx, vy, pickShare)
      const shares = oneSharePerNode(joined)
      return shares.length === 0 ? undefined : { type: 'counter', path: some.path, shares }
    }
    case 'set': {
      const empty = new Map<string, readonly Dot[]>()
      const members = joinMembers((x as SetLeaf | undefined)?.members ?? empty, (y as SetLeaf | undefined)?.members ?? empty, vx, vy)
      return members.size === 0 ? undefined : { type: 'set', path: some.path, members }
    }
  }
}

/** The join of two replicas' states of one map. */
export function mergeOrMaps (a: OrMapState, b: OrMapState): OrMapState {
  const leaves = new Map<string, MapLeaf>()
  for (const id of new Set([...a.leaves.keys(), ...b.leaves.keys()])) {
    const leaf = joinLeaf(a.leaves.get(id), b.leaves.get(id), a.vv, b.vv)
    if (leaf !== undefined) leaves.set(id, leaf)
  }
  return { vv: vvJoin(a.vv, b.vv), leaves }
}

/** Every dot a leaf holds. */
export function leafDots (leaf: MapLeaf): Dot[] {
  switch (leaf.type) {
    case 'register': return [...leaf.siblings]
    case 'counter': return [...leaf.shares]
    case 'set': return [...leaf.members.values()].flat()
  }
}

/** The map's context for `after` waits and identity checks: everything it has seen. */
export function orMapContext (state: OrMapState): VersionVector {
  return state.vv
}
