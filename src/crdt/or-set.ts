/**
 * Add-wins observed-remove set without tombstones (ORSWOT, Bieniusa et al.): each present
 * member carries the dots of the adds that made it present, and one version vector records
 * every dot the replica has seen. A remove forgets the member's dots; since they stay in the
 * vector, merging drops them elsewhere too — while an add the remover had not seen carries a
 * dot outside its vector and survives (add wins). Removed members leave nothing behind.
 */
import { compareDots, vvAdd, vvCovers, vvGet, vvJoin, EMPTY_VV, type Dot, type VersionVector } from '../causal/index.js'

export interface OrSetState {
  readonly vv: VersionVector
  /** member → the dots of the adds that keep it present, sorted. Absent members have no entry. */
  readonly entries: ReadonlyMap<string, readonly Dot[]>
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
  return { vv, entries }
}

export function removeMembers (state: OrSetState, members: readonly string[]): OrSetState {
  if (!members.some(m => state.entries.has(m))) return state
  const entries = new Map(state.entries)
  for (const member of members) entries.delete(member)
  return { vv: state.vv, entries }
}

export function mergeOrSets (a: OrSetState, b: OrSetState): OrSetState {
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
  return { vv: vvJoin(a.vv, b.vv), entries }
}

/** Present members, sorted (UTF-16 code unit order, the same on every node). */
export function setMembers (state: OrSetState): string[] {
  return [...state.entries.keys()].sort()
}
