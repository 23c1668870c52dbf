/**
 * Local operations: what a client asked this node to do, already validated. Applying one to
 * the current state is pure.
 */
import type { HybridLogicalClock } from '../clock/index.js'
import { writeRegister, type CausalContext, type RegisterState } from '../causal/index.js'
import { addMembersAt, incrementAt, liveCounter, removeMembersAt, wouldOverflow, type CounterState, type OrSetState } from '../crdt/index.js'
import { clearOrMap, updateOrMap, type MapOp, type MapWrite, type OrMapState } from '../crdt/index.js'
import { LimitExceededError } from '../errors.js'
import type { KeySpace } from '../model/index.js'

export type LocalOp =
  | { kind: 'kv.put', key: string, json: string, context?: CausalContext, ttlMs?: number }
  | { kind: 'kv.delete', key: string, context?: CausalContext }
  | { kind: 'counter.incr', key: string, by: number, ttlMs?: number }
  | { kind: 'set.add', key: string, members: string[], ttlMs?: number }
  | { kind: 'set.remove', key: string, members: string[] }
  | { kind: 'map.update', key: string, ops: readonly MapOp[], context?: CausalContext }
  | { kind: 'map.delete', key: string, context?: CausalContext }

export function spaceOf (op: LocalOp): KeySpace {
  switch (op.kind) {
    case 'kv.put': case 'kv.delete': return 'kv'
    case 'counter.incr': return 'counter'
    case 'set.add': case 'set.remove': return 'set'
    case 'map.update': case 'map.delete': return 'map'
  }
}

export interface OpEnv {
  nodeId: string
  clock: HybridLogicalClock
  maxSiblings: number
  /** Lowest counter minus one for new register writes (see RegisterWrite.floor). */
  dotFloor: number
}

/** The state after `op`; throws a ChorusError if the op cannot apply (e.g. overflow). */
export function applyLocalOp (state: unknown, op: LocalOp, env: OpEnv): unknown {
  switch (op.kind) {
    case 'kv.put':
      return writeRegister(state as RegisterState, { node: env.nodeId, hlc: env.clock.tick(), value: op.json, context: op.context, floor: env.dotFloor, ...(op.ttlMs !== undefined ? { ttlMs: op.ttlMs } : {}) }, env.maxSiblings)
    case 'kv.delete':
      return writeRegister(state as RegisterState, { node: env.nodeId, hlc: env.clock.tick(), context: op.context, floor: env.dotFloor }, env.maxSiblings)
    case 'counter.incr': {
      // Counters and sets expire by key (crdt/lifetime.ts): a write after the end starts afresh.
      const now = env.clock.wallNow()
      if (wouldOverflow(liveCounter(state as CounterState, now), env.nodeId, op.by)) {
        throw new LimitExceededError(`counter ${JSON.stringify(op.key)} would leave the safe integer range`)
      }
      return incrementAt(state as CounterState, env.nodeId, op.by, now, op.ttlMs)
    }
    case 'set.add':
      return addMembersAt(state as OrSetState, env.nodeId, op.members, env.clock.wallNow(), op.ttlMs)
    case 'set.remove':
      return removeMembersAt(state as OrSetState, op.members, env.clock.wallNow())
    case 'map.update':
      return updateOrMap(state as OrMapState, op.ops, mapWrite(op.context, env)).state
    case 'map.delete':
      return clearOrMap(state as OrMapState, mapWrite(op.context, env)).state
  }
}

function mapWrite (context: CausalContext | undefined, env: OpEnv): MapWrite {
  const write: MapWrite = { node: env.nodeId, hlc: () => env.clock.tick(), maxSiblings: env.maxSiblings }
  if (context !== undefined) write.context = context
  return write
}
