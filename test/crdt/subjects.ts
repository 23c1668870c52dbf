/** Counter and set states from real operations, for the law suite and the codec tests. */
import fc from 'fast-check'
import { EMPTY_COUNTER, EMPTY_OR_SET, addMembers, addMembersAt, incrementAt, incrementCounter, mergeCounters, mergeOrSets, removeMembers, removeMembersAt } from '../../src/crdt/index.js'
import { MAX_HLC_WALL, MAX_TTL_MS } from '../../src/constants.js'
import type { CounterState, OrSetState } from '../../src/crdt/index.js'
import { encodeCounter, encodeOrSet } from '../../src/codec/index.js'
import type { CrdtSubject } from '../helpers/crdt-laws.js'

export const counters: CrdtSubject<CounterState, number> = {
  name: 'PN-counter',
  empty: EMPTY_COUNTER,
  merge: mergeCounters,
  encode: encodeCounter,
  op: fc.oneof(fc.integer({ min: -5, max: 5 }), fc.integer({ min: -1_000_000, max: 1_000_000 })),
  createApplier: () => (state, node, by) => incrementCounter(state, node, by)
}

export type SetOp = { kind: 'add' | 'remove', members: string[] }

export const MEMBERS = ['x', 'y', 'z', 'w', '', 'é'] as const

export const sets: CrdtSubject<OrSetState, SetOp> = {
  name: 'OR-set (ORSWOT)',
  empty: EMPTY_OR_SET,
  merge: mergeOrSets,
  encode: encodeOrSet,
  op: fc.record({
    kind: fc.constantFrom('add' as const, 'remove' as const),
    members: fc.array(fc.constantFrom(...MEMBERS), { maxLength: 3 })
  }),
  createApplier: () => (state, node, op) => op.kind === 'add' ? addMembers(state, node, op.members) : removeMembers(state, op.members)
}

// ---- Expiring keys (crdt/lifetime.ts): the same types with writes at a time and a ttl.

/** A write at `now` on the writer's clock: a tiny range so lives end, restart and tie across nodes; plus the extremes. */
const lifeTime = fc.oneof(fc.integer({ min: 0, max: 8 }), fc.constant(MAX_HLC_WALL))
const lifeTtl = fc.option(fc.oneof(fc.integer({ min: 1, max: 3 }), fc.constant(MAX_TTL_MS)), { nil: undefined, freq: 2 })

export interface ExpiringCounterOp { by: number, now: number, ttlMs: number | undefined }

export const expiringCounters: CrdtSubject<CounterState, ExpiringCounterOp> = {
  name: 'PN-counter with expiry',
  empty: EMPTY_COUNTER,
  merge: mergeCounters,
  encode: encodeCounter,
  op: fc.record({ by: fc.integer({ min: -5, max: 5 }), now: lifeTime, ttlMs: lifeTtl }),
  createApplier: () => (state, node, op) => incrementAt(state, node, op.by, op.now, op.ttlMs)
}

export interface ExpiringSetOp extends SetOp { now: number, ttlMs: number | undefined }

export const expiringSets: CrdtSubject<OrSetState, ExpiringSetOp> = {
  name: 'OR-set with expiry',
  empty: EMPTY_OR_SET,
  merge: mergeOrSets,
  encode: encodeOrSet,
  op: fc.record({
    kind: fc.constantFrom('add' as const, 'remove' as const),
    members: fc.array(fc.constantFrom(...MEMBERS), { maxLength: 3 }),
    now: lifeTime,
    ttlMs: lifeTtl
  }),
  createApplier: () => (state, node, op) => op.kind === 'add' ? addMembersAt(state, node, op.members, op.now, op.ttlMs) : removeMembersAt(state, op.members, op.now)
}
