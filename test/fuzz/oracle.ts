/**
 * What the node must answer, from the contract (shared/spec/interface.md §2, docs/api.md,
 * docs/errors.md) and the request exactly as the node parsed it: whether a reply is due and
 * with which id, that the reply is well-formed JSON-RPC 2.0, that an error carries a documented
 * code (never -32603 for bad input), that -32602 names a field the request got wrong, and that
 * a result has the documented shape.
 */
import { isDeepStrictEqual } from 'node:util'
import { MAX_BATCH, keyVerdict } from './cases.js'

export type Transport = 'http' | 'ws'

/** A method call with its Syms resolved: the verdicts are final. */
export interface ResolvedCase {
  method: string
  bad: string[]
  either: string[]
  blocking: boolean
}

export interface Expectation {
  id: unknown
  /** The request as the node parsed it. */
  request: unknown
  case?: ResolvedCase
  check: (reply: Record<string, unknown>) => string | undefined
}

/** What a whole body (HTTP) or frame (WebSocket) must be answered with. */
export type Answer =
  | { kind: 'none' }
  | { kind: 'single', expectation: Expectation }
  | { kind: 'array', expectations: Expectation[] }

/** Documented numeric codes and the string codes each may carry (docs/errors.md). -32603 is absent on purpose. */
const CODES: Readonly<Record<number, readonly string[]>> = {
  [-32700]: ['ERR_PARSE'],
  [-32600]: ['ERR_INVALID_REQUEST', 'ERR_UNSUPPORTED_MEDIA_TYPE', 'ERR_BODY_TOO_LARGE'],
  [-32601]: ['ERR_METHOD_NOT_FOUND'],
  [-32602]: ['ERR_INVALID_PARAMS', 'ERR_INVALID_CONTEXT', 'ERR_CONFIG'],
  [-32001]: ['ERR_AFTER_TIMEOUT'],
  [-32002]: ['ERR_NOT_READY'],
  [-32003]: ['ERR_NO_PEER'],
  [-32004]: ['ERR_SYNC_FAILED'],
  [-32005]: ['ERR_LIMIT_EXCEEDED'],
  [-32007]: ['ERR_UNAUTHORIZED', 'ERR_FORBIDDEN_HOST'],
  [-32008]: ['ERR_STORAGE'],
  [-32009]: ['ERR_IDENTITY_CONFLICT']
}

const WRITES = new Set(['kv.put', 'kv.delete', 'kv.batch', 'counter.incr', 'set.add', 'set.remove'])
const READS_AFTER = new Set(['kv.get', 'counter.get', 'set.get'])
const HTTP_KNOWN = new Set(['kv.put', 'kv.get', 'kv.delete', 'kv.batch', 'kv.scan', 'kv.conflicts', 'counter.incr', 'counter.get',
  'set.add', 'set.remove', 'set.get', 'node.info', 'cluster.peers', 'cluster.sync'])
const WS_KNOWN = new Set([...HTTP_KNOWN, 'kv.watch', 'kv.unwatch'])

type Obj = Record<string, unknown>
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v)
const isId = (v: unknown): boolean => typeof v === 'string' || v === null || (typeof v === 'number' && Number.isFinite(v))

// ---- the envelope

/** Why a parsed value is not a JSON-RPC 2.0 request, or undefined. */
function envelopeProblem (r: unknown): string | undefined {
  if (!isObj(r)) return 'not an object'
  if (r.jsonrpc !== '2.0') return 'jsonrpc'
  if (typeof r.method !== 'string') return 'method'
  if ('id' in r && !isId(r.id)) return 'id'
  if ('params' in r && typeof r.params !== 'object') return 'params'
  if ('params' in r && r.params === null) return 'params'
  if ('result' in r || 'error' in r) return 'result/error'
  return undefined
}

export function expectationFor (request: unknown, c: ResolvedCase | undefined, transport: Transport, selfId: string): Expectation | undefined {
  if (envelopeProblem(request) !== undefined) {
    const id = isObj(request) && 'id' in request && isId(request.id) ? request.id : null
    return { id, request, check: r => errorIs(r, -32600, 'ERR_INVALID_REQUEST') }
  }
  const req = request as Obj
  if (!('id' in req)) return undefined
  const known = (transport === 'http' ? HTTP_KNOWN : WS_KNOWN).has(req.method as string)
  if (!known) return { id: req.id, request, check: r => errorIs(r, -32601, 'ERR_METHOD_NOT_FOUND') }
  const fitting = c !== undefined && c.method === req.method ? c : undefined
  return { id: req.id, request, ...(fitting !== undefined ? { case: fitting } : {}), check: r => methodReplyProblem(r, req, fitting, selfId) }
}

/** The answer due for a parsed body: `items[i]` is the case behind element i (or the single request). */
export function answerFor (parsed: unknown, items: ReadonlyArray<ResolvedCase | undefined>, transport: Transport, selfId: string): Answer {
  if (!Array.isArray(parsed)) {
    const e = expectationFor(parsed, items[0], transport, selfId)
    return e === undefined ? { kind: 'none' } : { kind: 'single', expectation: e }
  }
  if (parsed.length === 0 || parsed.length > MAX_BATCH) {
    return { kind: 'single', expectation: { id: null, request: parsed, check: r => errorIs(r, -32600, 'ERR_INVALID_REQUEST') } }
  }
  const expectations = parsed.flatMap((p, i) => {
    const e = expectationFor(p, items[i], transport, selfId)
    return e === undefined ? [] : [e]
  })
  return expectations.length === 0 ? { kind: 'none' } : { kind: 'array', expectations }
}

export const parseErrorAnswer: Answer = { kind: 'single', expectation: { id: null, request: undefined, check: r => errorIs(r, -32700, 'ERR_PARSE') } }

/** A reply object's own shape: jsonrpc "2.0", an id, exactly one of result and error. */
export function replyShapeProblem (r: unknown): string | undefined {
  if (!isObj(r)) return 'a reply is not an object'
  if (r.jsonrpc !== '2.0') return 'jsonrpc is not "2.0"'
  if (!('id' in r)) return 'no id'
  if (('result' in r) === ('error' in r)) return 'not exactly one of result and error'
  const extra = Object.keys(r).filter(k => !['jsonrpc', 'id', 'result', 'error'].includes(k))
  if (extra.length > 0) return `unexpected members ${extra.join(', ')}`
  if ('error' in r) return errorObjectProblem(r.error)
  return undefined
}

function errorObjectProblem (e: unknown): string | undefined {
  if (!isObj(e)) return 'error is not an object'
  if (typeof e.code !== 'number' || !Number.isInteger(e.code)) return 'error.code is not an integer'
  if (e.code === -32603) return `-32603 (internal error) for input: ${String(e.message)}`
  const allowed = CODES[e.code]
  if (allowed === undefined) return `undocumented error code ${e.code}`
  if (typeof e.message !== 'string' || e.message.length === 0) return 'error.message is not a non-empty string'
  if (!isObj(e.data) || typeof e.data.code !== 'string') return 'error.data.code is not a string'
  if (!allowed.includes(e.data.code)) return `error.data.code ${e.data.code} does not go with ${e.code}`
  return undefined
}

function errorIs (r: Obj, code: number, stringCode: string): string | undefined {
  const e = r.error as Obj | undefined
  if (e === undefined) return `expected error ${code}, got a result`
  if (e.code !== code || (e.data as Obj).code !== stringCode) return `expected ${code} ${stringCode}, got ${String(e.code)} ${String((e.data as Obj).code)}: ${String(e.message)}`
  return undefined
}

/** Matches the replies of a body to its expectations by id; several may share an id. */
export function matchReplies (answer: Answer, body: unknown): { problems: string[], pairs: Array<[Expectation, Obj]> } {
  const problems: string[] = []
  const pairs: Array<[Expectation, Obj]> = []
  if (answer.kind === 'none') return { problems: body === undefined ? [] : ['a reply to notifications only'], pairs }
  if (answer.kind === 'single' && Array.isArray(body)) return { problems: ['an array reply to a single request'], pairs }
  if (answer.kind === 'array' && !Array.isArray(body)) return { problems: ['a batch not answered with an array'], pairs }
  const replies = Array.isArray(body) ? body : [body]
  const open = answer.kind === 'single' ? [answer.expectation] : [...answer.expectations]
  for (const reply of replies) {
    const shape = replyShapeProblem(reply)
    if (shape !== undefined) { problems.push(shape); continue }
    const r = reply as Obj
    const candidates = open.filter(e => e.id === r.id)
    if (candidates.length === 0) { problems.push(`a reply with an unexpected id ${JSON.stringify(r.id)}`); continue }
    const results = candidates.map(e => e.check(r))
    const fit = results.findIndex(p => p === undefined)
    // A reply that fits no expectation still answers one (the first): it is not also "missing".
    const e = candidates[Math.max(0, fit)] as Expectation
    open.splice(open.indexOf(e), 1)
    pairs.push([e, r])
    if (fit < 0) problems.push(`id ${JSON.stringify(r.id)}: ${results[0] as string}\n  the request: ${requestPreview(e.request)}`)
  }
  for (const e of open) problems.push(`no reply for id ${JSON.stringify(e.id)}`)
  return { problems, pairs }
}

function requestPreview (request: unknown): string {
  const text = JSON.stringify(request) ?? String(request)
  return text.length <= 400 ? text : `${text.slice(0, 200)}…(${text.length} chars)…${text.slice(-200)}`
}

// ---- method replies

/** Paths are related when one names the other or a part of it (`params.ops[1]` and `params.ops[1].key`). */
function related (a: string, b: string): boolean {
  const inside = (x: string, y: string): boolean => x === y || (x.startsWith(y) && (x[y.length] === '.' || x[y.length] === '['))
  return inside(a, b) || inside(b, a)
}

function methodReplyProblem (r: Obj, req: Obj, c: ResolvedCase | undefined, selfId: string): string | undefined {
  const method = req.method as string
  if (c === undefined) {
    // Params not from a generator: any documented answer but "unknown method".
    if ('error' in r) return (r.error as Obj).code === -32601 ? `${method} answered -32601` : undefined
    return resultProblem(method, req.params ?? {}, r.result, selfId)
  }
  if ('error' in r) return errorVerdictProblem(r.error as Obj, method, c)
  if (c.bad.length > 0) return `accepted, though ${c.bad.join(', ')} ${c.bad.length === 1 ? 'is' : 'are'} invalid`
  return resultProblem(method, req.params ?? {}, r.result, selfId)
}

function errorVerdictProblem (e: Obj, method: string, c: ResolvedCase): string | undefined {
  const code = e.code as number
  if (code === -32602) {
    const field = (e.data as Obj).field
    if (typeof field !== 'string') return `-32602 without data.field: ${String(e.message)}`
    if (!field.startsWith('params')) return `data.field ${field} does not name a param`
    if (!(e.message as string).startsWith(field)) return `the message does not start with data.field ${field}: ${String(e.message)}`
    const suspects = [...c.bad, ...c.either]
    if (!suspects.some(s => related(s, field))) {
      return suspects.length === 0 ? `a valid request refused: ${String(e.message)}` : `-32602 names ${field}, expected one of ${suspects.join(', ')}: ${String(e.message)}`
    }
    return undefined
  }
  if (c.bad.length > 0) return `expected -32602 naming ${c.bad.join(' or ')}, got ${code}: ${String(e.message)}`
  if (code === -32005 && (WRITES.has(method) || method === 'kv.watch')) return undefined
  if (code === -32001 && READS_AFTER.has(method) && c.blocking) return undefined
  if (code === -32003 && method === 'cluster.sync') return undefined
  return `${method} answered ${code}: ${String(e.message)}`
}

// ---- result shapes (docs/api.md)

const isStr = (v: unknown): v is string => typeof v === 'string'
const isBool = (v: unknown): v is boolean => typeof v === 'boolean'
const isContext = (v: unknown): boolean => isStr(v) && /^[A-Za-z0-9_-]+$/.test(v)
const HLC = /^\d+:\d+$/

function utf8Compare (a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'))
}

function resultProblem (method: string, paramsIn: unknown, result: unknown, selfId: string): string | undefined {
  const params = (isObj(paramsIn) ? paramsIn : {})
  switch (method) {
    case 'kv.put': case 'kv.delete':
      return isObj(result) && isContext(result.context) && isBool(result.conflict) ? undefined : 'not {context, conflict}'
    case 'kv.get': return kvGetProblem(result, params.all === true)
    case 'kv.batch': {
      const n = Array.isArray(params.ops) ? params.ops.length : -1
      if (!isObj(result) || !Array.isArray(result.contexts) || !Array.isArray(result.conflicts)) return 'not {contexts, conflicts}'
      if (result.contexts.length !== n || result.conflicts.length !== n) return `not one context and conflict per op (${n})`
      return result.contexts.every(isContext) && result.conflicts.every(isBool) ? undefined : 'contexts/conflicts of the wrong types'
    }
    case 'kv.scan': return scanProblem(result, params)
    case 'kv.conflicts': return conflictsProblem(result, params)
    case 'counter.incr': case 'counter.get':
      return isObj(result) && Number.isSafeInteger(result.value) && isContext(result.context) ? undefined : 'not {value: a safe integer, context}'
    case 'set.add': case 'set.remove': case 'set.get': return setProblem(method, result, params)
    case 'node.info': {
      if (!isObj(result) || result.peerId !== selfId || !Array.isArray(result.addrs) || !isStr(result.rpcUrl) || !isStr(result.version)) return 'not node.info'
      return Number.isSafeInteger(result.keys) && (result.keys as number) >= 0 && isStr(result.digest) && /^[0-9a-f]+$/.test(result.digest) ? undefined : 'node.info: keys/digest'
    }
    case 'cluster.peers': return Array.isArray(result) && result.length === 0 ? undefined : 'cluster.peers of a node alone is not []'
    case 'cluster.sync': return 'cluster.sync succeeded with no peer'
    case 'kv.watch': return isStr(result) && /^w\d+$/.test(result) ? undefined : 'kv.watch did not return a subscription id'
    case 'kv.unwatch': return isBool(result) ? undefined : 'kv.unwatch did not return a boolean'
    default: return `a result for ${method}`
  }
}

function kvGetProblem (result: unknown, all: boolean): string | undefined {
  if (!isObj(result) || !isBool(result.found) || !isBool(result.conflict) || !isContext(result.context) || !('value' in result)) return 'not {found, value, conflict, context}'
  if (!result.found && result.value !== null) return 'not found, but value is not null'
  if (!all) return 'values' in result ? 'values without all: true' : undefined
  const values = result.values
  if (!Array.isArray(values)) return 'all: true without values'
  for (const v of values) {
    if (!isObj(v) || !('value' in v) || !isStr(v.node) || !isStr(v.hlc) || !HLC.test(v.hlc)) return 'a sibling is not {value, node, hlc}'
    if ('deleted' in v && (v.deleted !== true || v.value !== null)) return 'a tombstone sibling is not {value: null, deleted: true}'
  }
  if (result.conflict !== (values.length > 1)) return `conflict is ${String(result.conflict)} with ${values.length} siblings`
  // The winner comes first (src/node/api.ts; docs/api.md says last, see the report).
  const winner = values[0] as Obj | undefined
  if (winner === undefined) return result.found ? 'found without siblings' : undefined
  if (result.found !== (winner.deleted !== true)) return 'found does not match the first sibling'
  if (result.found && !isDeepStrictEqual(winner.value, result.value)) return 'value is not the first sibling\'s'
  return undefined
}

/** Keys in strictly ascending UTF-8 byte order, each a valid key. */
function keyOrderProblem (keys: unknown[]): string | undefined {
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i]
    if (keyVerdict(k) !== 'ok') return `an invalid key ${JSON.stringify(k)} listed`
    if (i > 0 && utf8Compare(keys[i - 1] as string, k as string) >= 0) return `keys out of order: ${JSON.stringify(keys[i - 1])} before ${JSON.stringify(k)}`
  }
  return undefined
}

/** The bounds a listing must respect, where they are well-formed strings (prefix, [start, end), after the cursor). */
function boundsProblem (keys: string[], params: Obj): string | undefined {
  const wellFormed = (v: unknown): v is string => isStr(v) && v.isWellFormed()
  const cursorKey = isStr(params.cursor) ? Buffer.from(params.cursor, 'base64url') : undefined
  for (const k of keys) {
    if (wellFormed(params.prefix) && !k.startsWith(params.prefix)) return `${JSON.stringify(k)} is outside prefix ${JSON.stringify(params.prefix)}`
    if (wellFormed(params.start) && utf8Compare(k, params.start) < 0) return `${JSON.stringify(k)} is before start ${JSON.stringify(params.start)}`
    if (wellFormed(params.end) && utf8Compare(k, params.end) >= 0) return `${JSON.stringify(k)} is not before end ${JSON.stringify(params.end)}`
    if (cursorKey !== undefined && isValidUtf8(cursorKey) && Buffer.compare(Buffer.from(k, 'utf8'), cursorKey) <= 0) return `${JSON.stringify(k)} is not after the cursor`
  }
  return undefined
}

const STRICT_UTF8 = new TextDecoder('utf-8', { fatal: true })
function isValidUtf8 (b: Uint8Array): boolean {
  try { STRICT_UTF8.decode(b); return true } catch { return false }
}

function pageProblem (n: number, cursor: unknown, params: Obj): string | undefined {
  const limit = typeof params.limit === 'number' ? params.limit : 100
  if (n > limit) return `${n} items for limit ${limit}`
  if (cursor !== undefined && !isContext(cursor)) return 'a cursor that is not base64url'
  // A full page must say where to go on (a shorter one may too: deleted keys are skipped).
  if (n === limit && cursor === undefined) return 'a full page without a cursor'
  return undefined
}

function scanProblem (result: unknown, params: Obj): string | undefined {
  if (!isObj(result) || !Array.isArray(result.items)) return 'not {items}'
  for (const it of result.items) if (!isObj(it) || !isStr(it.key) || !('value' in it) || !isBool(it.conflict)) return 'an item is not {key, value, conflict}'
  const keys = result.items.map(it => (it as Obj).key as string)
  return keyOrderProblem(keys) ?? boundsProblem(keys, params) ?? pageProblem(keys.length, result.cursor, params)
}

function conflictsProblem (result: unknown, params: Obj): string | undefined {
  if (!isObj(result) || !Array.isArray(result.keys)) return 'not {keys}'
  return keyOrderProblem(result.keys) ?? boundsProblem(result.keys as string[], params) ?? pageProblem(result.keys.length, result.cursor, params)
}

function setProblem (method: string, result: unknown, params: Obj): string | undefined {
  if (!isObj(result) || !Array.isArray(result.members) || !isContext(result.context)) return 'not {members, context}'
  const members = result.members as unknown[]
  if (!members.every(isStr)) return 'a member is not a string'
  const sorted = [...members as string[]].sort()
  if (!isDeepStrictEqual(sorted, members) || new Set(members).size !== members.length) return 'members not sorted and unique'
  const changed = Array.isArray(params.members) ? params.members as string[] : []
  if (method === 'set.add' && !changed.every(m => members.includes(m))) return 'set.add result lacks an added member'
  if (method === 'set.remove' && changed.some(m => members.includes(m))) return 'set.remove result still holds a removed member'
  return undefined
}

/** A whole-request refusal (HTTP 405, 413, 415): one error with id null. */
export function refusalAnswer (code: number, stringCode: string): Answer {
  return { kind: 'single', expectation: { id: null, request: undefined, check: r => errorIs(r, code, stringCode) } }
}
