/**
 * What a write asks for with `replicas` and `timeoutMs` (pure): validated once on the way in,
 * resolved to a number of nodes when the write is about to wait.
 */
import { DEFAULT_REPLICAS_TIMEOUT_MS, MAX_REPLICAS, MAX_REPLICAS_TIMEOUT_MS } from '../constants.js'
import { InvalidParamsError } from '../errors.js'

/** `replicas` as a caller gives it: a count of nodes (this one included), or "majority". */
export type Replicas = number | 'majority'

/** The durability options every write method takes. */
export interface DurableOptions {
  /** Nodes (this one included) that must hold the write before the call returns; absent = this node only. */
  replicas?: Replicas
  /** How long to wait for their acknowledgements (0: only what is already there counts). @default DEFAULT_REPLICAS_TIMEOUT_MS */
  timeoutMs?: number
}

export interface DurableTarget {
  replicas: Replicas
  timeoutMs: number
}

/**
 * Checks the options; undefined when the write asks for nothing more than today (no
 * `replicas`), so that such a call behaves exactly as before. A `timeoutMs` without
 * `replicas` is still checked: a bad value is refused, never ignored.
 */
export function checkDurable (options: DurableOptions | undefined): DurableTarget | undefined {
  if (options === undefined || options === null) return undefined
  if (typeof options !== 'object') throw new InvalidParamsError('options: must be an object', { data: { field: 'options' } })
  const timeoutMs = checkReplicasTimeout(options.timeoutMs)
  if (options.replicas === undefined) return undefined
  return { replicas: checkReplicas(options.replicas), timeoutMs }
}

export function checkReplicas (replicas: unknown, field = 'replicas'): Replicas {
  if (replicas === 'majority') return replicas
  if (typeof replicas !== 'number' || !Number.isInteger(replicas) || replicas < 1 || replicas > MAX_REPLICAS) {
    throw new InvalidParamsError(`${field}: must be an integer from 1 to ${MAX_REPLICAS} or "majority"`, { data: { field } })
  }
  return replicas
}

export function checkReplicasTimeout (timeoutMs: unknown, field = 'timeoutMs'): number {
  if (timeoutMs === undefined) return DEFAULT_REPLICAS_TIMEOUT_MS
  if (typeof timeoutMs !== 'number' || !Number.isInteger(timeoutMs) || timeoutMs < 0 || timeoutMs > MAX_REPLICAS_TIMEOUT_MS) {
    throw new InvalidParamsError(`${field}: must be an integer from 0 to ${MAX_REPLICAS_TIMEOUT_MS}`, { data: { field } })
  }
  return timeoutMs
}

/**
 * Nodes the write must reach, this one included. "majority" is more than half of the known
 * members (cluster.members: every peer that ever joined and was not forgotten or expired) plus
 * this node: 1 alone, 2 of 2, 2 of 3, 3 of 5.
 */
export function requiredNodes (replicas: Replicas, knownMembers: number): number {
  if (replicas !== 'majority') return replicas
  return Math.floor((knownMembers + 1) / 2) + 1
}
