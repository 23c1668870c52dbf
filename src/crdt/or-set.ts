/**
 * Add-wins observed-remove set without tombstones (ORSWOT, Bieniusa et al.): each present
 * member carries the dots of the adds that made it present, and one version vector records
 * every dot the replica has seen. A remove forgets the member's dots; since they stay in the
 * vector, merging drops them elsewhere too — while an add the remover had not seen carries a
 * dot outside its vector and survives (add wins). Removed members leave nothing behind.
 */
import { compareDots, vvAdd, vvCovers, vvGet, vvJoin, EMPTY_VV, type Dot, type VersionVector } from '../causal/index.js'
import { compareGen, FIRST_LIFE, isFirstLife, joinLives, nextLife, type Lifetime } from './lifetime.js'

export interface OrSetState {
  readonly vv: VersionVector
  /** member → the dots of the adds that keep it present, sorted. Absent members have no entry. */
  readonly entries: ReadonlyMap<string, readonly Dot[]>
  /** The key's lifetime (lifetime.ts); absent for the first life without an end. */
  readonly life?: Lifetime
}

export function setLife (state: OrSetState): Lifetime {
  return state.life ?? FIRST_LIFE
}

function withLife (vv: VersionVector, entries: ReadonlyMap<string, readonly Dot[]>, life: Lifetime): OrSetState {
  return isFirstLife(life) ? { vv, entries } : { vv, entries, life }
}

/** The same members with another lifetime. */
export function withSetLife (state: OrSetState, life: Lifetime): OrSetState {
  return withLife(state.vv, state.entries, life)
}

/** The set's next life after its end: no members; the version vector is kept, so no dot is reissued. */
export function restartOrSet (state: OrSetState): OrSetState {
  return withLife(state.vv, new Map(), nextLife(setLife(state)))
}

export const EMPTY_OR_SET: OrSetState = Object.freeze({ vv: EMPTY_VV, entries: new Map<string, readonly Dot[]>() })

const dotId = (d: Dot): string => `${d.counter}@${d.node}`

export function addMembers (state: OrSetState, node: string, members: readonly string[]): OrSetState {
  let vv = state.vv
  const entries = new Map(state.entries)
  for (const member of members) {
    const dot: Dot = { node, counter: vvGet(vv, node) + 1 }
    vv = vvAdd(vv, dot)
    // The new dot replaces every dot this replica observed for the member.
    entries.set(member, [dot])
  }
  return withLife(vv, entries, setLife(state))
}

export function removeMembers (state: OrSetState, members: readonly string[]): OrSetState {
  if (!members.some(m => state.entries.has(m))) return state
  const entries = new Map(state.entries)
  for (const member of members) entries.delete(member)
  return withLife(state.vv, entries, setLife(state))
}

/**
 * Within one generation, the ORSWOT join. Across generations the later one's members replace the
 * earlier one's (lifetime.ts); the version vectors always join, so no dot is ever reissued.
 */
export function mergeOrSets (a: OrSetState, b: OrSetState): OrSetState {
  const byGen = compareGen(setLife(a), setLife(b))
  if (byGen !== 0) {
    const later = byGen > 0 ? a : b
    return withLife(vvJoin(a.vv, b.vv), later.entries, setLife(later))
  }
  const entries = new Map<string, readonly Dot[]>()
  const members = new Set([...a.entries.keys(), ...b.entries.keys()])
  for (const member of members) {
    const da = a.entries.get(member) ?? []
    const db = b.entries.get(member) ?? []
    const inA = new Set(da.map(dotId))
    const inB = new Set(db.map(dotId))
    const kept = new Map<string, Dot>()
    for (const d of da) if (inB.has(dotId(d)) || !vvCovers(b.vv, d)) kept.set(dotId(d), d)
    for (const d of db) if (inA.has(dotId(d)) || !vvCovers(a.vv, d)) kept.set(dotId(d), d)
    if (kept.size > 0) entries.set(member, [...kept.values()].sort(compareDots))
  }
  return withLife(vvJoin(a.vv, b.vv), entries, joinLives(setLife(a), setLife(b)))
}

/** Present members, sorted (UTF-16 code unit order, the same on every node). */
export function setMembers (state: OrSetState): string[] {
  return [...state.entries.keys()].sort()
}
