/**
 * Local operations on a map (or-map.ts): what one `map.update` or `map.delete` does at the node
 * that takes it. Each new event (a register write, an increment, an add) gets a fresh dot of the
 * writing node in the map's one version vector; a removal forgets the dots it *covers* — those
 * of the client's context, or, without one, all the replica has seen — so a concurrent update
 * elsewhere survives it. The ops of one update apply in order, each seeing the ones before.
 * Pure: the state passed in is never mutated.
 */
import { compareDots, contextCovers, vvCovers, type CausalContext, type Dot, type VersionVector } from '../causal/index.js'
import { compareHlc, type Hlc } from '../clock/index.js'
import {
  hasPrefix, leafId, type CounterLeaf, type MapFieldType, type MapLeaf, type MapSibling, type OrMapState, type RegisterLeaf, type SetLeaf
} from './or-map.js'

/** An operation on one field, validated (model/map-ops.ts parses them from JSON). */
export type MapOp =
  | { readonly op: 'set', readonly field: string, /** JSON text */ readonly json: string }
  | { readonly op: 'incr', readonly field: string, readonly by: number }
  | { readonly op: 'add', readonly field: string, readonly members: readonly string[] }
  | { readonly op: 'remove', readonly field: string, readonly members: readonly string[] }
  | { readonly op: 'delete', readonly field: string, readonly type: MapFieldType }
  | { readonly op: 'update', readonly field: string, readonly ops: readonly MapOp[] }

export interface MapWrite {
  /** The writing node's id. */
  node: string
  /** The time of each register write (a tick of the node's HLC). */
  hlc: () => Hlc
  /** What the writer had seen; omitted: everything this replica has seen (a blind write). */
  context?: CausalContext
  /** Siblings a register field keeps after a write (the oldest by LWW go first, as for `kv`). */
  maxSiblings: number
}

export interface MapWriteResult {
  state: OrMapState
  /** The dots this write created, in order. */
  created: Dot[]
}

/** A working copy of one map during one write. */
class Draft {
  private readonly vv: Record<string, number>
  readonly leaves: Map<string, MapLeaf>
  readonly created: Dot[] = []
  private readonly createdIds = new Set<string>()

  constructor (private readonly before: OrMapState, readonly write: MapWrite) {
    this.vv = { ...before.vv }
    this.leaves = new Map(before.leaves)
  }

  newDot (): Dot {
    const node = this.write.node
    const dot: Dot = { node, counter: (Object.hasOwn(this.vv, node) ? this.vv[node] as number : 0) + 1 }
    this.vv[node] = dot.counter
    this.created.push(dot)
    this.createdIds.add(`${dot.counter}@${node}`)
    return dot
  }

  /** Whether this write supersedes (may forget) the dot. */
  covers (d: Dot): boolean {
    if (this.createdIds.has(`${d.counter}@${d.node}`)) return true
    const context = this.write.context
    return context === undefined ? vvCovers(this.before.vv, d) : contextCovers(context, d)
  }

  put (id: string, leaf: MapLeaf | undefined): void {
    if (leaf === undefined) this.leaves.delete(id)
    else this.leaves.set(id, leaf)
  }

  result (): MapWriteResult {
    const vv: VersionVector = { ...this.vv }
    return { state: { vv, leaves: this.leaves }, created: this.created }
  }
}

/** LWW order: HLC, then node id, then counter (causal/register.ts's compareSiblings). */
function compareLww (a: MapSibling, b: MapSibling): number {
  return compareHlc(a.hlc, b.hlc) || (a.node < b.node ? -1 : a.node > b.node ? 1 : a.counter - b.counter)
}

/** The leaf without the dots the draft covers; undefined when nothing is left. */
function strip (draft: Draft, leaf: MapLeaf): MapLeaf | undefined {
  switch (leaf.type) {
    case 'register': {
      const siblings = leaf.siblings.filter(s => !draft.covers(s))
      return siblings.length === 0 ? undefined : { ...leaf, siblings }
    }
    case 'counter': {
      const shares = leaf.shares.filter(s => !draft.covers(s))
      return shares.length === 0 ? undefined : { ...leaf, shares }
    }
    case 'set': {
      const members = new Map<string, readonly Dot[]>()
      for (const [m, dots] of leaf.members) {
        const kept = dots.filter(d => !draft.covers(d))
        if (kept.length > 0) members.set(m, kept)
      }
      return members.size === 0 ? undefined : { ...leaf, members }
    }
  }
}

function setRegister (draft: Draft, path: string[], json: string): void {
  const id = leafId(path, 'register')
  const current = draft.leaves.get(id) as RegisterLeaf | undefined
  const survivors = (current?.siblings ?? []).filter(s => !draft.covers(s))
  const dot = draft.newDot()
  let siblings: MapSibling[] = [...survivors, { ...dot, hlc: draft.write.hlc(), value: json }]
  if (siblings.length > draft.write.maxSiblings) siblings = [...siblings].sort(compareLww).slice(-draft.write.maxSiblings)
  draft.put(id, { type: 'register', path, siblings: siblings.sort(compareDots) })
}

function increment (draft: Draft, path: string[], by: number): void {
  const id = leafId(path, 'counter')
  const current = draft.leaves.get(id) as CounterLeaf | undefined
  const node = draft.write.node
  const mine = current?.shares.find(s => s.node === node)
  const dot = draft.newDot()
  // Totals may pass MAX_COUNTER_TOTAL here: the replica's bounds check refuses such a write.
  const share = { ...dot, p: (mine?.p ?? 0) + Math.max(by, 0), n: (mine?.n ?? 0) + Math.max(-by, 0) }
  const others = (current?.shares ?? []).filter(s => s.node !== node)
  draft.put(id, { type: 'counter', path, shares: [...others, share].sort(compareDots) })
}

function addMembers (draft: Draft, path: string[], members: readonly string[]): void {
  const id = leafId(path, 'set')
  const current = draft.leaves.get(id) as SetLeaf | undefined
  const next = new Map(current?.members ?? [])
  // The new dot replaces every dot this replica observed for the member (as in or-set.ts).
  for (const m of members) next.set(m, [draft.newDot()])
  draft.put(id, { type: 'set', path, members: next })
}

function removeMembers (draft: Draft, path: string[], members: readonly string[]): void {
  const id = leafId(path, 'set')
  const current = draft.leaves.get(id) as SetLeaf | undefined
  if (current === undefined) return
  const next = new Map(current.members)
  for (const m of members) {
    const kept = (next.get(m) ?? []).filter(d => !draft.covers(d))
    if (kept.length > 0) next.set(m, kept)
    else next.delete(m)
  }
  draft.put(id, next.size === 0 ? undefined : { ...current, members: next })
}

function deleteField (draft: Draft, path: string[], type: MapFieldType): void {
  if (type !== 'map') {
    const id = leafId(path, type)
    const leaf = draft.leaves.get(id)
    if (leaf !== undefined) draft.put(id, strip(draft, leaf))
    return
  }
  // A nested map is the prefix of its leaves: removing it removes what it holds.
  for (const [id, leaf] of [...draft.leaves]) {
    if (leaf.path.length > path.length && hasPrefix(leaf.path, path)) draft.put(id, strip(draft, leaf))
  }
}

function applyOps (draft: Draft, prefix: string[], ops: readonly MapOp[]): void {
  for (const op of ops) {
    const path = [...prefix, op.field]
    switch (op.op) {
      case 'set': setRegister(draft, path, op.json); break
      case 'incr': increment(draft, path, op.by); break
      case 'add': addMembers(draft, path, op.members); break
      case 'remove': removeMembers(draft, path, op.members); break
      case 'delete': deleteField(draft, path, op.type); break
      case 'update': applyOps(draft, path, op.ops); break
    }
  }
}

/** Apply a `map.update`: the ops in order, with fresh dots of `write.node`. */
export function updateOrMap (state: OrMapState, ops: readonly MapOp[], write: MapWrite): MapWriteResult {
  const draft = new Draft(state, write)
  applyOps(draft, [], ops)
  return draft.result()
}

/** Apply a `map.delete`: every field loses the dots the write covers (concurrent updates stay). */
export function clearOrMap (state: OrMapState, write: MapWrite): MapWriteResult {
  const draft = new Draft(state, write)
  for (const [id, leaf] of [...draft.leaves]) draft.put(id, strip(draft, leaf))
  return draft.result()
}

/** How many dots the ops create (all of the writing node, consecutive): for the write's context. */
export function countNewDots (ops: readonly MapOp[]): number {
  let n = 0
  for (const op of ops) {
    if (op.op === 'set' || op.op === 'incr') n++
    else if (op.op === 'add') n += op.members.length
    else if (op.op === 'update') n += countNewDots(op.ops)
  }
  return n
}
