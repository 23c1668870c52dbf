/**
 * The documented bounds on replicated state (constants.ts; docs/security.md, "Limits"), checked
 * on every state a peer sends before it is merged, on every merge result, and on every state a
 * local operation produces before it is stored. A state outside them is never written: what a
 * node stores it can always read back and every honest peer accepts. Pure.
 */
import type { RegisterState, VersionVector } from '../causal/index.js'
import { isValidHlc } from '../clock/index.js'
import {
  MAX_COUNTER_TOTAL, MAX_EVENT_COUNTER, MAX_MEMBER_DOTS, MAX_SET_MEMBERS, MAX_STATE_SIBLINGS, MAX_VV_ENTRIES
} from '../constants.js'
import type { CounterState, OrSetState } from '../crdt/index.js'
import { memberProblem, type KeySpace } from '../model/index.js'

function vvProblem (vv: VersionVector): string | undefined {
  const entries = Object.values(vv)
  if (entries.length > MAX_VV_ENTRIES) return `version vector names more than ${MAX_VV_ENTRIES} nodes`
  if (entries.some(n => n > MAX_EVENT_COUNTER)) return `event counter above ${MAX_EVENT_COUNTER}`
  return undefined
}

function registerProblem (state: RegisterState): string | undefined {
  if (state.siblings.length > MAX_STATE_SIBLINGS) return `more than ${MAX_STATE_SIBLINGS} siblings`
  if (!state.siblings.every(s => isValidHlc(s.hlc))) return 'timestamp outside the HLC bounds'
  return vvProblem(state.vv)
}

function counterProblem (state: CounterState): string | undefined {
  const entries = Object.values(state)
  if (entries.length > MAX_VV_ENTRIES) return `counter names more than ${MAX_VV_ENTRIES} nodes`
  if (entries.some(e => e.p > MAX_COUNTER_TOTAL || e.n > MAX_COUNTER_TOTAL)) return `counter total above ${MAX_COUNTER_TOTAL}`
  if (entries.some(e => e.ops > MAX_EVENT_COUNTER)) return `event counter above ${MAX_EVENT_COUNTER}`
  return undefined
}

function setProblem (state: OrSetState): string | undefined {
  if (state.entries.size > MAX_SET_MEMBERS) return `more than ${MAX_SET_MEMBERS} members`
  for (const [member, dots] of state.entries) {
    const problem = memberProblem(member)
    if (problem !== undefined) return `member ${problem}`
    if (dots.length > MAX_MEMBER_DOTS) return `a member carries more than ${MAX_MEMBER_DOTS} dots`
  }
  return vvProblem(state.vv)
}

/** Why the state lies outside the bounds, or undefined when it is within them. */
export function stateBoundsProblem (space: KeySpace, state: unknown): string | undefined {
  switch (space) {
    case 'kv': return registerProblem(state as RegisterState)
    case 'counter': return counterProblem(state as CounterState)
    case 'set': return setProblem(state as OrSetState)
  }
}
