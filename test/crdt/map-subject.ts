/** Map states from real operations (random nested field ops, blind or with stale contexts), for the law suite and the codec tests. */
import fc from 'fast-check'
import { contextOf, type CausalContext } from '../../src/causal/index.js'
import { HybridLogicalClock } from '../../src/clock/index.js'
import { encodeOrMap } from '../../src/codec/index.js'
import { EMPTY_OR_MAP, clearOrMap, mergeOrMaps, updateOrMap, type MapOp, type OrMapState } from '../../src/crdt/index.js'
import type { ApplyOp, CrdtSubject } from '../helpers/crdt-laws.js'

type Context = { kind: 'none' } | { kind: 'stale', pick: number }

export interface MapTestOp {
  /** undefined: map.delete. */
  ops: MapOp[] | undefined
  context: Context
  wall: number
}

const NAMES = ['a', 'b', '__proto__'] as const
const name = fc.constantFrom(...NAMES)
const members = fc.array(fc.constantFrom('x', 'y', ''), { minLength: 1, maxLength: 2 })

function mapOp (depth: number): fc.Arbitrary<MapOp> {
  const leaf: Array<fc.Arbitrary<MapOp>> = [
    fc.record({ op: fc.constant('set' as const), field: name, json: fc.constantFrom('1', '"x"', 'null', '{"k":[1]}') }),
    fc.record({ op: fc.constant('incr' as const), field: name, by: fc.integer({ min: -3, max: 3 }) }),
    fc.record({ op: fc.constant('add' as const), field: name, members }),
    fc.record({ op: fc.constant('remove' as const), field: name, members }),
    fc.record({ op: fc.constant('delete' as const), field: name, type: fc.constantFrom('register' as const, 'counter' as const, 'set' as const, 'map' as const) })
  ]
  if (depth <= 1) return fc.oneof(...leaf)
  return fc.oneof(...leaf, fc.record({ op: fc.constant('update' as const), field: name, ops: fc.array(mapOp(depth - 1), { minLength: 1, maxLength: 3 }) }))
}

export const mapTestOp: fc.Arbitrary<MapTestOp> = fc.record({
  ops: fc.option(fc.array(mapOp(3), { minLength: 1, maxLength: 4 }), { nil: undefined, freq: 8 }),
  context: fc.oneof({ weight: 3, arbitrary: fc.constant({ kind: 'none' as const }) }, { weight: 1, arbitrary: fc.record({ kind: fc.constant('stale' as const), pick: fc.nat() }) }),
  wall: fc.integer({ min: 0, max: 3 })
})

/** Real writes: each node has its own HLC over a random physical clock (ties across nodes happen). */
export function mapApplier (): ApplyOp<OrMapState, MapTestOp> {
  const walls = new Map<string, number>()
  const clocks = new Map<string, HybridLogicalClock>()
  return (state, node, op, history) => {
    walls.set(node, op.wall)
    let clock = clocks.get(node)
    if (clock === undefined) {
      clock = new HybridLogicalClock({ now: () => walls.get(node) ?? 0 })
      clocks.set(node, clock)
    }
    const hlcClock = clock
    let context: CausalContext | undefined
    if (op.context.kind === 'stale') context = contextOf((history[op.context.pick % history.length] as OrMapState).vv)
    const write = { node, hlc: () => hlcClock.tick(), maxSiblings: 32, ...(context === undefined ? {} : { context }) }
    return op.ops === undefined ? clearOrMap(state, write).state : updateOrMap(state, op.ops, write).state
  }
}

export const maps: CrdtSubject<OrMapState, MapTestOp> = {
  name: 'OR-map (register, counter, set and nested map fields)',
  empty: EMPTY_OR_MAP,
  merge: mergeOrMaps,
  encode: encodeOrMap,
  op: mapTestOp,
  createApplier: mapApplier
}
