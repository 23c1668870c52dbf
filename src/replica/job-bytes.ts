/**
 * What a queued job weighs, for the write queue's byte bounds (replica.ts): the bytes it will
 * read, merge and write, to the nearest order — keys and values, not the JS objects around them.
 */
import type { EncodedChange } from './types.js'
import type { LocalOp } from './local-op.js'
import type { MapOp } from '../crdt/index.js'

/** A fixed cost per item, so that many tiny items still count. */
const ITEM_OVERHEAD = 64

export function remoteBytes (changes: readonly EncodedChange[]): number {
  let n = 0
  for (const c of changes) n += c.storeKey.length + c.state.byteLength + ITEM_OVERHEAD
  return n
}

export function localBytes (ops: readonly LocalOp[]): number {
  let n = 0
  for (const op of ops) {
    n += op.key.length + ITEM_OVERHEAD
    if (op.kind === 'kv.put') n += op.json.length
    else if (op.kind === 'set.add' || op.kind === 'set.remove') for (const m of op.members) n += m.length + ITEM_OVERHEAD
    else if (op.kind === 'map.update') n += mapOpsBytes(op.ops)
  }
  return n
}

function mapOpsBytes (ops: readonly MapOp[]): number {
  let n = 0
  for (const op of ops) {
    n += op.field.length + ITEM_OVERHEAD
    if (op.op === 'set') n += op.json.length
    else if (op.op === 'add' || op.op === 'remove') for (const m of op.members) n += m.length + ITEM_OVERHEAD
    else if (op.op === 'update') n += mapOpsBytes(op.ops)
  }
  return n
}
