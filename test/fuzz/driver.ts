/**
 * Sends generated messages to the node and judges the answers: resolves a message's contexts
 * and cursors, builds its bytes, computes the answer due (oracle.ts), and records what the
 * node acknowledged — contexts and cursors for later requests, and every key a request may have
 * written, for the checks once the fuzzing is over.
 */
import { ABSENT, keyVerdict, type Envelope, type MethodCase, type Message } from './cases.js'
import { jsonText, mapSyms, preview, setOwn, type Tpl } from './json-text.js'
import { answerFor, matchReplies, parseErrorAnswer, type Answer, type ResolvedCase, type Transport } from './oracle.js'
import type { RefPool } from './refs.js'
import { post } from './transport.js'

type Obj = Record<string, unknown>
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v)

/** Keys any request may have written, and the sum of acknowledged increments per counter. */
export class Written {
  readonly kv = new Set<string>()
  readonly sets = new Set<string>()
  /** `tainted`: an increment whose outcome is unknown (a notification) touched the counter. */
  readonly counters = new Map<string, { sum: number, tainted: boolean }>()

  counter (key: string): { sum: number, tainted: boolean } {
    let c = this.counters.get(key)
    if (c === undefined) { c = { sum: 0, tainted: false }; this.counters.set(key, c) }
    return c
  }
}

export interface Fuzzing {
  url: string
  selfId: string
  pool: RefPool
  written: Written
  /** Answers seen per method and outcome (`kv.put -32602`), to show what the fuzzing reached. */
  outcomes: Map<string, number>
}

/** A method case made concrete: its Syms replaced by contexts and cursors from the pool. */
export function resolveCase (c: MethodCase, pool: RefPool): { params: Tpl | typeof ABSENT, resolved: ResolvedCase } {
  const bad = [...c.bad]
  const either = [...c.either]
  const params = c.params === ABSENT
    ? ABSENT
    : mapSyms(c.params, sym => {
      const r = pool.resolve(sym)
      if (r.verdict === 'bad') bad.push(sym.path)
      if (r.verdict === 'either') either.push(sym.path)
      return r.value
    })
  return { params, resolved: { method: c.method, bad, either, blocking: c.blocking } }
}

/** The request object of a case with a valid envelope; `id` ABSENT makes it a notification. */
export function requestOf (c: MethodCase, pool: RefPool, id: Tpl | typeof ABSENT): { tpl: Tpl, resolved: ResolvedCase } {
  const { params, resolved } = resolveCase(c, pool)
  const tpl: { [k: string]: Tpl } = { jsonrpc: '2.0' }
  if (id !== ABSENT) tpl.id = id
  tpl.method = c.method
  if (params !== ABSENT) setOwn(tpl, 'params', params)
  return { tpl, resolved }
}

/** An envelope as generated (possibly broken), with its Syms resolved and its case's verdicts final. */
function envelopeOf (env: Envelope, pool: RefPool): { tpl: Tpl, resolved?: ResolvedCase } {
  const c = env.case
  const bad = [...(c?.bad ?? [])]
  const either = [...(c?.either ?? [])]
  const tpl = mapSyms(env.tpl, sym => {
    const r = pool.resolve(sym)
    if (r.verdict === 'bad') bad.push(sym.path)
    if (r.verdict === 'either') either.push(sym.path)
    return r.value
  })
  return c === undefined ? { tpl } : { tpl, resolved: { method: c.method, bad, either, blocking: c.blocking } }
}

/** The text of a message and the case behind each of its requests (the single one, or per batch element). */
export function messageText (m: Message, pool: RefPool): { text: string, items: Array<ResolvedCase | undefined> } {
  switch (m.kind) {
    case 'raw': return { text: jsonText(m.tpl), items: [] }
    case 'single': {
      const e = envelopeOf(m.env, pool)
      return { text: jsonText(e.tpl), items: [e.resolved] }
    }
    case 'batch': {
      const es = m.envs.map(env => envelopeOf(env, pool))
      return { text: `[${es.map(e => jsonText(e.tpl)).join(',')}]`, items: es.map(e => e.resolved) }
    }
  }
}

const STRICT_UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true })

/** The answer due for a body: a parse error unless it is strict UTF-8 JSON. */
export function answerForBytes (bytes: Uint8Array, items: ReadonlyArray<ResolvedCase | undefined>, transport: Transport, selfId: string): { answer: Answer, parsed?: unknown } {
  let parsed: unknown
  try {
    parsed = JSON.parse(STRICT_UTF8.decode(bytes))
  } catch {
    return { answer: parseErrorAnswer }
  }
  return { answer: answerFor(parsed, items, transport, selfId), parsed }
}

/**
 * Judges a reply body against the answer due, records what it acknowledged, and returns the
 * problems found (empty when all is well).
 */
export function judge (f: Fuzzing, answer: Answer, parsed: unknown, replyText: string | undefined): string[] {
  let body: unknown
  if (replyText !== undefined) {
    try { body = JSON.parse(replyText) } catch { return [`a reply that is not JSON: ${preview(replyText, 200)}`] }
  }
  const { problems, pairs } = matchReplies(answer, body)
  const replied = new Map<unknown, Obj>(pairs.map(([e, r]) => [e.request, r]))
  for (const [e, r] of pairs) tally(f, e.request, r)
  for (const request of Array.isArray(parsed) ? parsed : [parsed]) {
    if (isObj(request)) record(f, request, replied.get(request))
  }
  return problems
}

/** What a request (answered with `reply`, or not answered: a notification) may have changed. */
function record (f: Fuzzing, request: Obj, reply: Obj | undefined): void {
  if (request.jsonrpc !== '2.0' || typeof request.method !== 'string') return
  const p = isObj(request.params) ? request.params : {}
  const key = keyVerdict(p.key) === 'ok' ? p.key as string : undefined
  const result = reply !== undefined && 'result' in reply ? reply.result as Obj : undefined
  switch (request.method) {
    case 'kv.put': case 'kv.delete': case 'kv.get':
      if (key === undefined) return
      if (request.method !== 'kv.get') f.written.kv.add(key)
      f.pool.recordContext('kv', key, result?.context)
      return
    case 'kv.batch': return recordBatch(f, p.ops, result)
    case 'counter.incr': case 'counter.get':
      if (key === undefined) return
      f.pool.recordContext('counter', key, result?.context)
      if (request.method === 'counter.incr') recordIncrement(f, key, p.by, reply, result)
      return
    case 'set.add': case 'set.remove': case 'set.get':
      if (key === undefined) return
      if (request.method !== 'set.get') f.written.sets.add(key)
      f.pool.recordContext('set', key, result?.context)
      return
    case 'kv.scan': case 'kv.conflicts':
      f.pool.recordCursor(result?.cursor)
  }
}

function recordBatch (f: Fuzzing, ops: unknown, result: Obj | undefined): void {
  if (!Array.isArray(ops)) return
  const contexts = Array.isArray(result?.contexts) ? result.contexts : []
  ops.forEach((op: unknown, i) => {
    if (!isObj(op) || keyVerdict(op.key) !== 'ok') return
    f.written.kv.add(op.key as string)
    f.pool.recordContext('kv', op.key as string, contexts[i])
  })
}

function recordIncrement (f: Fuzzing, key: string, by: unknown, reply: Obj | undefined, result: Obj | undefined): void {
  const c = f.written.counter(key)
  if (reply === undefined) { c.tainted = true; return }
  if (result === undefined) return
  // -0 and 1E2 arrive as numbers: the node adds what JSON.parse gives.
  c.sum += typeof by === 'number' ? by : 1
}

/** One case as a single HTTP request with an id: the reply, and the problems the oracle found. */
export async function callCase (f: Fuzzing, c: MethodCase, id: number): Promise<{ reply: Obj | undefined, problems: string[] }> {
  const { tpl, resolved } = requestOf(c, f.pool, id)
  const text = jsonText(tpl)
  const bytes = Buffer.from(text, 'utf8')
  const res = await post(f.url, bytes)
  const { answer, parsed } = answerForBytes(bytes, [resolved], 'http', f.selfId)
  const problems = judge(f, answer, parsed, res.text)
  if (res.status !== 200) problems.push(`HTTP ${res.status}`)
  let reply: Obj | undefined
  try { reply = JSON.parse(res.text) as Obj } catch { reply = undefined }
  return { reply, problems: problems.map(p => `${p}\n  request: ${preview(text)}\n  reply: ${preview(res.text)}`) }
}

function tally (f: Fuzzing, request: unknown, reply: Obj): void {
  const method = isObj(request) && typeof request.method === 'string' ? request.method.slice(0, 24) : '(no method)'
  const outcome = 'result' in reply ? 'result' : String((reply.error as Obj | undefined)?.code)
  const k = `${method} ${outcome}`
  f.outcomes.set(k, (f.outcomes.get(k) ?? 0) + 1)
}
