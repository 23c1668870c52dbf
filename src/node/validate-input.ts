/**
 * The node re-validates everything it is given (the RPC layer validates first, but the node is
 * also a library): each failure names the field, as -32602 messages must.
 */
import type { CausalContext } from '../causal/index.js'
import { decodeContext } from '../codec/index.js'
import { MAX_AFTER_TIMEOUT_MS, MAX_BATCH_OPS, DEFAULT_AFTER_TIMEOUT_MS, MAX_TTL_MS } from '../constants.js'
import { InvalidContextError, InvalidParamsError } from '../errors.js'
import { encodeValue, keyProblem, memberProblem } from '../model/index.js'

export function checkKey (key: unknown, field = 'key'): string {
  const problem = keyProblem(key)
  if (problem !== undefined) throw new InvalidParamsError(`${field}: ${problem}`, { data: { field } })
  return key as string
}

export function checkValue (value: unknown, field = 'value'): string {
  const encoded = encodeValue(value)
  if ('problem' in encoded) throw new InvalidParamsError(`${field}: ${encoded.problem}`, { data: { field } })
  return encoded.json
}

/** A context string for the key at `storeKey` (contexts are bound to their key). */
export function checkContext (context: unknown, storeKey: string, field = 'context'): CausalContext | undefined {
  if (context === undefined || context === null) return undefined
  if (typeof context !== 'string') throw new InvalidParamsError(`${field}: must be a string`, { data: { field } })
  try {
    return decodeContext(storeKey, context)
  } catch (err) {
    throw new InvalidContextError(`${field}: ${(err as Error).message}`, { cause: err, data: { field } })
  }
}

export function checkMembers (members: unknown, field = 'members'): string[] {
  if (!Array.isArray(members)) throw new InvalidParamsError(`${field}: must be an array of strings`, { data: { field } })
  if (members.length > MAX_BATCH_OPS) throw new InvalidParamsError(`${field}: at most ${MAX_BATCH_OPS} members per call`, { data: { field } })
  members.forEach((m, i) => {
    const problem = memberProblem(m)
    if (problem !== undefined) throw new InvalidParamsError(`${field}[${i}]: ${problem}`, { data: { field: `${field}[${i}]` } })
  })
  return members as string[]
}

export function checkIncrement (by: unknown, field = 'by'): number {
  if (by === undefined) return 1
  if (typeof by !== 'number' || !Number.isSafeInteger(by)) throw new InvalidParamsError(`${field}: must be a safe integer`, { data: { field } })
  return by
}

export function checkTimeout (timeoutMs: unknown, field = 'timeoutMs'): number {
  if (timeoutMs === undefined) return DEFAULT_AFTER_TIMEOUT_MS
  if (typeof timeoutMs !== 'number' || !Number.isInteger(timeoutMs) || timeoutMs < 0 || timeoutMs > MAX_AFTER_TIMEOUT_MS) {
    throw new InvalidParamsError(`${field}: must be an integer from 0 to ${MAX_AFTER_TIMEOUT_MS}`, { data: { field } })
  }
  return timeoutMs
}

/** An expiry (docs/api.md, "Expiring keys"): absent, or a positive integer of at most MAX_TTL_MS. */
export function checkTtl (ttlMs: unknown, field = 'ttlMs'): number | undefined {
  if (ttlMs === undefined) return undefined
  if (typeof ttlMs !== 'number' || !Number.isInteger(ttlMs) || ttlMs < 1 || ttlMs > MAX_TTL_MS) {
    throw new InvalidParamsError(`${field}: must be an integer from 1 to ${MAX_TTL_MS}`, { data: { field } })
  }
  return ttlMs
}
