/**
 * Writes and reads of counters and sets at a time (docs/api.md, "Expiring keys"): a write to a
 * key whose life has ended starts its next generation first; a ttl extends the life; a read of
 * an ended life shows the key as absent (0, no members). Pure: the time is passed in.
 */
import { extendLife, hasEnded } from './lifetime.js'
import { counterLife, counterValue, incrementCounter, restartCounter, withCounterLife, type CounterState } from './pn-counter.js'
import { addMembers, removeMembers, restartOrSet, setLife, setMembers, withSetLife, type OrSetState } from './or-set.js'

export function counterEnded (state: CounterState, now: number): boolean {
  return hasEnded(counterLife(state), now)
}

export function setEnded (state: OrSetState, now: number): boolean {
  return hasEnded(setLife(state), now)
}

/** The counter a write at `now` starts from: itself, or its next life if this one ended. */
export function liveCounter (state: CounterState, now: number): CounterState {
  return counterEnded(state, now) ? restartCounter(state) : state
}

export function incrementAt (state: CounterState, node: string, by: number, now: number, ttlMs?: number): CounterState {
  const next = incrementCounter(liveCounter(state, now), node, by)
  return ttlMs === undefined ? next : withCounterLife(next, extendLife(counterLife(next), now, ttlMs))
}

function liveSet (state: OrSetState, now: number): OrSetState {
  return setEnded(state, now) ? restartOrSet(state) : state
}

export function addMembersAt (state: OrSetState, node: string, members: readonly string[], now: number, ttlMs?: number): OrSetState {
  const next = addMembers(liveSet(state, now), node, members)
  return ttlMs === undefined ? next : withSetLife(next, extendLife(setLife(next), now, ttlMs))
}

export function removeMembersAt (state: OrSetState, members: readonly string[], now: number): OrSetState {
  return removeMembers(liveSet(state, now), members)
}

export function counterValueAt (state: CounterState, now: number): number {
  return counterEnded(state, now) ? 0 : counterValue(state)
}

export function setMembersAt (state: OrSetState, now: number): string[] {
  return setEnded(state, now) ? [] : setMembers(state)
}
