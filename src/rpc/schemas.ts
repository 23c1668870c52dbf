/**
 * One zod schema per JSON-RPC method. Validation failures become -32602 with a message that
 * names the field (`params.key: must not be empty`); the node validates again (it never trusts
 * its caller), this layer exists to give callers precise messages.
 */
import { z } from 'zod'
import {
  MAX_AFTER_TIMEOUT_MS, MAX_BATCH_OPS, MAX_EXPORT_PAGE_KEYS, MAX_FEED_CURSOR_CHARS, MAX_FEED_LIMIT, MAX_IMPORT_KEYS, MAX_IMPORT_STATE_CHARS, MAX_MULTIADDR_LENGTH, MAX_PEER_ID_LENGTH, MAX_SCAN_LIMIT,
  MAX_REPLICAS, MAX_REPLICAS_TIMEOUT_MS
} from '../constants.js'
import { MAX_TTL_MS } from '../constants.js'
import { InvalidParamsError } from '../errors.js'
import { CheckedValue, checkedValue, keyProblem, memberProblem } from '../model/index.js'
import { keyBoundProblem } from '../model/validate.js'
import type { BatchOp, MapUpdateOp } from '../node/api.js'
import { sessionTokenProblem } from '../session/index.js'
import { parseMapOps } from '../model/index.js'

/** Runs a `problem` function (undefined = fine) as a zod refinement. */
function refined (problem: (v: unknown) => string | undefined) {
  return (value: unknown, ctx: z.RefinementCtx): void => {
    const p = problem(value)
    if (p !== undefined) ctx.addIssue({ code: 'custom', message: p })
  }
}

const key = z.string().superRefine(refined(keyProblem))
const member = z.string().superRefine(refined(memberProblem))
const bound = z.string().superRefine(refined(keyBoundProblem))
/**
 * A register value, validated once: the node receives it as a CheckedValue (its JSON text,
 * known good) and does not stringify and check it again.
 */
function toCheckedValue (v: unknown, ctx: z.RefinementCtx, path: PropertyKey[] = []): CheckedValue {
  const r = checkedValue(v)
  if (r instanceof CheckedValue) return r
  ctx.addIssue({ code: 'custom', path, message: r.problem })
  return z.NEVER
}
const value = z.unknown().transform((v, ctx) => toCheckedValue(v, ctx))
const context = z.string().min(1)
const limit = z.int().min(1).max(MAX_SCAN_LIMIT)
const cursor = z.string().min(1)
const timeoutMs = z.int().min(0).max(MAX_AFTER_TIMEOUT_MS)
const members = z.array(member).max(MAX_BATCH_OPS)
/** Every data method's `session` and the bound on its wait (docs/api.md "Sessions"). */
const session = z.string().superRefine(refined(sessionTokenProblem))
const withSession = { session: session.optional(), timeoutMs: timeoutMs.optional() }
/** Durable writes: `replicas` (a count of nodes or "majority") and how long to wait for them. */
const durable = {
  replicas: z.union([z.int().min(1).max(MAX_REPLICAS), z.literal('majority')], { error: `must be an integer from 1 to ${MAX_REPLICAS} or "majority"` }).optional(),
  timeoutMs: z.int().min(0).max(MAX_REPLICAS_TIMEOUT_MS).optional()
}
/** Expiring keys: the key reads as absent this long after the write. */
const ttlMs = z.int().min(1).max(MAX_TTL_MS)

const batchOp = z.strictObject({
  op: z.enum(['put', 'delete']),
  key,
  value: z.unknown().optional(),
  context: context.optional(),
  ttlMs: ttlMs.optional()
}).transform((o, ctx): BatchOp => {
  if (o.op === 'put') return { op: 'put', key: o.key, value: toCheckedValue(o.value, ctx, ['value']), ...(o.context !== undefined ? { context: o.context } : {}), ...(o.ttlMs !== undefined ? { ttlMs: o.ttlMs } : {}) }
  if (o.value !== undefined) ctx.addIssue({ code: 'custom', path: ['value'], message: 'must be absent for a delete' })
  if (o.ttlMs !== undefined) ctx.addIssue({ code: 'custom', path: ['ttlMs'], message: 'must be absent for a delete' })
  return { op: 'delete', key: o.key, ...(o.context !== undefined ? { context: o.context } : {}) }
})

const empty = z.strictObject({})

/** map.update's ops, checked by the parser the node runs too (model/map-ops.ts), which names the path. */
const mapOps = z.unknown().transform((v, ctx): MapUpdateOp[] => {
  const r = parseMapOps(v, 'ops')
  if (!r.ok) {
    ctx.addIssue({ code: 'custom', path: r.path.slice(1), message: r.problem })
    return z.NEVER
  }
  return v as MapUpdateOp[]
})

const scanParams = z.strictObject({
  prefix: bound.optional(),
  start: bound.optional(),
  end: bound.optional(),
  limit: limit.optional(),
  cursor: cursor.optional(),
  ...withSession
})

/** One exported key: a space, a key, and the base64url of its encoded state. */
const importItem = z.strictObject({
  space: z.enum(['kv', 'counter', 'set', 'map']),
  key,
  state: z.string().min(1).max(MAX_IMPORT_STATE_CHARS).regex(/^[A-Za-z0-9_-]+$/, 'must be base64url text (an exported state)')
})

export const methodSchemas = {
  'kv.put': z.strictObject({ key, value, context: context.optional(), ttlMs: ttlMs.optional(), ...withSession, ...durable }),
  'kv.get': z.strictObject({ key, all: z.boolean().optional(), after: context.optional(), ...withSession }),
  'kv.delete': z.strictObject({ key, context: context.optional(), ...withSession, ...durable }),
  'kv.batch': z.strictObject({ ops: z.array(batchOp).min(1).max(MAX_BATCH_OPS), ...withSession, ...durable }),
  'kv.scan': scanParams,
  'kv.conflicts': z.strictObject({ prefix: bound.optional(), limit: limit.optional(), cursor: cursor.optional(), ...withSession }),
  'counter.incr': z.strictObject({ key, by: z.int().optional(), ttlMs: ttlMs.optional(), ...withSession, ...durable }),
  'counter.get': z.strictObject({ key, after: context.optional(), ...withSession }),
  'set.add': z.strictObject({ key, members, ttlMs: ttlMs.optional(), ...withSession, ...durable }),
  'set.remove': z.strictObject({ key, members, ...withSession, ...durable }),
  'set.get': z.strictObject({ key, after: context.optional(), ...withSession }),
  'counter.scan': scanParams,
  'set.scan': scanParams,
  'node.export': z.strictObject({ cursor: cursor.optional(), limit: z.int().min(1).max(MAX_EXPORT_PAGE_KEYS).optional() }),
  'node.import': z.strictObject({ items: z.array(importItem).min(1).max(MAX_IMPORT_KEYS) }),
  'node.info': empty,
  'node.errors': empty,
  'cluster.peers': empty,
  'cluster.sync': z.strictObject({ peer: z.string().min(1).optional() }),
  'cluster.members': empty,
  // The node parses both (a peer id, a multiaddr naming its peer) and names the field too.
  'cluster.forget': z.strictObject({ peerId: z.string().min(1).max(MAX_PEER_ID_LENGTH) }),
  'cluster.connect': z.strictObject({ addr: z.string().min(1).max(MAX_MULTIADDR_LENGTH) }),
  'kv.watch': z.strictObject({ prefix: bound.optional(), since: z.string().min(1).max(MAX_FEED_CURSOR_CHARS).optional() }),
  'kv.changes': z.strictObject({ since: z.string().min(1).max(MAX_FEED_CURSOR_CHARS).optional(), prefix: bound.optional(), limit: z.int().min(1).max(MAX_FEED_LIMIT).optional(), ...withSession }),
  'map.update': z.strictObject({ key, ops: mapOps, context: context.optional(), ...withSession, ...durable }),
  'map.get': z.strictObject({ key, all: z.boolean().optional(), after: context.optional(), ...withSession }),
  'map.delete': z.strictObject({ key, context: context.optional(), ...withSession, ...durable }),
  'map.scan': scanParams,
  'kv.unwatch': z.strictObject({ subscription: z.string().min(1) })
} as const

export type MethodName = keyof typeof methodSchemas
export type MethodParams<M extends MethodName> = z.output<(typeof methodSchemas)[M]>

function describe (expected: unknown): string {
  switch (expected) {
    case 'string': return 'a string'
    case 'int': return 'an integer'
    case 'number': return 'a number'
    case 'boolean': return 'a boolean'
    case 'object': return 'an object'
    case 'array': return 'an array'
    default: return String(expected)
  }
}

/** Friendlier messages than zod's defaults, applied per parse (never globally). */
const errorMap: z.core.$ZodErrorMap = (iss) => {
  switch (iss.code) {
    case 'invalid_type':
      return iss.input === undefined ? 'is required' : `must be ${describe(iss.expected)}`
    case 'too_small':
      if (iss.origin === 'array') return `must hold at least ${String(iss.minimum)} item(s)`
      if (iss.origin === 'string') return Number(iss.minimum) === 1 ? 'must not be empty' : `must be at least ${String(iss.minimum)} characters`
      return `must be at least ${String(iss.minimum)}`
    case 'too_big':
      if (iss.origin === 'array') return `must hold at most ${String(iss.maximum)} items`
      if (iss.origin === 'int' || iss.origin === 'number') return `must be at most ${String(iss.maximum)}`
      return `is too big (at most ${String(iss.maximum)})`
    case 'invalid_value':
      return `must be one of ${iss.values.map(v => JSON.stringify(v)).join(', ')}`
    default:
      return undefined
  }
}

function fieldPath (path: ReadonlyArray<PropertyKey>): string {
  let out = 'params'
  for (const p of path) out += typeof p === 'number' ? `[${p}]` : `.${String(p)}`
  return out
}

/**
 * Validates `params` (absent means `{}`) for `method`; throws InvalidParamsError whose message
 * names the field and whose data carries `field`.
 */
export function parseParams<M extends MethodName> (method: M, params: unknown): MethodParams<M> {
  if (Array.isArray(params)) {
    throw new InvalidParamsError('params: must be an object (by-name parameters)', { data: { field: 'params' } })
  }
  const schema = methodSchemas[method] as z.ZodType
  const r = schema.safeParse(params ?? {}, { error: errorMap })
  if (r.success) return r.data as MethodParams<M>
  const messages: string[] = []
  let firstField = 'params'
  for (const iss of r.error.issues) {
    if (iss.code === 'unrecognized_keys') {
      for (const k of iss.keys) {
        const f = fieldPath([...iss.path, k])
        if (messages.length === 0) firstField = f
        messages.push(`${f}: is not a known parameter of ${method}`)
      }
    } else {
      const f = fieldPath(iss.path)
      if (messages.length === 0) firstField = f
      messages.push(`${f}: ${iss.message}`)
    }
  }
  throw new InvalidParamsError(messages.slice(0, 5).join('; '), { data: { field: firstField } })
}
