/**
 * Property-based fuzzing of the JSON-RPC edge against one real `bin/chorus start` process:
 * every method of the contract with valid and hostile params, broken envelopes and batches, raw
 * bodies and content types, the WebSocket endpoint, and a sequential model of acknowledged
 * writes. Every answer is judged by oracle.ts; afterwards the node must still be up and every
 * key the fuzzer may have written must read back.
 *
 * Seeded and sized from the environment; the seed is printed so a failure replays:
 *   CHORUS_FUZZ_SEED=<n> CHORUS_FUZZ_RPC_RUNS=<cases> npx vitest run test/fuzz/rpc.fuzz.test.ts
 * CHORUS_FUZZ_STATS=1 also prints how many answers of each kind every method gave.
 */
import { isDeepStrictEqual } from 'node:util'
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ABSENT, MAX_BATCH, MODEL_PREFIX, keyVerdict, messageArb, methodCaseArb, pagingArb, plainValue, type MethodCase, type Paging } from './cases.js'
import { startFuzzNode, type FuzzNode } from './chorus-process.js'
import { answerForBytes, callCase, judge, requestOf, Written, type Fuzzing } from './driver.js'
import { RawJson, Sym, jsonText, preview, type Tpl } from './json-text.js'
import { refusalAnswer, type ResolvedCase } from './oracle.js'
import { bodyArb, bodyBytes, httpShapeArb, isJsonMediaType, isStrictUtf8, type Body, type HttpShape } from './raw-cases.js'
import { RefPool, type ContextRef } from './refs.js'
import { WsConnection, getStatus, post, postOversized } from './transport.js'

const DEFAULT_SEED = 20261202
const SEED = Number.parseInt(process.env.CHORUS_FUZZ_SEED ?? String(DEFAULT_SEED), 10)
const BUDGET = Number.parseInt(process.env.CHORUS_FUZZ_RPC_RUNS ?? '10000', 10)

/**
 * How the case budget is shared, and how many cases one run of each property sends. Paging
 * (one listing per hundred cases, each a few requests) and the limit cases come on top.
 */
const PLAN = {
  params: { share: 0.6, perRun: 24 },
  envelope: { share: 0.15, perRun: 6 },
  raw: { share: 0.05, perRun: 2 },
  websocket: { share: 0.12, perRun: 8 },
  model: { share: 0.08, perRun: 20 }
} as const
type Property = keyof typeof PLAN

const runsOf = (p: Property): number => Math.max(1, Math.ceil(BUDGET * PLAN[p].share / PLAN[p].perRun))
const cases: Record<string, number> = {}
const count = (what: string, n = 1): void => { cases[what] = (cases[what] ?? 0) + n }

/** A failure says how to replay it; the counterexample itself is in the message, already shortened. */
function options<T> (p: Property | 'paging', numRuns = runsOf(p as Property)): fc.Parameters<T> {
  return {
    seed: SEED,
    numRuns,
    reporter: (d) => {
      if (!d.failed) return
      const why = d.errorInstance instanceof Error ? d.errorInstance.message : String(d.errorInstance)
      throw new Error(`${p} property failed at run ${d.numRuns} (replay: CHORUS_FUZZ_SEED=${d.seed} CHORUS_FUZZ_RPC_RUNS=${BUDGET}; ` +
        `fast-check path ${d.counterexamplePath ?? '-'}, shrunk ${d.numShrinks} times):\n${why}`)
    }
  }
}

function fail (problems: string[]): void {
  if (problems.length > 0) throw new Error(problems.slice(0, 5).join('\n---\n'))
}

let node: FuzzNode
let f: Fuzzing
let nextId = 1
const t0 = Date.now()

beforeAll(async () => {
  console.log(`rpc fuzz: CHORUS_FUZZ_SEED=${SEED} CHORUS_FUZZ_RPC_RUNS=${BUDGET}`)
  node = await startFuzzNode()
  f = { url: node.url, selfId: node.peerId, pool: new RefPool(node.peerId), written: new Written(), outcomes: new Map() }
}, 120_000)

afterAll(async () => {
  const total = Object.values(cases).reduce((a, b) => a + b, 0)
  console.log(`rpc fuzz: seed ${SEED}, ${total} cases (${Object.entries(cases).map(([k, n]) => `${k} ${n}`).join(', ')}) in ${((Date.now() - t0) / 1000).toFixed(1)} s`)
  if (process.env.CHORUS_FUZZ_STATS === '1') {
    const known = [...f.outcomes].filter(([k]) => /^(kv|counter|set|node|cluster)\.[a-z]+ /.test(k)).sort(([a], [b]) => a < b ? -1 : 1)
    console.log(`rpc fuzz outcomes:\n${known.map(([k, n]) => `  ${k}: ${n}`).join('\n')}`)
  }
  await node?.stop()
})

// ---- HTTP: one JSON-RPC message per POST

/** Posts `bytes` and judges the answer; problems carry the request and the reply. */
async function exchangeHttp (bytes: Uint8Array, items: Array<ResolvedCase | undefined>, shape?: HttpShape): Promise<string[]> {
  const method = shape?.method ?? 'POST'
  const path = shape?.path ?? '/rpc'
  const contentType = shape === undefined ? 'application/json' : shape.contentType
  const res = await post(f.url, method === 'GET' ? undefined : bytes, { method, path, contentType })
  const say = (p: string): string => `${p}\n  ${method} ${path} (${String(contentType)}): ${preview(Buffer.from(bytes).toString('utf8'))}\n  HTTP ${res.status}: ${preview(res.text)}`

  if (path.split('?')[0] !== '/rpc') return [404, 405].includes(res.status) ? [] : [say('not 404/405 off /rpc')]
  if (method !== 'POST') return status(res.status, 405, judge(f, refusalAnswer(-32600, 'ERR_INVALID_REQUEST'), undefined, res.text)).map(say)
  if (!isJsonMediaType(contentType)) return status(res.status, 415, judge(f, refusalAnswer(-32600, 'ERR_UNSUPPORTED_MEDIA_TYPE'), undefined, res.text)).map(say)
  const { answer, parsed } = answerForBytes(bytes, items, 'http', f.selfId)
  if (answer.kind === 'none') {
    const problems = judge(f, answer, parsed, undefined)
    if (res.status !== 204 || res.text !== '') problems.push(`notifications only, but HTTP ${res.status} with a body`)
    return problems.map(say)
  }
  const problems = status(res.status, 200, judge(f, answer, parsed, res.text))
  if (!/^application\/json/.test(res.contentType ?? '')) problems.push(`content-type ${String(res.contentType)}`)
  return problems.map(say)
}

function status (got: number, want: number, problems: string[]): string[] {
  return got === want ? problems : [`HTTP ${got}, expected ${want}`, ...problems]
}

/** A unique id, alternately a number and a string. */
function freshId (): number | string {
  const n = nextId++
  return n % 2 === 0 ? n : `r${n}`
}

const notify = fc.oneof({ weight: 11, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) })

describe('rpc fuzz (one real node)', () => {
  it('method params: every method, valid and hostile, as singles and batches in flight together', async () => {
    const run = fc.record({
      calls: fc.array(fc.tuple(methodCaseArb('http'), notify), { minLength: PLAN.params.perRun, maxLength: PLAN.params.perRun }),
      messages: fc.integer({ min: 1, max: 4 }),
      singleAsBatch: fc.boolean()
    })
    await fc.assert(fc.asyncProperty(run, async ({ calls, messages, singleAsBatch }) => {
      const groups = Array.from({ length: messages }, (_, g) => calls.filter((_, i) => i % messages === g))
      const problems = await Promise.all(groups.map(async group => {
        const reqs = group.map(([c, isNotification]) => requestOf(c, f.pool, isNotification ? ABSENT : freshId()))
        const single = reqs.length === 1 && !singleAsBatch
        const text = single ? jsonText(reqs[0]?.tpl as Tpl) : `[${reqs.map(r => jsonText(r.tpl)).join(',')}]`
        count('params', reqs.length)
        return await exchangeHttp(Buffer.from(text, 'utf8'), reqs.map(r => r.resolved))
      }))
      fail(problems.flat())
    }), options('params'))
  }, 900_000)

  it('envelopes: broken jsonrpc, ids, methods, params; batches empty, nested, oversize', async () => {
    const run = fc.array(messageArb('http'), { minLength: PLAN.envelope.perRun, maxLength: PLAN.envelope.perRun })
    await fc.assert(fc.asyncProperty(run, async messages => {
      const problems = await Promise.all(messages.map(async m => {
        count('envelope')
        const { bytes, items } = bodyBytes({ kind: 'message', message: m }, f.pool)
        return await exchangeHttp(bytes, items)
      }))
      fail(problems.flat())
    }), options('envelope'))
  }, 900_000)

  it('raw HTTP: bodies that are not JSON or not UTF-8, content types, methods, paths', async () => {
    const run = fc.array(fc.tuple(bodyArb('http'), httpShapeArb), { minLength: PLAN.raw.perRun, maxLength: PLAN.raw.perRun })
    await fc.assert(fc.asyncProperty(run, async bodies => {
      const problems: string[] = []
      for (const [body, shape] of bodies) {
        count('raw')
        const { bytes, items } = bodyBytes(body, f.pool)
        problems.push(...await exchangeHttp(bytes, items, shape))
      }
      fail(problems)
    }), options('raw'))
  }, 900_000)

  it('WebSocket /rpc: the same messages as text and binary frames, kv.watch/kv.unwatch, invalid UTF-8', async () => {
    const notificationProblems: string[] = []
    const onNotification = (n: unknown): void => { const p = notificationProblem(n); if (p !== undefined) notificationProblems.push(p) }
    const conns = await Promise.all([0, 1, 2].map(async () => ({ ws: await WsConnection.open(f.url, onNotification), subs: new Set<string>() })))
    try {
      const frame = fc.record({ body: bodyArb('ws'), binary: fc.boolean() })
      const run = fc.array(frame, { minLength: PLAN.websocket.perRun, maxLength: PLAN.websocket.perRun })
      await fc.assert(fc.asyncProperty(run, async frames => {
        const problems = await Promise.all(conns.map(async (conn, c) => {
          const out: string[] = []
          for (const fr of frames.filter((_, i) => i % conns.length === c)) {
            count('websocket')
            out.push(...await exchangeWs(conn, fr.body, fr.binary, onNotification))
          }
          out.push(...await nothingPending(conn.ws))
          return out
        }))
        fail([...problems.flat(), ...notificationProblems.splice(0)])
      }), options('websocket'))
    } finally {
      await Promise.all(conns.map(async c => { await c.ws.close() }))
    }
  }, 900_000)

  it('paging: following the cursor with the same filters lists each key once, in order, and ends', async () => {
    await fc.assert(fc.asyncProperty(pagingArb, async paging => { fail(await pageThrough(paging)) }),
      options('paging', Math.max(1, Math.ceil(BUDGET / 100))))
  }, 900_000)

  it('limits: bodies and frames around 8 MiB, values around 1 MiB, batches around 1000', async () => {
    await limitCases()
  }, 300_000)

  it('model: the last acknowledged write to each of a few keys is what reads return', async () => {
    await fc.assert(fc.asyncProperty(fc.array(modelCommand, { minLength: PLAN.model.perRun, maxLength: PLAN.model.perRun }), async commands => {
      for (const cmd of commands) {
        count('model')
        await runModelCommand(cmd)
      }
      for (let slot = 0; slot < MODEL_KEYS.length; slot++) await checkModelKey(slot)
    }), options('model'))
  }, 900_000)

  it('afterwards: the node is up, healthy, and every key written reads back', async () => {
    expect(node.alive(), node.stderr()).toBe(true)
    expect(await getStatus(f.url, '/health')).toBe(200)
    await checkEverythingReadable()
    for (let slot = 0; slot < MODEL_KEYS.length; slot++) await checkModelKey(slot)
    const fuzzed = (Object.keys(PLAN) as Property[]).reduce((sum, p) => sum + (cases[p] ?? 0), 0)
    expect(fuzzed).toBeGreaterThanOrEqual(BUDGET)
    expect(errorLogLines(node.stderr())).toEqual([])
  }, 300_000)
})

// ---- WebSocket

interface Conn { ws: WsConnection, subs: Set<string> }

async function exchangeWs (conn: Conn, body: Body, binary: boolean, onNotification: (n: unknown) => void): Promise<string[]> {
  const { bytes, items } = bodyBytes(body, f.pool)
  const say = (p: string): string => `${p}\n  ${binary ? 'binary' : 'text'} frame: ${preview(Buffer.from(bytes).toString('utf8'))}`
  if (!binary && !isStrictUtf8(bytes)) return (await invalidTextFrame(bytes, onNotification)).map(say)
  const { answer, parsed } = answerForBytes(bytes, items, 'ws', f.selfId)
  const reply = await conn.ws.exchange(bytes, binary, answer.kind !== 'none')
  const problems = judge(f, answer, parsed, reply?.text)
  if (reply?.binary === true) problems.push('a reply sent as a binary frame')
  trackSubscriptions(conn, parsed, reply?.text)
  if (conn.subs.size > 64) problems.push(`${conn.subs.size} subscriptions on one socket (at most 64)`)
  return problems.map(p => say(`${p}\n  reply: ${preview(reply?.text ?? '(none)')}`))
}

/** RFC 6455: a text frame that is not UTF-8 fails the connection (1007); the node goes on serving. */
async function invalidTextFrame (bytes: Uint8Array, onNotification: (n: unknown) => void): Promise<string[]> {
  const ws = await WsConnection.open(f.url, onNotification)
  try {
    await ws.exchange(bytes, false, false)
    const closed = await ws.closedByServer()
    return closed.code === 1007 ? [] : [`invalid UTF-8 in a text frame closed with ${closed.code}, expected 1007`]
  } catch (err) {
    return [String(err)]
  } finally {
    await ws.close()
  }
}

/** A final ping on the socket must be answered by its own reply: no reply came unasked. */
async function nothingPending (ws: WsConnection): Promise<string[]> {
  const id = `ping${nextId++}`
  const reply = await ws.exchange(JSON.stringify({ jsonrpc: '2.0', id, method: 'node.info' }), false, true)
  const r = JSON.parse(reply?.text ?? 'null') as { id?: unknown } | null
  return r?.id === id && ws.pending() === 0 ? [] : [`an unasked reply on the socket: ${preview(reply?.text ?? '', 200)}`]
}

function trackSubscriptions (conn: Conn, parsed: unknown, replyText: string | undefined): void {
  if (replyText === undefined) return
  const requests = (Array.isArray(parsed) ? parsed : [parsed]) as Array<Record<string, unknown> | null>
  let replies: unknown
  try { replies = JSON.parse(replyText) } catch { return }
  const list = (Array.isArray(replies) ? replies : [replies]) as Array<Record<string, unknown>>
  for (const req of requests) {
    if (req === null || typeof req !== 'object' || !('id' in req)) continue
    const reply = list.find(r => r !== null && typeof r === 'object' && r.id === req.id && 'result' in r)
    if (reply === undefined) continue
    if (req.method === 'kv.watch' && typeof reply.result === 'string') conn.subs.add(reply.result)
    const sub = (req.params as { subscription?: unknown } | undefined)?.subscription
    if (req.method === 'kv.unwatch' && reply.result === true && typeof sub === 'string') conn.subs.delete(sub)
  }
}

/** docs/api.md, kv.watch: `{subscription, event}` or `{subscription, missed}`. */
function notificationProblem (n: unknown): string | undefined {
  const m = n as { jsonrpc?: unknown, method?: unknown, params?: { subscription?: unknown, event?: Record<string, unknown>, missed?: unknown } }
  const bad = (why: string): string => `notification ${why}: ${preview(JSON.stringify(n), 200)}`
  if (m.jsonrpc !== '2.0' || m.method !== 'kv.watch' || typeof m.params !== 'object') return bad('is not a kv.watch notification')
  const p = m.params
  if (typeof p.subscription !== 'string' || !/^w\d+$/.test(p.subscription)) return bad('without a subscription id')
  if ('missed' in p) return Number.isSafeInteger(p.missed) && (p.missed as number) > 0 ? undefined : bad('with a bad missed count')
  const e = p.event
  if (e === undefined || !['kv', 'counter', 'set'].includes(e.space as string) || keyVerdict(e.key) !== 'ok' ||
    typeof e.found !== 'boolean' || typeof e.conflict !== 'boolean' || !('value' in e) || e.origin !== 'local') return bad('with a malformed event')
  return undefined
}

// ---- paging

const PAGES_PER_LISTING = 6

/** Pages through a listing and compares it with the same listing in one page. */
async function pageThrough ({ method, filters, limit: smallest }: Paging): Promise<string[]> {
  const field = method === 'kv.scan' ? 'items' : 'keys'
  const keysOf = (result: Obj): string[] => (result[field] as unknown[]).map(x => typeof x === 'string' ? x : (x as { key: string }).key)
  const list = async (params: Tpl): Promise<Obj> => {
    count('paging')
    const { reply, problems } = await callCase(f, { method, params, bad: [], either: [], blocking: false }, nextId++)
    fail(problems)
    return reply?.result as Obj
  }
  const whole = await list({ ...filters, limit: 10_000 })
  const want = keysOf(whole)
  // A handful of pages, however many keys the filters cover.
  const limit = Math.max(smallest, Math.ceil(want.length / PAGES_PER_LISTING))
  const got: string[] = []
  let cursor: unknown
  for (let page = 0; page <= want.length + 1; page++) {
    const result = await list(cursor === undefined ? { ...filters, limit } : { ...filters, limit, cursor: cursor as string })
    got.push(...keysOf(result))
    cursor = result.cursor
    if (cursor === undefined) {
      return isDeepStrictEqual(got, want) ? [] : [`${method} ${JSON.stringify(filters)} by pages of ${limit} listed ${preview(JSON.stringify(got))}, in one page ${preview(JSON.stringify(want))}`]
    }
  }
  return [`${method} ${JSON.stringify(filters)} by pages of ${limit} still had a cursor after ${want.length + 2} pages for ${want.length} keys: ${preview(JSON.stringify(got))}`]
}

// ---- limits

const MIB = 1024 * 1024
const LIMIT_BODY = 8 * MIB

/** Deterministic cases at the documented bounds (too costly to leave to chance). */
async function limitCases (): Promise<void> {
  const info = '{"jsonrpc":"2.0","id":1,"method":"node.info"}'
  const padded = (size: number): Buffer => Buffer.from(info + ' '.repeat(size - info.length))
  const problems: string[] = []
  const http = async (bytes: Uint8Array, items: Array<ResolvedCase | undefined> = []): Promise<void> => {
    count('limits')
    problems.push(...await exchangeHttp(bytes, items))
  }
  await http(padded(LIMIT_BODY))
  for (const declareLength of [true, false]) {
    count('limits')
    const over = await postOversized(f.url, padded(LIMIT_BODY + 1), declareLength)
    problems.push(...status(over.status, 413, judge(f, refusalAnswer(-32600, 'ERR_BODY_TOO_LARGE'), undefined, over.text))
      .map(p => `a body over 8 MiB (${declareLength ? 'Content-Length' : 'chunked'}): ${p}`))
  }

  const valueCase = (chars: number, bad: string[]): MethodCase => ({ method: 'kv.put', params: { key: 'limits/value', value: 'v'.repeat(chars) }, bad, either: [], blocking: false })
  for (const [chars, bad] of [[MIB - 2, []], [MIB - 1, ['params.value']]] as const) {
    count('limits')
    problems.push(...(await callCase(f, valueCase(chars, [...bad]), nextId++)).problems)
  }
  for (const [n, bad] of [[MAX_BATCH, []], [MAX_BATCH + 1, ['params.ops']]] as const) {
    const ops = Array.from({ length: n }, (_, i) => ({ op: 'put', key: `limits/op/${i % 10}`, value: i }))
    count('limits')
    problems.push(...(await callCase(f, { method: 'kv.batch', params: { ops }, bad: [...bad], either: [], blocking: false }, nextId++)).problems)
    const members = Array.from({ length: n }, (_, i) => `m${i}`)
    count('limits')
    problems.push(...(await callCase(f, { method: 'set.add', params: { key: 'limits/set', members }, bad: n > MAX_BATCH ? ['params.members'] : [], either: [], blocking: false }, nextId++)).problems)
    const batch = Array.from({ length: n }, (_, i) => ({ jsonrpc: '2.0', id: i, method: 'counter.get', params: { key: 'limits/counter' } }))
    const items = batch.map((): ResolvedCase => ({ method: 'counter.get', bad: [], either: [], blocking: false }))
    await http(Buffer.from(JSON.stringify(batch)), items)
  }
  problems.push(...await wsLimitCases(padded))
  fail(problems)
  expect(await getStatus(f.url, '/health')).toBe(200)
}

async function wsLimitCases (padded: (size: number) => Buffer): Promise<string[]> {
  const problems: string[] = []
  const ws = await WsConnection.open(f.url, () => {})
  try {
    count('limits')
    const reply = await ws.exchange(padded(LIMIT_BODY), false, true)
    if (!/"result":\{"peerId"/.test(reply?.text ?? '')) problems.push(`an 8 MiB frame was not served: ${preview(reply?.text ?? '', 200)}`)
    count('limits')
    await ws.exchange(padded(LIMIT_BODY + 1), true, false)
    const closed = await ws.closedByServer()
    if (closed.code !== 1009) problems.push(`a frame over 8 MiB closed the socket with ${closed.code}, expected 1009 (message too big)`)
  } finally {
    await ws.close()
  }
  return problems
}

// ---- the model of acknowledged writes

const MODEL_KEYS = [0, 1, 2, 3].map(i => `${MODEL_PREFIX}${i}`)
/** The last acknowledged write per model key: a value, or deleted (absent from the map: never written). */
const model = new Map<string, { found: true, value: unknown } | { found: false }>()

type ModelCommand =
  | { kind: 'put', slot: number, value: Tpl, context: 'none' | 'latest' | 'stale' | 'forged' }
  | { kind: 'refused', slot: number, how: 'other-key' | 'deep-value' | 'unknown-field' | 'empty-context' }
  | { kind: 'delete', slot: number, context: 'none' | 'latest' }
  | { kind: 'get', slot: number }
  | { kind: 'batch', slots: number[], values: Tpl[] }

const slot = fc.nat(MODEL_KEYS.length - 1)
const modelValue: fc.Arbitrary<Tpl> = fc.oneof(
  { weight: 8, arbitrary: plainValue },
  { weight: 1, arbitrary: fc.constantFrom('1e308', '-0', '5e-324', '9007199254740993').map(t => new RawJson(t)) }
)
const modelCommand: fc.Arbitrary<ModelCommand> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ kind: fc.constant('put' as const), slot, value: modelValue, context: fc.constantFrom('none' as const, 'latest' as const, 'stale' as const, 'forged' as const) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('refused' as const), slot, how: fc.constantFrom('other-key' as const, 'deep-value' as const, 'unknown-field' as const, 'empty-context' as const) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('delete' as const), slot, context: fc.constantFrom('none' as const, 'latest' as const) }) },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('get' as const), slot }) },
  { weight: 2, arbitrary: fc.uniqueArray(slot, { minLength: 1, maxLength: MODEL_KEYS.length }).chain(slots =>
    fc.array(modelValue, { minLength: slots.length, maxLength: slots.length }).map(values => ({ kind: 'batch' as const, slots, values }))) }
)

const FORGED_OK: ContextRef = { kind: 'forged', forge: { vv: [[{ kind: 'self' }, 3]], dots: [[{ kind: 'peer', id: '12D3KooWForgedPeerAAAA' }, 2]], padNodes: 0, padDots: 0 } }

function contextSym (key: string, how: 'latest' | 'stale' | 'forged' | 'other-key'): Sym {
  const ref: ContextRef = how === 'forged' ? FORGED_OK : how === 'stale' ? { kind: 'stale', pick: 0 } : how === 'other-key' ? { kind: 'other-key', pick: 0 } : { kind: 'latest' }
  return new Sym('params.context', ref, 'kv', key)
}

/** What a JSON value reads back as: the node stores JSON.stringify of what it parsed (-0 is 0, 9007199254740993 is 2^53). */
function asStored (v: Tpl): unknown {
  return JSON.parse(JSON.stringify(JSON.parse(jsonText(v))))
}

function modelCase (cmd: ModelCommand): MethodCase {
  const ok = (method: string, params: Tpl, bad: string[] = []): MethodCase => ({ method, params, bad, either: [], blocking: false })
  switch (cmd.kind) {
    case 'put': {
      const key = MODEL_KEYS[cmd.slot] as string
      return ok('kv.put', cmd.context === 'none' ? { key, value: cmd.value } : { key, value: cmd.value, context: contextSym(key, cmd.context) })
    }
    case 'refused': {
      const key = MODEL_KEYS[cmd.slot] as string
      switch (cmd.how) {
        case 'other-key': return ok('kv.put', { key, value: 'refused', context: contextSym(key, 'other-key') })
        case 'deep-value': return ok('kv.put', { key, value: new RawJson('['.repeat(600) + ']'.repeat(600)) }, ['params.value'])
        case 'unknown-field': return ok('kv.put', { key, value: 'refused', contxt: 'x' }, ['params.contxt'])
        case 'empty-context': return ok('kv.put', { key, value: 'refused', context: '' }, ['params.context'])
      }
      break
    }
    case 'delete': {
      const key = MODEL_KEYS[cmd.slot] as string
      return ok('kv.delete', cmd.context === 'none' ? { key } : { key, context: contextSym(key, 'latest') })
    }
    case 'get': return ok('kv.get', { key: MODEL_KEYS[cmd.slot] as string, all: true })
    case 'batch': return ok('kv.batch', { ops: cmd.slots.map((s, i) => ({ op: 'put', key: MODEL_KEYS[s] as string, value: cmd.values[i] as Tpl })) })
  }
  throw new Error('unreachable')
}

async function runModelCommand (cmd: ModelCommand): Promise<void> {
  const { reply, problems } = await callCase(f, modelCase(cmd), nextId++)
  fail(problems)
  const acked = reply !== undefined && 'result' in reply
  if (cmd.kind === 'get') { expectModel(cmd.slot, reply?.result); return }
  if (cmd.kind === 'refused') { if (acked) throw new Error(`a refused write was acknowledged: ${JSON.stringify(cmd)}`); return }
  // Every other command is valid: the oracle has already failed the run if it was refused.
  for (const k of MODEL_KEYS) f.written.kv.add(k)
  if (cmd.kind === 'put') model.set(MODEL_KEYS[cmd.slot] as string, { found: true, value: asStored(cmd.value) })
  if (cmd.kind === 'delete') model.set(MODEL_KEYS[cmd.slot] as string, { found: false })
  if (cmd.kind === 'batch') cmd.slots.forEach((s, i) => model.set(MODEL_KEYS[s] as string, { found: true, value: asStored(cmd.values[i] as Tpl) }))
}

/** A read of a model key shows its last acknowledged write (the newest version wins on a single node). */
function expectModel (slotIndex: number, result: unknown): void {
  const key = MODEL_KEYS[slotIndex] as string
  const want = model.get(key) ?? { found: false }
  const got = result as { found?: unknown, value?: unknown }
  const same = got.found === want.found && (!want.found || isDeepStrictEqual(got.value, want.value))
  if (!same) throw new Error(`${key}: read ${preview(JSON.stringify(result))}, but the last acknowledged write was ${preview(JSON.stringify(want))}`)
}

async function checkModelKey (slotIndex: number): Promise<void> {
  const { reply, problems } = await callCase(f, modelCase({ kind: 'get', slot: slotIndex }), nextId++)
  fail(problems)
  expectModel(slotIndex, reply?.result)
}

// ---- afterwards

type Obj = Record<string, unknown>

/** Calls `method` on each key, many per JSON-RPC batch; fails on any error or malformed result. */
async function readAll (method: string, keys: string[], params: Obj = {}): Promise<Map<string, Obj>> {
  const out = new Map<string, Obj>()
  for (let i = 0; i < keys.length; i += 200) {
    const chunk = keys.slice(i, i + 200)
    const cs = chunk.map((key): MethodCase => ({ method, params: { key, ...params } as Tpl, bad: [], either: [], blocking: false }))
    const reqs = cs.map(c => requestOf(c, f.pool, freshId()))
    const text = `[${reqs.map(r => jsonText(r.tpl)).join(',')}]`
    const res = await post(f.url, Buffer.from(text))
    const { answer, parsed } = answerForBytes(Buffer.from(text), reqs.map(r => r.resolved), 'http', f.selfId)
    fail(judge(f, answer, parsed, res.text).map(p => `${method} after fuzzing: ${p}`))
    const replies = JSON.parse(res.text) as Obj[]
    reqs.forEach((r, j) => out.set(chunk[j] as string, (replies.find(x => x.id === (r.tpl as Obj).id) as Obj).result as Obj))
  }
  return out
}

/** Pages through kv.scan / kv.conflicts to the end; a listing that never ends is a failure. */
async function listAll (method: 'kv.scan' | 'kv.conflicts', field: 'items' | 'keys', maxPages: number): Promise<unknown[]> {
  const all: unknown[] = []
  let cursor: string | undefined
  for (let page = 0; page < maxPages; page++) {
    const params: Tpl = cursor === undefined ? { limit: 1000 } : { limit: 1000, cursor }
    const { reply, problems } = await callCase(f, { method, params, bad: [], either: [], blocking: false }, nextId++)
    fail(problems)
    const result = reply?.result as Obj
    all.push(...result[field] as unknown[])
    cursor = result.cursor as string | undefined
    if (cursor === undefined) return all
  }
  throw new Error(`${method} still had a cursor after ${maxPages} pages`)
}

async function checkEverythingReadable (): Promise<void> {
  const kvKeys = [...f.written.kv]
  const reads = await readAll('kv.get', kvKeys, { all: true })
  const items = await listAll('kv.scan', 'items', kvKeys.length + 10) as Array<{ key: string, value: unknown }>
  const scanned = new Map(items.map(it => [it.key, it.value]))
  for (const key of scanned.keys()) if (!f.written.kv.has(key)) throw new Error(`kv.scan lists ${JSON.stringify(key)}, which no request wrote`)
  for (const [key, read] of reads) {
    if (read.found !== scanned.has(key)) throw new Error(`${JSON.stringify(key)}: kv.get found=${String(read.found)}, but kv.scan ${scanned.has(key) ? 'lists' : 'omits'} it`)
    if (read.found === true && !isDeepStrictEqual(read.value, scanned.get(key))) throw new Error(`${JSON.stringify(key)}: kv.get and kv.scan disagree on the value`)
  }
  const conflicted = await listAll('kv.conflicts', 'keys', kvKeys.length + 10) as string[]
  for (const key of conflicted) {
    if (reads.get(key)?.conflict !== true) throw new Error(`kv.conflicts lists ${JSON.stringify(key)}, whose kv.get shows no conflict`)
  }
  const counters = await readAll('counter.get', [...f.written.counters.keys()])
  for (const [key, c] of f.written.counters) {
    if (!c.tainted && counters.get(key)?.value !== c.sum) throw new Error(`counter ${JSON.stringify(key)} reads ${String(counters.get(key)?.value)}, acknowledged increments sum to ${c.sum}`)
  }
  await readAll('set.get', [...f.written.sets])
  console.log(`rpc fuzz: read back ${kvKeys.length} registers (${scanned.size} present, ${conflicted.length} in conflict), ${f.written.counters.size} counters, ${f.written.sets.size} sets`)
}

/** Log lines at level error or fatal: a method failing unexpectedly is logged there. */
function errorLogLines (stderr: string): string[] {
  return stderr.split('\n').filter(line => {
    try { return ['error', 'fatal'].includes(String((JSON.parse(line) as { level?: unknown }).level)) } catch { return false }
  })
}
