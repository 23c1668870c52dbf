/** Register states from real operations, for the law suite and the codec tests. */
import fc from 'fast-check'
import { EMPTY_REGISTER, contextOf, mergeRegisters, writeRegister } from '../../src/causal/index.js'
import type { CausalContext, RegisterState } from '../../src/causal/index.js'
import { HybridLogicalClock } from '../../src/clock/index.js'
import { encodeRegister } from '../../src/codec/index.js'
import { MAX_TTL_MS } from '../../src/constants.js'
import type { ApplyOp, CrdtSubject } from '../helpers/crdt-laws.js'

type Context = { kind: 'none' } | { kind: 'empty' } | { kind: 'stale', pick: number }

export interface RegisterOp {
  /** undefined: a delete. */
  value: string | undefined
  context: Context
  /** The writer's physical clock at the time: a tiny range so HLCs tie across nodes and clocks go backwards. */
  wall: number
  /** Expiring keys: the put's ttlMs (ignored for a delete); tiny ones make expiries tie, and the largest allowed. */
  ttlMs: number | undefined
}

export const registerOp: fc.Arbitrary<RegisterOp> = fc.record({
  value: fc.option(fc.constantFrom('1', '2', '"x"', 'null', '{"k":[1]}'), { nil: undefined, freq: 4 }),
  context: fc.oneof(
    fc.constant({ kind: 'none' as const }),
    fc.constant({ kind: 'empty' as const }),
    fc.record({ kind: fc.constant('stale' as const), pick: fc.nat() })
  ),
  wall: fc.integer({ min: 0, max: 3 }),
  ttlMs: fc.option(fc.constantFrom(1, 2, 3, MAX_TTL_MS), { nil: undefined, freq: 2 })
})

/** Real writes: each node has its own hybrid logical clock over a random physical clock; contexts are absent, empty, or read earlier from any replica. */
export function registerApplier (maxSiblings?: number): () => ApplyOp<RegisterState, RegisterOp> {
  return () => {
    const walls = new Map<string, number>()
    const clocks = new Map<string, HybridLogicalClock>()
    return (state, node, op, history) => {
      walls.set(node, op.wall)
      let clock = clocks.get(node)
      if (clock === undefined) {
        clock = new HybridLogicalClock({ now: () => walls.get(node) ?? 0 })
        clocks.set(node, clock)
      }
      let context: CausalContext | undefined
      if (op.context.kind === 'empty') context = contextOf({})
      if (op.context.kind === 'stale') context = contextOf((history[op.context.pick % history.length] as RegisterState).vv)
      const write = { node, hlc: clock.tick(), ...(op.value === undefined ? {} : { value: op.value }), ...(context === undefined ? {} : { context }), ...(op.ttlMs === undefined ? {} : { ttlMs: op.ttlMs }) }
      return maxSiblings === undefined ? writeRegister(state, write) : writeRegister(state, write, maxSiblings)
    }
  }
}

export const registers: CrdtSubject<RegisterState, RegisterOp> = {
  name: 'DVV register',
  empty: EMPTY_REGISTER,
  merge: (a, b) => mergeRegisters(a, b),
  encode: encodeRegister,
  op: registerOp,
  createApplier: registerApplier()
}
