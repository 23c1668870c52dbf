/** Counter and set states from real operations, for the law suite and the codec tests. */
import fc from 'fast-check'
import { EMPTY_COUNTER, EMPTY_OR_SET, addMembers, incrementCounter, mergeCounters, mergeOrSets, removeMembers } from '../../src/crdt/index.js'
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
