/**
 * The documented bounds on replicated state (constants.ts; docs/security.md, "Limits"). Two
 * kinds, checked in different places:
 *
 * - Value bounds (event counters, HLC timestamps, counter totals, member strings): a state
 *   past them could not take the next write, or be read back. Checked on every state a peer
 *   sends before it is merged, on every merge result and on every local result. A merge
 *   takes maxima and unions of in-bound values, so it never leaves them on its own.
 * - Size bounds (siblings, nodes per vector, members, dots per member): a merge of two states
 *   within them can pass them (two nodes each adding a member to a full set), and refusing
 *   that merge would keep honest nodes apart for good. So they bind only local writes, and
 *   only a write that grows the size past the bound; what peers send is bounded in bytes
 *   instead (a gossip message, an anti-entropy state).
 * Pure.
 */
import type { RegisterState, VersionVector } from '../causal/index.js'
import { isValidHlc } from '../clock/index.js'
import {
  MAX_COUNTER_TOTAL, MAX_EVENT_COUNTER, MAX_MEMBER_DOTS, MAX_SET_MEMBERS, MAX_STATE_SIBLINGS, MAX_VV_ENTRIES
} from '../constants.js'
import type { CounterState, OrMapState, OrSetState } from '../crdt/index.js'
import { memberProblem, type KeySpace } from '../model/index.js'
import { mapSizes, mapValueProblem } from './map-bounds.js'

function vvValueProblem (vv: VersionVector): string | undefined {
  for (const n of Object.values(vv)) if (n > MAX_EVENT_COUNTER) return `event counter above ${MAX_EVENT_COUNTER}`
  return undefined
}

function registerValueProblem (state: RegisterState): string | undefined {
  if (!state.siblings.every(s => isValidHlc(s.hlc))) return 'timestamp outside the HLC bounds'
  return vvValueProblem(state.vv)
}

function counterValueProblem (state: CounterState): string | undefined {
  const entries = Object.values(state)
  if (entries.some(e => e.p > MAX_COUNTER_TOTAL || e.n > MAX_COUNTER_TOTAL)) return `counter total above ${MAX_COUNTER_TOTAL}`
  if (entries.some(e => e.ops > MAX_EVENT_COUNTER)) return `event counter above ${MAX_EVENT_COUNTER}`
  return undefined
}

function setValueProblem (state: OrSetState): string | undefined {
  for (const member of state.entries.keys()) {
    const problem = memberProblem(member)
    if (problem !== undefined) return `member ${problem}`
  }
  return vvValueProblem(state.vv)
}

/** Why the state's values lie outside the bounds, or undefined when they are within them. */
export function valueBoundsProblem (space: KeySpace, state: unknown): string | undefined {
  switch (space) {
    case 'kv': return registerValueProblem(state as RegisterState)
    case 'counter': return counterValueProblem(state as CounterState)
    case 'set': return setValueProblem(state as OrSetState)
    case 'map': return mapValueProblem(state as OrMapState)
  }
}

export interface Size { what: string, limit: number, size: number }

function sizesOf (space: KeySpace, state: unknown): Size[] {
  switch (space) {
    case 'kv': {
      const s = state as RegisterState
      return [
        { what: 'siblings', limit: MAX_STATE_SIBLINGS, size: s.siblings.length },
        { what: 'nodes in the version vector', limit: MAX_VV_ENTRIES, size: Object.keys(s.vv).length }
      ]
    }
    case 'counter':
      return [{ what: 'nodes in the counter', limit: MAX_VV_ENTRIES, size: Object.keys(state as CounterState).length }]
    case 'set': {
      const s = state as OrSetState
      let dots = 0
      for (const d of s.entries.values()) dots = Math.max(dots, d.length)
      return [
        { what: 'members', limit: MAX_SET_MEMBERS, size: s.entries.size },
        { what: 'dots of one member', limit: MAX_MEMBER_DOTS, size: dots },
        { what: 'nodes in the version vector', limit: MAX_VV_ENTRIES, size: Object.keys(s.vv).length }
      ]
    }
    case 'map':
      return mapSizes(state as OrMapState)
  }
}

/** Why a local write from `before` to `after` grows a size past its bound, or undefined. */
export function sizeGrowthProblem (space: KeySpace, before: unknown, after: unknown): string | undefined {
  const was = sizesOf(space, before)
  for (const [i, s] of sizesOf(space, after).entries()) {
    if (s.size > s.limit && s.size > (was[i]?.size ?? 0)) return `more than ${s.limit} ${s.what}`
  }
  return undefined
}
