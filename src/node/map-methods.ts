/**
 * The map methods of ChorusApi (map.update, map.get, map.delete, map.scan) on top of the
 * replica: validate, turn the request into a local op, apply it through the one write path, and
 * shape the result. The node supplies its running parts (composition: chorus-node.ts delegates).
 */
import { contextOf, normaliseContext, vvCovers, vvGet, type CausalContext, type Dot } from '../causal/index.js'
import { encodeContext } from '../codec/index.js'
import { countNewDots, type MapOp, type OrMapState } from '../crdt/index.js'
import { InvalidParamsError } from '../errors.js'
import { formatOpsPath, parseMapOps, toStoreKey } from '../model/index.js'
import type { LocalOp, Replica } from '../replica/index.js'
import type { MapGetOptions, MapGetResult, MapScanItem, MapScanResult, ScanOptions, WriteResult } from './api.js'
import { waitUntilSeen } from './after-wait.js'
import { mapHasConflict, mapPlainValue, mapView } from './map-views.js'
import { checkContext, checkKey, checkTimeout } from './validate-input.js'

import { checkDurable, type DurableOptions, type DurableTarget } from '../replication/index.js'

export interface MapMethodsInit {
  /** The running replica; throws NotReadyError when the node is not running. */
  replica: () => Replica
  /** The node's one way in for local writes (the clock fence, then the replica). */
  applyLocal: (ops: LocalOp[], durable?: DurableTarget) => Promise<unknown[]>
  /** One page of the map space in key order; `view` shapes an item or skips the key. */
  scan: (options: ScanOptions, view: (key: string, state: OrMapState) => MapScanItem | undefined) => Promise<MapScanResult>
}

/** The node's own check of map.update's ops (the RPC schema ran the same parser first). */
export function checkMapOps (ops: unknown, field = 'ops'): MapOp[] {
  const parsed = parseMapOps(ops, field)
  if (parsed.ok) return parsed.ops
  const at = formatOpsPath(parsed.path)
  throw new InvalidParamsError(`${at}: ${parsed.problem}`, { data: { field: at } })
}

/**
 * What a map write returns (as kv's, causal/context.ts): with no context, everything the map
 * has seen; with one, what that context covered of what the replica had seen, plus the dots the
 * write created — never a concurrent version the write left standing.
 */
function writeContext (after: OrMapState, node: string, created: number, context: CausalContext | undefined): CausalContext {
  if (context === undefined) return contextOf(after.vv)
  const vv: Record<string, number> = {}
  for (const [n, c] of Object.entries(context.vv)) {
    const kept = Math.min(c, vvGet(after.vv, n))
    if (kept > 0) vv[n] = kept
  }
  const last = vvGet(after.vv, node)
  const own: Dot[] = []
  for (let c = last - created + 1; c <= last; c++) own.push({ node, counter: c })
  const dots = [...context.dots.filter(d => vvCovers(after.vv, d)), ...own]
  return normaliseContext(vv, dots, own.at(-1))
}

export class MapMethods {
  constructor (private readonly init: MapMethodsInit) {}

  async update (key: unknown, ops: unknown, context?: unknown, options?: DurableOptions): Promise<WriteResult> {
    const k = checkKey(key)
    const op = { kind: 'map.update', key: k, ops: checkMapOps(ops), context: checkContext(context, toStoreKey('map', k)) } as const
    return await this.write(op, countNewDots(op.ops), checkDurable(options))
  }

  async delete (key: unknown, context?: unknown, options?: DurableOptions): Promise<WriteResult> {
    const k = checkKey(key)
    return await this.write({ kind: 'map.delete', key: k, context: checkContext(context, toStoreKey('map', k)) }, 0, checkDurable(options))
  }

  private async write (op: Extract<LocalOp, { kind: 'map.update' | 'map.delete' }>, created: number, durable: DurableTarget | undefined): Promise<WriteResult> {
    const [state] = await this.init.applyLocal([op], durable) as OrMapState[]
    const after = state as OrMapState
    const context = writeContext(after, this.init.replica().nodeId, created, op.context)
    return { context: encodeContext(toStoreKey('map', op.key), context), conflict: mapHasConflict(after) }
  }

  async get (key: unknown, options: MapGetOptions = {}): Promise<MapGetResult> {
    const k = checkKey(key)
    const replica = this.init.replica()
    const after = checkContext(options.after, toStoreKey('map', k), 'after')
    if (after !== undefined) await waitUntilSeen(replica, 'map', k, after, checkTimeout(options.timeoutMs))
    return mapView(k, await replica.read('map', k), options.all === true)
  }

  async scan (options: ScanOptions = {}): Promise<MapScanResult> {
    return await this.init.scan(options, (key, state) => {
      if (state.leaves.size === 0) return undefined // an emptied map reads as absent
      return { key, value: mapPlainValue(state).value, conflict: mapHasConflict(state) }
    })
  }
}
