/**
 * The data methods of ChorusApi — registers, counters, sets — on top of the replica: validate,
 * turn the request into local operations, apply them through the one write path, and shape the
 * result. The node (chorus-node.ts) supplies its running parts.
 */
import { contextAfterWrite, hasConflict, isAbsentAt, winnerAt, type CausalContext, type RegisterState } from '../causal/index.js'
import { encodeContext } from '../codec/index.js'
import { DEFAULT_SCAN_LIMIT, MAX_BATCH_OPS, MAX_SCAN_LIMIT } from '../constants.js'
import { counterEnded, counterValue, setEnded, setMembers, type CounterState, type OrSetState } from '../crdt/index.js'
import { InvalidParamsError } from '../errors.js'
import { toStoreKey, type KeySpace, type StateBySpace } from '../model/index.js'
import { keyBoundProblem } from '../model/validate.js'
import { spaceOf, type LocalOp, type Replica } from '../replica/index.js'
import type {
  BatchOp, BatchResult, ConflictsOptions, ConflictsResult, CounterResult, CounterScanItem, CounterScanResult, KvGetOptions, KvGetResult,
  ReadAfterOptions, ScanItem, ScanOptions, ScanResult, SetResult, SetScanItem, SetScanResult, TtlOptions, WriteResult
} from './api.js'
import { waitUntilSeen } from './after-wait.js'
import { checkDurable, type DurableOptions, type DurableTarget } from '../replication/index.js'
import { decodeCursor, encodeCursor, scanBounds } from './cursor.js'
import { checkContext, checkIncrement, checkKey, checkMembers, checkTimeout, checkTtl, checkValue } from './validate-input.js'
import { counterView, registerView, setView } from './views.js'

export abstract class DataMethods {
  /** The running replica; throws NotReadyError when the node is not running. */
  protected abstract parts (): { replica: Replica }
  /** While local writes must still wait for the cluster's time, what to wait on (node/time-sync.ts). */
  protected abstract clockFence (): Promise<void> | undefined
  /** Resolves once the committed states of `storeKeys` are on as many nodes as `target` asks (replication/). */
  protected abstract awaitReplicas (storeKeys: string[], target: DurableTarget): Promise<void>

  /** Every local write goes through here: the clock fence, then the one write path. */
  protected async applyLocal (ops: LocalOp[], durable?: DurableTarget): Promise<unknown[]> {
    const fence = this.clockFence()
    if (fence !== undefined) {
      this.parts() // NotReadyError at once when stopped, not after the fence
      await fence
    }
    const states = await this.parts().replica.applyLocal(ops)
    // Committed here first; a timeout below leaves the write in place (it keeps spreading).
    if (durable !== undefined) await this.awaitReplicas(ops.map(op => toStoreKey(spaceOf(op), op.key)), durable)
    return states
  }

  // ---- registers

  async kvPut (key: unknown, value: unknown, context?: unknown, options: DurableOptions & TtlOptions = {}): Promise<WriteResult> {
    const k = checkKey(key)
    const ttlMs = checkTtl(options.ttlMs)
    const op = { kind: 'kv.put', key: k, json: checkValue(value), context: checkContext(context, toStoreKey('kv', k)), ...(ttlMs !== undefined ? { ttlMs } : {}) } as const
    const [state] = await this.applyLocal([op], checkDurable(options)) as RegisterState[]
    return this.writeResult(op, state as RegisterState)
  }

  async kvDelete (key: unknown, context?: unknown, options?: DurableOptions): Promise<WriteResult> {
    const k = checkKey(key)
    const op = { kind: 'kv.delete', key: k, context: checkContext(context, toStoreKey('kv', k)) } as const
    const [state] = await this.applyLocal([op], checkDurable(options)) as RegisterState[]
    return this.writeResult(op, state as RegisterState)
  }

  /** What a register write returns: its own context (see causal/context.ts) and whether siblings remain. */
  private writeResult (op: { key: string, context?: CausalContext }, state: RegisterState): WriteResult {
    const context = contextAfterWrite(state, this.parts().replica.nodeId, op.context)
    return { context: encodeContext(toStoreKey('kv', op.key), context), conflict: hasConflict(state) }
  }

  async kvGet (key: unknown, options: KvGetOptions = {}): Promise<KvGetResult> {
    const k = checkKey(key)
    const { replica } = this.parts()
    const after = checkContext(options.after, toStoreKey('kv', k), 'after')
    if (after !== undefined) await waitUntilSeen(replica, 'kv', k, after, checkTimeout(options.timeoutMs))
    return registerView(k, await replica.read('kv', k), options.all === true, replica.readTime())
  }

  async kvBatch (ops: BatchOp[], options?: DurableOptions): Promise<BatchResult> {
    const durable = checkDurable(options)
    if (!Array.isArray(ops) || ops.length === 0 || ops.length > MAX_BATCH_OPS) {
      throw new InvalidParamsError(`ops: must be an array of 1 to ${MAX_BATCH_OPS} operations`, { data: { field: 'ops' } })
    }
    const local: LocalOp[] = ops.map((op, i) => {
      const at = `ops[${i}]`
      if (op === null || typeof op !== 'object') throw new InvalidParamsError(`${at}: must be an object`, { data: { field: at } })
      const key = checkKey(op.key, `${at}.key`)
      const context = checkContext(op.context, toStoreKey('kv', key), `${at}.context`)
      if (op.op === 'put') {
        const ttlMs = checkTtl(op.ttlMs, `${at}.ttlMs`)
        return { kind: 'kv.put', key, json: checkValue(op.value, `${at}.value`), context, ...(ttlMs !== undefined ? { ttlMs } : {}) }
      }
      if (op.op === 'delete') return { kind: 'kv.delete', key, context }
      throw new InvalidParamsError(`${at}.op: must be "put" or "delete"`, { data: { field: `${at}.op` } })
    })
    const states = await this.applyLocal(local, durable) as RegisterState[]
    const results = states.map((s, i) => this.writeResult(local[i] as { key: string, context?: CausalContext }, s))
    return { contexts: results.map(r => r.context), conflicts: results.map(r => r.conflict) }
  }

  async kvScan (options: ScanOptions = {}): Promise<ScanResult> {
    const now = this.parts().replica.readTime()
    return await this.scanSpace('kv', options, (key, state): ScanItem | undefined => {
      if (isAbsentAt(state, now)) return undefined // deleted and expired keys are absent
      const winner = winnerAt(state, now)
      return { key, value: JSON.parse(winner?.value as string), conflict: state.siblings.length > 1 }
    })
  }

  async counterScan (options: ScanOptions = {}): Promise<CounterScanResult> {
    const now = this.parts().replica.readTime()
    // Expired counters and sets are absent, like deleted registers.
    return await this.scanSpace('counter', options, (key, state): CounterScanItem | undefined => counterEnded(state, now) ? undefined : { key, value: counterValue(state) })
  }

  async setScan (options: ScanOptions = {}): Promise<SetScanResult> {
    const now = this.parts().replica.readTime()
    return await this.scanSpace('set', options, (key, state): SetScanItem | undefined => setEnded(state, now) ? undefined : { key, members: setMembers(state) })
  }

  /**
   * One page of a space in key order. `view` shapes a key's item, or skips it (undefined); the
   * keys examined per page are bounded too, so that pages of skipped keys stay cheap.
   */
  protected async scanSpace<S extends KeySpace, I> (space: S, options: ScanOptions, view: (key: string, state: StateBySpace[S]) => I | undefined): Promise<{ items: I[], cursor?: string }> {
    const limit = checkLimit(options.limit)
    const prefix = options.prefix === undefined ? undefined : checkBound(options.prefix, 'prefix')
    const start = options.start === undefined ? undefined : checkBound(options.start, 'start')
    const end = options.end === undefined ? undefined : checkBound(options.end, 'end')
    const bounds = scanBounds({ prefix, start, end, after: decodeCursor(options.cursor) })
    const items: I[] = []
    let examined = 0
    const maxExamined = Math.max(limit * 4, 1000)
    for await (const [key, state] of this.parts().replica.states(space, bounds)) {
      examined++
      const item = view(key, state)
      if (item !== undefined) {
        items.push(item)
        if (items.length >= limit) return { items, cursor: encodeCursor(key) }
      }
      if (examined >= maxExamined) return { items, cursor: encodeCursor(key) }
    }
    return { items }
  }

  async kvConflicts (options: ConflictsOptions = {}): Promise<ConflictsResult> {
    const limit = checkLimit(options.limit)
    const prefix = options.prefix === undefined ? undefined : checkBound(options.prefix, 'prefix')
    const bounds = scanBounds({ prefix, after: decodeCursor(options.cursor) })
    const keys: string[] = []
    for await (const key of this.parts().replica.conflictKeys(bounds)) {
      keys.push(key)
      if (keys.length >= limit) return { keys, cursor: encodeCursor(key) }
    }
    return { keys }
  }

  // ---- counters and sets

  async counterIncr (key: unknown, by?: unknown, options: DurableOptions & TtlOptions = {}): Promise<CounterResult> {
    const ttlMs = checkTtl(options.ttlMs)
    const op: LocalOp = { kind: 'counter.incr', key: checkKey(key), by: checkIncrement(by), ...(ttlMs !== undefined ? { ttlMs } : {}) }
    const [state] = await this.applyLocal([op], checkDurable(options)) as CounterState[]
    return counterView(op.key, state as CounterState, this.parts().replica.readTime())
  }

  async counterGet (key: unknown, options: ReadAfterOptions = {}): Promise<CounterResult> {
    const k = checkKey(key)
    const { replica } = this.parts()
    const after = checkContext(options.after, toStoreKey('counter', k), 'after')
    if (after !== undefined) await waitUntilSeen(replica, 'counter', k, after, checkTimeout(options.timeoutMs))
    return counterView(k, await replica.read('counter', k), replica.readTime())
  }

  async setAdd (key: unknown, members: unknown, options: DurableOptions & TtlOptions = {}): Promise<SetResult> {
    const ttlMs = checkTtl(options.ttlMs)
    return await this.setOp({ kind: 'set.add', key: checkKey(key), members: checkMembers(members), ...(ttlMs !== undefined ? { ttlMs } : {}) }, checkDurable(options))
  }

  async setRemove (key: unknown, members: unknown, options?: DurableOptions): Promise<SetResult> {
    return await this.setOp({ kind: 'set.remove', key: checkKey(key), members: checkMembers(members) }, checkDurable(options))
  }

  private async setOp (op: LocalOp, durable?: DurableTarget): Promise<SetResult> {
    const [state] = await this.applyLocal([op], durable) as OrSetState[]
    return setView(op.key, state as OrSetState, this.parts().replica.readTime())
  }

  async setGet (key: unknown, options: ReadAfterOptions = {}): Promise<SetResult> {
    const k = checkKey(key)
    const { replica } = this.parts()
    const after = checkContext(options.after, toStoreKey('set', k), 'after')
    if (after !== undefined) await waitUntilSeen(replica, 'set', k, after, checkTimeout(options.timeoutMs))
    return setView(k, await replica.read('set', k), replica.readTime())
  }
}

function checkLimit (limit: unknown): number {
  if (limit === undefined) return DEFAULT_SCAN_LIMIT
  if (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 1 || limit > MAX_SCAN_LIMIT) {
    throw new InvalidParamsError(`limit: must be an integer from 1 to ${MAX_SCAN_LIMIT}`, { data: { field: 'limit' } })
  }
  return limit
}

function checkBound (value: unknown, field: string): string {
  const problem = keyBoundProblem(value)
  if (problem !== undefined) throw new InvalidParamsError(`${field}: ${problem}`, { data: { field } })
  return value as string
}

