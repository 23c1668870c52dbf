/**
 * The ops of `map.update` as clients write them in JSON, checked against every documented limit
 * and turned into crdt/or-map-ops.ts's MapOp. One parser for the RPC schema (which reports the
 * failing field as `params.ops[2].ops[0].value`) and the node (which never trusts its caller).
 *
 *   {op: "set", field, value}              a register field (value: any JSON)
 *   {op: "incr", field, by?}               a counter field (by: a safe integer, default 1)
 *   {op: "add" | "remove", field, members} a set field (members: strings)
 *   {op: "delete", field, type}            remove a field of that type (what this node has seen)
 *   {op: "update", field, ops}             the ops of a nested map field
 */
import { MAX_BATCH_OPS, MAX_MAP_DEPTH, MAX_MAP_FIELD_NAME_BYTES, MAX_MAP_OPS } from '../constants.js'
import { MAP_FIELD_TYPES, type MapFieldType, type MapOp } from '../crdt/index.js'
import { encodeValue, memberProblem } from './validate.js'

/** Where in the params a problem is (['ops', 0, 'value']) and what it is. */
export interface MapOpsProblem { path: Array<string | number>, problem: string }

export type MapOpsParse = { ok: true, ops: MapOp[] } | ({ ok: false } & MapOpsProblem)

/** Why a field name is unacceptable, or undefined. */
export function fieldNameProblem (name: unknown): string | undefined {
  if (typeof name !== 'string') return 'must be a string'
  if (name.length === 0) return 'must not be empty'
  if (!name.isWellFormed()) return 'must be valid UTF-8 (no lone surrogates)'
  if (Buffer.byteLength(name, 'utf8') > MAX_MAP_FIELD_NAME_BYTES) return `must be at most ${MAX_MAP_FIELD_NAME_BYTES} bytes of UTF-8`
  return undefined
}

const OP_KEYS: Readonly<Record<string, readonly string[]>> = {
  set: ['op', 'field', 'value'],
  incr: ['op', 'field', 'by'],
  add: ['op', 'field', 'members'],
  remove: ['op', 'field', 'members'],
  delete: ['op', 'field', 'type'],
  update: ['op', 'field', 'ops']
}

class Problem extends Error {
  constructor (readonly path: Array<string | number>, readonly problem: string) { super(problem) }
}

class Parser {
  private count = 0

  list (raw: unknown, path: Array<string | number>, depth: number): MapOp[] {
    if (!Array.isArray(raw) || raw.length === 0) throw new Problem(path, 'must be a non-empty array of operations')
    if (depth > MAX_MAP_DEPTH) throw new Problem(path, `nests maps more than ${MAX_MAP_DEPTH} deep`)
    return raw.map((op: unknown, i) => this.one(op, [...path, i], depth))
  }

  private one (raw: unknown, at: Array<string | number>, depth: number): MapOp {
    if (++this.count > MAX_MAP_OPS) throw new Problem(at, `more than ${MAX_MAP_OPS} operations in one update (nested ones included)`)
    if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw new Problem(at, 'must be an object')
    const o = raw as Record<string, unknown>
    const kind = o.op
    if (typeof kind !== 'string' || !Object.hasOwn(OP_KEYS, kind)) throw new Problem([...at, 'op'], `must be one of ${Object.keys(OP_KEYS).map(k => JSON.stringify(k)).join(', ')}`)
    const allowed = OP_KEYS[kind] as readonly string[]
    for (const k of Object.keys(o)) if (!allowed.includes(k)) throw new Problem([...at, k], `is not a parameter of a "${kind}" operation`)
    const nameProblem = fieldNameProblem(o.field)
    if (nameProblem !== undefined) throw new Problem([...at, 'field'], nameProblem)
    const field = o.field as string
    switch (kind) {
      case 'set': {
        const encoded = encodeValue(o.value)
        if ('problem' in encoded) throw new Problem([...at, 'value'], encoded.problem)
        return { op: 'set', field, json: encoded.json }
      }
      case 'incr': {
        const by = o.by ?? 1
        if (typeof by !== 'number' || !Number.isSafeInteger(by)) throw new Problem([...at, 'by'], 'must be a safe integer')
        return { op: 'incr', field, by }
      }
      case 'add': case 'remove':
        return { op: kind, field, members: this.members(o.members, [...at, 'members']) }
      case 'delete': {
        if (typeof o.type !== 'string' || !MAP_FIELD_TYPES.includes(o.type as MapFieldType)) {
          throw new Problem([...at, 'type'], `must be one of ${MAP_FIELD_TYPES.map(t => JSON.stringify(t)).join(', ')}`)
        }
        return { op: 'delete', field, type: o.type as MapFieldType }
      }
      default:
        return { op: 'update', field, ops: this.list(o.ops, [...at, 'ops'], depth + 1) }
    }
  }

  private members (raw: unknown, at: Array<string | number>): string[] {
    if (!Array.isArray(raw) || raw.length === 0) throw new Problem(at, 'must be a non-empty array of strings')
    if (raw.length > MAX_BATCH_OPS) throw new Problem(at, `must hold at most ${MAX_BATCH_OPS} members`)
    raw.forEach((m, i) => {
      const problem = memberProblem(m)
      if (problem !== undefined) throw new Problem([...at, i], problem)
    })
    return raw as string[]
  }
}

/**
 * The ops of a map.update, or where and why they are refused. `path` starts with `field`, the
 * name of the parameter holding them. The top ops make paths of one name; each `update` adds one.
 */
export function parseMapOps (raw: unknown, field = 'ops'): MapOpsParse {
  try {
    return { ok: true, ops: new Parser().list(raw, [field], 1) }
  } catch (err) {
    if (err instanceof Problem) return { ok: false, path: err.path, problem: err.problem }
    throw err
  }
}

/** `ops[0].ops[1].value` from ['ops', 0, 'ops', 1, 'value']. */
export function formatOpsPath (path: ReadonlyArray<string | number>): string {
  let out = ''
  for (const p of path) out += typeof p === 'number' ? `[${p}]` : out === '' ? p : `.${p}`
  return out
}
