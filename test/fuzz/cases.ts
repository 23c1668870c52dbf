/**
 * Generators of JSON-RPC method calls for every method of the contract, with params that are
 * sometimes valid and sometimes hostile. Each generated call says which of its fields are
 * certainly invalid (`bad`: the node must answer -32602 naming one of them) and which may be
 * refused (`either`), so the oracle can tell "refused bad input" from "refused good input".
 *
 * The validity rules here are the documented ones (docs/api.md, docs/security.md), written
 * independently of src/: a mismatch is a finding on one side or the other.
 */
import fc from 'fast-check'
import { RawJson, Sym, setOwn, type Tpl } from './json-text.js'
import { mayBlock, refVerdict, type ContextRef, type Forge, type ForgedNode, type Space, type Verdict } from './refs.js'

export const ABSENT = Symbol('absent')
type Maybe = Tpl | typeof ABSENT

export interface FieldValue {
  tpl: Maybe
  verdict: Verdict
  /** A context that may name what the node never saw (an `after` with it waits). */
  mayWait?: boolean
  /** An `after` that may wait, with a valid timeoutMs. */
  blocking?: boolean
}

export interface MethodCase {
  method: string
  params: Maybe
  /** Fields that are certainly invalid (paths as -32602 names them: `params.ops[2].key`). */
  bad: string[]
  /** Fields that may be refused. Resolving the case's Syms adds to both lists. */
  either: string[]
  /** An `after` that may wait for its (small, valid) timeoutMs. */
  blocking: boolean
}

/**
 * The model property owns these keys; every other generator stays off them so that the last
 * acknowledged write to each is known.
 */
export const MODEL_PREFIX = 'model/'

/**
 * Scan bounds that order differently in UTF-16 and in UTF-8 bytes ('a\uffff' vs 'a😀'): they
 * once made kv.scan list keys outside its prefix and page forever (src/node/cursor.ts compared
 * bounds as JS strings). Always generated; CHORUS_FUZZ_UTF16_BOUNDS=0 leaves them out.
 */
const UTF16_ORDER_BOUNDS = process.env.CHORUS_FUZZ_UTF16_BOUNDS !== '0'

export const MAX_KEY_BYTES = 1024
export const MAX_BATCH = 1000
export const MAX_SCAN_LIMIT = 10_000
export const MAX_TIMEOUT_MS = 60_000
const MAX_VALUE_BYTES = 1024 * 1024
const MAX_DEPTH = 512

// ---- the documented rules

export function keyVerdict (k: unknown): Verdict {
  return typeof k === 'string' && k.length > 0 && k.isWellFormed() && Buffer.byteLength(k) <= MAX_KEY_BYTES ? 'ok' : 'bad'
}

function memberVerdict (m: unknown): Verdict {
  return typeof m === 'string' && m.isWellFormed() && Buffer.byteLength(m) <= MAX_KEY_BYTES ? 'ok' : 'bad'
}

function avoidModelKeys (k: string): string {
  return k.startsWith(MODEL_PREFIX) ? `_${k}` : k
}

// ---- small helpers

const ok = (tpl: Maybe): FieldValue => ({ tpl, verdict: 'ok' })
const bad = (tpl: Maybe): FieldValue => ({ tpl, verdict: 'bad' })
const either = (tpl: Maybe): FieldValue => ({ tpl, verdict: 'either' })
const absentOk = fc.constant(ok(ABSENT))
const absentBad = fc.constant(bad(ABSENT))

/** Values of every JSON type that are not strings (for string-typed fields). */
const notAString: fc.Arbitrary<Tpl> = fc.constantFrom<Tpl>(0, 1, -1, 1.5, true, false, null, [], {}, ['a'], { k: 'a' })
/** Values that are not integers (for integer-typed fields). */
const notAnInteger: fc.Arbitrary<Tpl> = fc.constantFrom<Tpl>(
  1.5, -0.5, 2 ** 53, -(2 ** 53), new RawJson('1e308'), new RawJson('-1e308'), new RawJson('1e400'), new RawJson('5e-324'),
  '1', '', true, null, [], {}, [1])

// ---- keys, members, values

const COMMON_KEYS = ['a', 'b', 'c', 'user/1', 'user/2', 'é', '😀', 'a😀', 'a\uffff', 'a\uffffz', '\u0000', ' ', '\ufffd',
  'k'.repeat(MAX_KEY_BYTES), '€'.repeat(341), '😀'.repeat(256)]
const BAD_KEYS = ['', 'k'.repeat(MAX_KEY_BYTES + 1), '€'.repeat(342), '😀'.repeat(257), 'x'.repeat(100_000),
  '\ud800', 'a\udc00', '\udbff\udbff', 'a😀'.slice(0, 2)]

export const keyString: fc.Arbitrary<string> = fc.oneof(
  { weight: 10, arbitrary: fc.constantFrom(...COMMON_KEYS) },
  { weight: 6, arbitrary: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 12 }) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 6 }) },
  { weight: 2, arbitrary: fc.constantFrom(...BAD_KEYS) }
).map(avoidModelKeys)

const keyField: fc.Arbitrary<FieldValue> = fc.oneof(
  { weight: 20, arbitrary: keyString.map(k => ({ tpl: k, verdict: keyVerdict(k) })) },
  { weight: 1, arbitrary: notAString.map(bad) },
  { weight: 1, arbitrary: absentBad }
)

const memberString: fc.Arbitrary<string> = fc.oneof(
  { weight: 10, arbitrary: fc.string({ unit: 'grapheme', maxLength: 8 }) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 4 }) },
  { weight: 1, arbitrary: fc.constantFrom('', 'm'.repeat(MAX_KEY_BYTES), 'm'.repeat(MAX_KEY_BYTES + 1), '\udfff') }
)

const SPECIAL_NUMBERS = ['1e308', '-1e308', '-0', '0.0', '5e-324', '9007199254740992', '9007199254740993', '1E+2', '-0.0e-0',
  '123456789012345678901234567890', '0.1', '1e-400']

function nested (depth: number, kind: 'array' | 'object'): RawJson {
  return kind === 'array'
    ? new RawJson('['.repeat(depth) + ']'.repeat(depth))
    : new RawJson('{"a":'.repeat(depth) + 'null' + '}'.repeat(depth))
}

const nesting: fc.Arbitrary<FieldValue> = fc.tuple(
  fc.constantFrom(1, 2, 100, MAX_DEPTH - 1, MAX_DEPTH, MAX_DEPTH + 1, MAX_DEPTH + 2, 600, 5000, 100_000),
  fc.constantFrom<'array' | 'object'>('array', 'object')
).map(([d, kind]) => ({ tpl: nested(d, kind), verdict: d <= MAX_DEPTH ? 'ok' : 'bad' }))

/** A string value whose JSON text is `bytes` long: 1 MiB is allowed, one byte more is not. */
const sized: fc.Arbitrary<FieldValue> = fc.constantFrom(-1, 0, 1, 2).map(over => ({
  tpl: 'v'.repeat(MAX_VALUE_BYTES - 2 + over),
  verdict: over <= 0 ? 'ok' : 'bad'
}))

export const plainValue: fc.Arbitrary<Tpl> = fc.jsonValue({ maxDepth: 3, stringUnit: 'grapheme' }) as fc.Arbitrary<Tpl>

const valueField: fc.Arbitrary<FieldValue> = fc.oneof(
  { weight: 400, arbitrary: plainValue.map(ok) },
  { weight: 60, arbitrary: fc.constantFrom(...SPECIAL_NUMBERS).map(t => ok(new RawJson(t))) },
  // JSON numbers beyond a double parse as ±Infinity, which has no JSON form: refused, never stored as null.
  { weight: 10, arbitrary: fc.constantFrom('1e400', '-1e999', '[1, 2e308]', '{"a": {"b": -1e309}}').map(t => bad(new RawJson(t))) },
  { weight: 60, arbitrary: fc.string({ unit: 'binary', maxLength: 8 }).map(ok) },
  { weight: 60, arbitrary: nesting },
  { weight: 20, arbitrary: absentBad },
  { weight: 1, arbitrary: sized }
)

// ---- contexts, cursors, other params

const forgedNode: fc.Arbitrary<ForgedNode> = fc.oneof(
  { weight: 4, arbitrary: fc.constant<ForgedNode>({ kind: 'self' }) },
  { weight: 2, arbitrary: fc.constantFrom('12D3KooWForgedPeerAAAA', 'QmYyQSo1c1Ym7orWxLYvCrM2EmxFTANf8wXmmE7DWjhx5N').map((id): ForgedNode => ({ kind: 'peer', id })) },
  { weight: 1, arbitrary: fc.constantFrom('', '0OIl', 'x'.repeat(129), 'é', 'a b').map((id): ForgedNode => ({ kind: 'malformed', id })) }
)
const forgedCounter = fc.oneof(fc.integer({ min: 1, max: 6 }), fc.constantFrom(0, 2 ** 50, 2 ** 50 + 1, 2 ** 53 - 1))
const forge: fc.Arbitrary<Forge> = fc.record({
  vv: fc.array(fc.tuple(forgedNode, forgedCounter), { maxLength: 3 }),
  dots: fc.array(fc.tuple(forgedNode, forgedCounter), { maxLength: 3 }),
  padNodes: fc.oneof({ weight: 30, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.constantFrom(4095, 4096) }),
  padDots: fc.oneof({ weight: 20, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.constantFrom(63, 64, 65) })
})

const contextRef: fc.Arbitrary<ContextRef> = fc.oneof(
  { weight: 5, arbitrary: fc.constant<ContextRef>({ kind: 'latest' }) },
  { weight: 3, arbitrary: fc.nat().map((pick): ContextRef => ({ kind: 'stale', pick })) },
  { weight: 2, arbitrary: fc.nat().map((pick): ContextRef => ({ kind: 'other-key', pick })) },
  { weight: 1, arbitrary: fc.constant<ContextRef>({ kind: 'other-space' }) },
  { weight: 1, arbitrary: fc.tuple(fc.nat(), fc.nat()).map(([pick, cut]): ContextRef => ({ kind: 'truncated', pick, cut })) },
  { weight: 1, arbitrary: fc.tuple(fc.nat(), fc.nat(), fc.constantFrom('A', 'z', '0', '-', '_')).map(([pick, at, to]): ContextRef => ({ kind: 'mutated', pick, at, to })) },
  { weight: 3, arbitrary: forge.map((f): ContextRef => ({ kind: 'forged', forge: f })) },
  { weight: 1, arbitrary: fc.constant<ContextRef>({ kind: 'legacy' }) }
)

const base64urlText = fc.stringMatching(/^[A-Za-z0-9_-]{1,40}$/)
const notBase64url = fc.constantFrom('a=', 'a+b/c', ' ', 'é', 'hAFI…', 'AAAA\n', '\ud800')

/**
 * A `context` or `after`: references resolved later, and literal garbage. `refs: 'settled'`
 * keeps to contexts an `after` never waits on.
 */
function contextField (path: string, space: Space, key: Maybe, refs: 'all' | 'settled'): fc.Arbitrary<FieldValue> {
  const k = typeof key === 'string' ? key : undefined
  const pick = refs === 'all' ? contextRef : contextRef.filter(r => !mayBlock(r))
  return fc.oneof(
    { weight: 6, arbitrary: absentOk },
    { weight: 8, arbitrary: pick.map((r): FieldValue => ({ tpl: new Sym(path, r, space, k), verdict: 'ok', mayWait: mayBlock(r) })) },
    { weight: 1, arbitrary: fc.constant(bad('')) },
    { weight: 1, arbitrary: notBase64url.map(bad) },
    ...(refs === 'all' ? [{ weight: 1, arbitrary: base64urlText.map((t): FieldValue => ({ ...either(t), mayWait: true })) }] : []),
    { weight: 1, arbitrary: notAString.map(bad) }
  )
}

const timeoutAny: fc.Arbitrary<FieldValue> = fc.oneof(
  { weight: 6, arbitrary: absentOk },
  { weight: 4, arbitrary: fc.constantFrom(0, 1, 100, 5000, MAX_TIMEOUT_MS).map(ok) },
  { weight: 1, arbitrary: fc.constantFrom<Tpl>(new RawJson('1E3'), new RawJson('5.0')).map(ok) },
  { weight: 1, arbitrary: fc.constant(either(new RawJson('-0'))) },
  { weight: 3, arbitrary: fc.constantFrom<Tpl>(-1, MAX_TIMEOUT_MS + 1).map(bad) },
  { weight: 3, arbitrary: notAnInteger.map(bad) }
)
/** With an `after` that may wait: a short wait, or one the node must refuse before waiting. */
const timeoutShort: fc.Arbitrary<FieldValue> = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(0, 1, 5, 25).map(ok) },
  { weight: 1, arbitrary: fc.constantFrom<Tpl>(-1, MAX_TIMEOUT_MS + 1).map(bad) },
  { weight: 1, arbitrary: notAnInteger.map(bad) }
)

/** `after` and `timeoutMs` together, so that no read waits long for a context never seen. */
function afterFields (space: Space, key: Maybe): fc.Arbitrary<Array<[string, FieldValue]>> {
  return fc.oneof(
    fc.tuple(contextField('params.after', space, key, 'settled'), timeoutAny),
    fc.tuple(contextField('params.after', space, key, 'all').filter(f => f.mayWait === true), timeoutShort)
  ).map(([after, timeout]) => [['after', { ...after, blocking: after.mayWait === true && timeout.verdict !== 'bad' }], ['timeoutMs', timeout]])
}

const limitField: fc.Arbitrary<FieldValue> = fc.oneof(
  { weight: 6, arbitrary: absentOk },
  { weight: 4, arbitrary: fc.oneof(fc.constantFrom(1, 2, 3, 10, MAX_SCAN_LIMIT - 1, MAX_SCAN_LIMIT), fc.integer({ min: 1, max: MAX_SCAN_LIMIT })).map(ok) },
  { weight: 1, arbitrary: fc.constant(ok(new RawJson('1.0'))) },
  { weight: 2, arbitrary: fc.constantFrom<Tpl>(0, -1, MAX_SCAN_LIMIT + 1, new RawJson('-0')).map(bad) },
  { weight: 2, arbitrary: notAnInteger.map(bad) }
)

const cursorField: fc.Arbitrary<FieldValue> = fc.oneof(
  { weight: 6, arbitrary: absentOk },
  { weight: 4, arbitrary: fc.nat().map(pick => ok(new Sym('params.cursor', { kind: 'cursor', pick }, 'kv', undefined))) },
  { weight: 2, arbitrary: base64urlText.map(ok) },
  { weight: 1, arbitrary: fc.constant(bad('')) },
  { weight: 1, arbitrary: notBase64url.map(bad) },
  { weight: 1, arbitrary: notAString.map(bad) }
)

const BOUNDS = ['', 'a', 'b', 'user/', 'user/1', 'é', '\u0000', 'z', ' ', 'k', 'model']
const UTF16_BOUNDS = ['a😀', 'a\uffff', '😀', '\uffff', '\ufffd']

/** A string without code units in U+D800–U+FFFF, whose UTF-16 and UTF-8 orders agree. */
function orderSafe (s: string): boolean {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) >= 0xd800) return false
  return true
}

/** prefix / start / end: strings; lone surrogates cannot be encoded as a key and are refused. */
const boundField: fc.Arbitrary<FieldValue> = fc.oneof(
  { weight: 8, arbitrary: absentOk },
  { weight: 8, arbitrary: fc.oneof(fc.constantFrom(...BOUNDS), fc.string({ unit: 'grapheme', maxLength: 3 }))
    .filter(s => UTF16_ORDER_BOUNDS || orderSafe(s)).map(ok) },
  ...(UTF16_ORDER_BOUNDS ? [{ weight: 3, arbitrary: fc.constantFrom(...UTF16_BOUNDS).map(ok) }] : []),
  { weight: 1, arbitrary: fc.constantFrom('\ud800', 'a\udfff', 'user/\ud83d').map(bad) },
  { weight: 1, arbitrary: notAString.map(bad) }
)

const boolField: fc.Arbitrary<FieldValue> = fc.oneof(
  { weight: 6, arbitrary: absentOk },
  { weight: 6, arbitrary: fc.boolean().map(ok) },
  { weight: 1, arbitrary: fc.constantFrom<Tpl>('yes', 'true', 1, 0, null, []).map(bad) }
)

const byField: fc.Arbitrary<FieldValue> = fc.oneof(
  { weight: 4, arbitrary: absentOk },
  { weight: 8, arbitrary: fc.integer({ min: -1000, max: 1000 }).map(ok) },
  { weight: 1, arbitrary: fc.constantFrom(0, 2 ** 31, 2 ** 53 - 1, -(2 ** 53 - 1)).map(ok) },
  { weight: 1, arbitrary: fc.constantFrom(new RawJson('-0'), new RawJson('1E2')).map(either) },
  { weight: 3, arbitrary: notAnInteger.map(bad) }
)

const peerField: fc.Arbitrary<FieldValue> = fc.oneof(
  { weight: 4, arbitrary: absentOk },
  { weight: 2, arbitrary: fc.oneof(fc.string({ minLength: 1, maxLength: 60 }), fc.constant('12D3KooWForgedPeerAAAA')).map(ok) },
  { weight: 1, arbitrary: fc.constant(bad('')) },
  { weight: 1, arbitrary: notAString.map(bad) }
)

/** Members: each element judged on its own; more than 1000 is refused as a whole. */
const membersField: fc.Arbitrary<{ field: FieldValue, badPaths: string[] }> = fc.oneof(
  { weight: 50, arbitrary: fc.array(memberString, { maxLength: 6 }) },
  { weight: 5, arbitrary: fc.array(fc.oneof(memberString, notAString), { minLength: 1, maxLength: 4 }) },
  { weight: 1, arbitrary: fc.constantFrom(MAX_BATCH, MAX_BATCH + 1).map(n => Array.from({ length: n }, (_, i) => `m${i}`)) }
).map((members: Tpl[]) => {
  const badPaths = members.flatMap((m, i) => memberVerdict(m) === 'ok' ? [] : [`params.members[${i}]`])
  if (members.length > MAX_BATCH) badPaths.push('params.members')
  return { field: { tpl: members, verdict: 'ok' as Verdict }, badPaths }
}).chain(m => fc.oneof(
  { weight: 12, arbitrary: fc.constant(m) },
  { weight: 1, arbitrary: fc.constantFrom<Tpl>('a', 1, null, { 0: 'a' }).map(t => ({ field: bad(t), badPaths: [] as string[] })) },
  { weight: 1, arbitrary: fc.constant({ field: bad(ABSENT), badPaths: [] as string[] }) }
))

const EXTRA_NAMES = ['contxt', 'Key', 'keys', 'extra', '__proto__', 'constructor', 'toString', '', 'value ', 'all', 'op', 'by', 'members', 'prefix']

function extras (known: readonly string[]): fc.Arbitrary<Array<[string, Tpl]>> {
  return fc.oneof(
    { weight: 12, arbitrary: fc.constant<Array<[string, Tpl]>>([]) },
    { weight: 1, arbitrary: fc.uniqueArray(fc.tuple(fc.constantFrom(...EXTRA_NAMES.filter(n => !known.includes(n))), plainValue), { minLength: 1, maxLength: 2, selector: ([n]) => n }) }
  )
}

// ---- assembling params

interface Built { tpl: Tpl, bad: string[], either: string[], blocking: boolean }

function buildObject (prefix: string, fields: Array<[string, FieldValue]>, extra: Array<[string, Tpl]>): Built {
  const tpl: { [k: string]: Tpl } = {}
  const out: Built = { tpl, bad: [], either: [], blocking: false }
  for (const [name, f] of fields) {
    const path = `${prefix}.${name}`
    if (f.verdict === 'bad') out.bad.push(path)
    if (f.verdict === 'either') out.either.push(path)
    if (f.blocking === true) out.blocking = true
    if (f.tpl !== ABSENT) setOwn(tpl, name, f.tpl)
  }
  for (const [name, v] of extra) {
    setOwn(tpl, name, v)
    out.bad.push(`${prefix}.${name}`)
  }
  return out
}

/** Every Sym in a template resolves to something valid. */
function symsClean (v: Tpl | typeof ABSENT): boolean {
  if (v instanceof Sym) return refVerdict(v.ref) === 'ok'
  if (v === null || typeof v !== 'object' || v instanceof RawJson) return true
  return Object.values(v).every(symsClean)
}

/** A call the node must accept (as far as its own fields go). */
function isClean (c: { params?: Tpl | typeof ABSENT, tpl?: Tpl, bad: string[], either: string[] }): boolean {
  return c.bad.length === 0 && c.either.length === 0 && symsClean(c.params ?? c.tpl ?? null)
}

type Form = 'object' | 'absent' | 'array'
const form: fc.Arbitrary<Form> = fc.oneof(
  { weight: 30, arbitrary: fc.constant<Form>('object') },
  { weight: 1, arbitrary: fc.constant<Form>('absent') },
  { weight: 1, arbitrary: fc.constant<Form>('array') }
)

/** Params of a method whose fields are `known`; `required` ones make absent params invalid. */
function methodCase (method: string, known: readonly string[], required: readonly string[], fields: fc.Arbitrary<Array<[string, FieldValue]>>): fc.Arbitrary<MethodCase> {
  return fc.tuple(fields, extras(known), form).map(([fs, ex, f]): MethodCase => {
    if (f === 'absent') return { method, params: ABSENT, bad: required.map(r => `params.${r}`), either: [], blocking: false }
    if (f === 'array') return { method, params: fs.flatMap(([, v]) => v.tpl === ABSENT || v.tpl instanceof Sym ? [] : [v.tpl]), bad: ['params'], either: [], blocking: false }
    const b = buildObject('params', fs, ex)
    return { method, params: b.tpl, bad: b.bad, either: b.either, blocking: b.blocking }
  })
}

const withKey = (space: Space, rest: (key: FieldValue) => fc.Arbitrary<Array<[string, FieldValue]>>): fc.Arbitrary<Array<[string, FieldValue]>> =>
  keyField.chain(key => rest(key).map(fs => [['key', key] as [string, FieldValue], ...fs]))

const kvPut = methodCase('kv.put', ['key', 'value', 'context'], ['key', 'value'],
  withKey('kv', key => fc.tuple(valueField, contextField('params.context', 'kv', key.tpl, 'all')).map(([v, c]) => [['value', v], ['context', c]])))

const kvDelete = methodCase('kv.delete', ['key', 'context'], ['key'],
  withKey('kv', key => contextField('params.context', 'kv', key.tpl, 'all').map(c => [['context', c]])))

const kvGet = methodCase('kv.get', ['key', 'all', 'after', 'timeoutMs'], ['key'],
  withKey('kv', key => fc.tuple(boolField, afterFields('kv', key.tpl)).map(([all, after]) => [['all', all], ...after])))

const counterIncr = methodCase('counter.incr', ['key', 'by'], ['key'], withKey('counter', () => byField.map(by => [['by', by]])))
const counterGet = methodCase('counter.get', ['key', 'after', 'timeoutMs'], ['key'], withKey('counter', key => afterFields('counter', key.tpl)))
const setGet = methodCase('set.get', ['key', 'after', 'timeoutMs'], ['key'], withKey('set', key => afterFields('set', key.tpl)))

function setChange (method: 'set.add' | 'set.remove'): fc.Arbitrary<MethodCase> {
  return fc.tuple(keyField, membersField, extras(['key', 'members']), form).map(([key, members, ex, f]): MethodCase => {
    if (f !== 'object') return { method, params: f === 'absent' ? ABSENT : [], bad: f === 'absent' ? ['params.key', 'params.members'] : ['params'], either: [], blocking: false }
    const b = buildObject('params', [['key', key], ['members', members.field]], ex)
    return { method, params: b.tpl, bad: [...b.bad, ...members.badPaths], either: b.either, blocking: false }
  })
}

const kvScan = methodCase('kv.scan', ['prefix', 'start', 'end', 'limit', 'cursor'], [],
  fc.tuple(boundField, boundField, boundField, limitField, cursorField).map(([p, s, e, l, c]) => [['prefix', p], ['start', s], ['end', e], ['limit', l], ['cursor', c]]))
const kvConflicts = methodCase('kv.conflicts', ['prefix', 'limit', 'cursor'], [],
  fc.tuple(boundField, limitField, cursorField).map(([p, l, c]) => [['prefix', p], ['limit', l], ['cursor', c]]))
const nodeInfo = methodCase('node.info', [], [], fc.constant([]))
const clusterPeers = methodCase('cluster.peers', [], [], fc.constant([]))
const clusterSync = methodCase('cluster.sync', ['peer'], [], peerField.map(p => [['peer', p]]))

// ---- kv.batch

type OpKind = 'put' | 'delete' | 'bad'
const opName: fc.Arbitrary<{ kind: OpKind, tpl: Maybe }> = fc.oneof(
  { weight: 10, arbitrary: fc.constantFrom<OpKind>('put', 'delete').map(kind => ({ kind, tpl: kind })) },
  { weight: 1, arbitrary: fc.constantFrom<Maybe>('PUT', 'zap', '', 1, null, ABSENT).map((tpl): { kind: OpKind, tpl: Maybe } => ({ kind: 'bad', tpl })) }
)

/** One op of a batch at index i: its own fields judged like kv.put's / kv.delete's. */
function batchOp (i: number): fc.Arbitrary<Built> {
  const at = `params.ops[${i}]`
  const obj = fc.tuple(opName, keyField).chain(([op, key]) => fc.tuple(
    fc.oneof({ weight: 6, arbitrary: valueField }, { weight: op.kind === 'put' ? 1 : 6, arbitrary: absentOk }),
    contextField(`${at}.context`, 'kv', key.tpl, 'all'),
    extras(['op', 'key', 'value', 'context'])
  ).map(([value, context, ex]) => {
    // A put needs a valid value; a delete must have none; a bad op makes the value moot.
    const v: FieldValue = op.kind === 'put'
      ? (value.tpl === ABSENT ? bad(ABSENT) : value)
      : op.kind === 'delete' ? (value.tpl === ABSENT ? ok(ABSENT) : bad(value.tpl)) : either(value.tpl)
    return buildObject(at, [['op', op.kind === 'bad' ? bad(op.tpl) : ok(op.tpl)], ['key', key], ['value', v], ['context', context]], ex)
  }))
  return fc.oneof(
    { weight: 30, arbitrary: obj },
    { weight: 1, arbitrary: notAString.filter(v => v === null || typeof v !== 'object' || Array.isArray(v)).map((tpl): Built => ({ tpl, bad: [at], either: [], blocking: false })) }
  )
}

/** Ops of a batch; a clean batch has 1 to 8 ops that are each valid. */
function opsField (clean: boolean): fc.Arbitrary<Built> {
  const sizes = clean
    ? fc.integer({ min: 1, max: 8 })
    : fc.oneof({ weight: 40, arbitrary: fc.integer({ min: 1, max: 8 }) }, { weight: 3, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.constantFrom(MAX_BATCH, MAX_BATCH + 1) })
  const op = (i: number): fc.Arbitrary<Built> => clean ? batchOp(i).filter(isClean) : batchOp(i)
  return sizes.chain(n => n > 20 ? manyOps(n) : fc.tuple(...Array.from({ length: n }, (_, i) => op(i))).map((ops): Built => ({
  tpl: ops.map(o => o.tpl),
  bad: [...ops.flatMap(o => o.bad), ...(n === 0 ? ['params.ops'] : [])],
  either: ops.flatMap(o => o.either),
  blocking: false
})))
}

/** The 1000-op bound: plain puts on a few keys (generating 1000 hostile ops would dwarf the rest). */
function manyOps (n: number): fc.Arbitrary<Built> {
  return keyString.filter(k => keyVerdict(k) === 'ok').map((key): Built => ({
    tpl: Array.from({ length: n }, (_, i) => ({ op: 'put', key: `${key}/${i % 7}`.slice(-MAX_KEY_BYTES), value: i })),
    bad: n > MAX_BATCH ? ['params.ops'] : [],
    either: [],
    blocking: false
  })).filter(b => (b.tpl as Array<{ key: string }>).every(o => keyVerdict(o.key) === 'ok'))
}

const kvBatchClean: fc.Arbitrary<MethodCase> = opsField(true).map(b => ({ method: 'kv.batch', params: { ops: b.tpl }, bad: [], either: [], blocking: false }))
const kvBatch: fc.Arbitrary<MethodCase> = fc.tuple(
  fc.oneof({ weight: 20, arbitrary: opsField(false).map(b => ({ field: { tpl: b.tpl, verdict: 'ok' as Verdict }, b })) },
    { weight: 1, arbitrary: fc.constantFrom<Maybe>('ops', 1, null, { op: 'put', key: 'a', value: 1 }, ABSENT).map(t => ({ field: bad(t), b: undefined }))}),
  extras(['ops']), form
).map(([ops, ex, f]): MethodCase => {
  if (f !== 'object') return { method: 'kv.batch', params: f === 'absent' ? ABSENT : [], bad: f === 'absent' ? ['params.ops'] : ['params'], either: [], blocking: false }
  const b = buildObject('params', [['ops', ops.field]], ex)
  return { method: 'kv.batch', params: b.tpl, bad: [...b.bad, ...(ops.b?.bad ?? [])], either: [...b.either, ...(ops.b?.either ?? [])], blocking: false }
})

// ---- WebSocket-only and unknown methods

const watchPrefix: fc.Arbitrary<FieldValue> = boundField
export const kvWatch = methodCase('kv.watch', ['prefix'], [], watchPrefix.map(p => [['prefix', p]]))
export const kvUnwatch = methodCase('kv.unwatch', ['subscription'], ['subscription'], fc.oneof(
  { weight: 6, arbitrary: fc.integer({ min: 1, max: 80 }).map(n => ok(`w${n}`)) },
  { weight: 1, arbitrary: fc.string({ minLength: 1, maxLength: 8 }).map(ok) },
  { weight: 1, arbitrary: fc.constant(bad('')) },
  { weight: 1, arbitrary: notAString.map(bad) },
  { weight: 1, arbitrary: absentBad }
).map(s => [['subscription', s]]))

export const HTTP_METHODS = ['kv.put', 'kv.get', 'kv.delete', 'kv.batch', 'kv.scan', 'kv.conflicts', 'counter.incr', 'counter.get',
  'set.add', 'set.remove', 'set.get', 'node.info', 'cluster.peers', 'cluster.sync'] as const
export const WS_ONLY_METHODS = ['kv.watch', 'kv.unwatch'] as const

const NEAR_MISSES = ['kv.Put', 'kv.put ', 'KV.GET', 'kv', '', 'kv.', '.put', 'rpc.discover', '__proto__', 'constructor', 'toString',
  'hasOwnProperty', 'kv.get\u0000', 'counter.decr', 'set.has', 'cluster', 'node.info/']
const unknownMethod: fc.Arbitrary<MethodCase> = fc.tuple(
  fc.oneof(fc.constantFrom(...NEAR_MISSES), fc.string({ unit: 'grapheme', maxLength: 20 }))
    .filter(m => !(HTTP_METHODS as readonly string[]).includes(m) && !(WS_ONLY_METHODS as readonly string[]).includes(m)),
  fc.oneof(fc.constant<Maybe>(ABSENT), fc.dictionary(fc.string({ maxLength: 4 }), plainValue, { maxKeys: 3 }) as fc.Arbitrary<Tpl>, fc.array(plainValue, { maxLength: 2 }))
).map(([method, params]): MethodCase => ({ method, params, bad: [], either: [], blocking: false }))

/**
 * Every method of the contract, weighted towards the data methods, plus unknown ones. Half the
 * calls are clean (valid as a whole) so that state builds up: siblings, contexts worth reusing,
 * pages worth a cursor.
 */
export function methodCaseArb (transport: 'http' | 'ws'): fc.Arbitrary<MethodCase> {
  const any = anyMethodCase(transport)
  return fc.oneof(any, fc.oneof({ weight: 4, arbitrary: any.filter(isClean) }, { weight: 1, arbitrary: kvBatchClean }))
}

function anyMethodCase (transport: 'http' | 'ws'): fc.Arbitrary<MethodCase> {
  return fc.oneof(
    { weight: 12, arbitrary: kvPut },
    { weight: 8, arbitrary: kvGet },
    { weight: 4, arbitrary: kvDelete },
    { weight: 5, arbitrary: kvBatch },
    { weight: 4, arbitrary: kvScan },
    { weight: 2, arbitrary: kvConflicts },
    { weight: 4, arbitrary: counterIncr },
    { weight: 3, arbitrary: counterGet },
    { weight: 3, arbitrary: setChange('set.add') },
    { weight: 3, arbitrary: setChange('set.remove') },
    { weight: 3, arbitrary: setGet },
    { weight: 1, arbitrary: nodeInfo },
    { weight: 1, arbitrary: clusterPeers },
    { weight: 1, arbitrary: clusterSync },
    { weight: transport === 'ws' ? 4 : 1, arbitrary: kvWatch },
    { weight: transport === 'ws' ? 3 : 1, arbitrary: kvUnwatch },
    { weight: 3, arbitrary: unknownMethod }
  )
}

// ---- envelopes

/** A request object as sent: `tpl` may break the envelope; `case` gives the method and params it carries. */
export interface Envelope { tpl: Tpl, case?: MethodCase }

const idField: fc.Arbitrary<Maybe> = fc.oneof(
  { weight: 4, arbitrary: fc.nat() },
  { weight: 4, arbitrary: fc.string({ unit: 'grapheme', maxLength: 10 }) },
  { weight: 1, arbitrary: fc.constant(null) },
  { weight: 2, arbitrary: fc.constant(ABSENT) },
  { weight: 1, arbitrary: fc.constantFrom<Tpl>(1.5, -1, 0, 2 ** 53, 1e308, new RawJson('-0'), new RawJson('1e400'), new RawJson('1E2'), 'x'.repeat(5000)) },
  { weight: 1, arbitrary: fc.constantFrom<Tpl>(true, false, {}, [], [1], { a: 1 }) }
)

const jsonrpcField: fc.Arbitrary<Maybe> = fc.oneof(
  { weight: 12, arbitrary: fc.constant('2.0') },
  { weight: 1, arbitrary: fc.constantFrom<Maybe>(ABSENT, '1.0', '2', 2, new RawJson('2.0'), null, '2.0 ', '２.0', ['2.0']) }
)

const paramsOverride: fc.Arbitrary<Maybe | undefined> = fc.oneof(
  { weight: 12, arbitrary: fc.constant(undefined) },
  { weight: 1, arbitrary: fc.constantFrom<Maybe>(null, 'x', 1, true, '', ABSENT) }
)

const methodOverride: fc.Arbitrary<Maybe | undefined> = fc.oneof(
  { weight: 15, arbitrary: fc.constant(undefined) },
  { weight: 1, arbitrary: fc.constantFrom<Maybe>(1, null, [], {}, ['kv.get'], ABSENT, true) }
)

const envelopeExtras: fc.Arbitrary<Array<[string, Tpl]>> = fc.oneof(
  { weight: 12, arbitrary: fc.constant<Array<[string, Tpl]>>([]) },
  { weight: 1, arbitrary: fc.uniqueArray(fc.tuple(fc.constantFrom('result', 'error', 'foo', 'ID', 'Method', '__proto__'), plainValue), { maxLength: 2, selector: ([n]) => n }) }
)

/** A request whose envelope may be broken in every way the JSON-RPC 2.0 spec names. */
export function envelopeArb (transport: 'http' | 'ws'): fc.Arbitrary<Envelope> {
  return fc.tuple(methodCaseArb(transport), jsonrpcField, idField, methodOverride, paramsOverride, envelopeExtras, fc.boolean())
    .map(([c, jsonrpc, id, method, params, ex, idFirst]): Envelope => {
      const tpl: { [k: string]: Tpl } = {}
      const put = (k: string, v: Maybe): void => { if (v !== ABSENT) setOwn(tpl, k, v) }
      if (idFirst) put('id', id)
      put('jsonrpc', jsonrpc)
      put('method', method === undefined ? c.method : method)
      put('params', params === undefined ? c.params : params)
      if (!idFirst) put('id', id)
      for (const [k, v] of ex) setOwn(tpl, k, v)
      return { tpl, case: method === undefined && params === undefined ? c : undefined }
    })
}

/** A whole message: one request, a batch, or a top-level value that is no request at all. */
export type Message = { kind: 'single', env: Envelope } | { kind: 'batch', envs: Envelope[] } | { kind: 'raw', tpl: Tpl }

export function messageArb (transport: 'http' | 'ws'): fc.Arbitrary<Message> {
  const env = envelopeArb(transport)
  return fc.oneof(
    { weight: 40, arbitrary: env.map((e): Message => ({ kind: 'single', env: e })) },
    { weight: 40, arbitrary: fc.array(env, { minLength: 1, maxLength: 8 }).map((envs): Message => ({ kind: 'batch', envs })) },
    { weight: 10, arbitrary: fc.constantFrom<Tpl>(42, 'x', null, true, {}, [], [[]], [1, 2], [null], [[{ jsonrpc: '2.0', id: 1, method: 'node.info' }]])
      .map((tpl): Message => ({ kind: 'raw', tpl })) },
    { weight: 1, arbitrary: fc.constantFrom(MAX_BATCH, MAX_BATCH + 1).map((n): Message => ({
      kind: 'batch',
      envs: Array.from({ length: n }, (_, i) => ({ tpl: { jsonrpc: '2.0', id: i, method: 'counter.get', params: { key: `big/${i % 5}` } }, case: { method: 'counter.get', params: { key: `big/${i % 5}` }, bad: [], either: [], blocking: false } }))
    })) }
  )
}

// ---- paging

export interface Paging { method: 'kv.scan' | 'kv.conflicts', filters: { [k: string]: Tpl }, limit: number }

/** Valid bounds only, from the same pool as the keys, so that pages cover keys that exist. */
const pagingBound: fc.Arbitrary<string | typeof ABSENT> = fc.oneof(
  { weight: 3, arbitrary: fc.constant<typeof ABSENT>(ABSENT) },
  { weight: 4, arbitrary: fc.constantFrom(...BOUNDS, ...COMMON_KEYS.map(k => k.slice(0, 2)).filter(k => k.isWellFormed())).filter(s => UTF16_ORDER_BOUNDS || orderSafe(s)) },
  ...(UTF16_ORDER_BOUNDS ? [{ weight: 3, arbitrary: fc.constantFrom(...UTF16_BOUNDS) }] : [])
)

export const pagingArb: fc.Arbitrary<Paging> = fc.record({
  method: fc.constantFrom<'kv.scan' | 'kv.conflicts'>('kv.scan', 'kv.scan', 'kv.conflicts'),
  prefix: pagingBound,
  start: pagingBound,
  end: pagingBound,
  limit: fc.integer({ min: 1, max: 5 })
}).map(({ method, prefix, start, end, limit }) => {
  const filters: { [k: string]: Tpl } = {}
  if (prefix !== ABSENT) filters.prefix = prefix
  if (method === 'kv.scan' && start !== ABSENT) filters.start = start
  if (method === 'kv.scan' && end !== ABSENT) filters.end = end
  return { method, filters, limit }
})
