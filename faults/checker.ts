/**
 * The checker: the history against what every node holds after convergence (or the
 * deadline). Every rule is written to give no false positives: where the history cannot
 * decide (an "unknown" outcome, concurrent operations), the rule lets the value pass.
 *
 * Outcomes: ok (acknowledged), failed (a JSON-RPC error: the node says it did not apply it),
 * unknown (timeout, refused, reset: it may or may not have been applied — and, on a paused
 * node, applied long after the client gave up, so an unknown operation's effect may land at
 * any time after its start).
 *
 * A wipe (kill -9, the data directory deleted, a restart as a new member) loses what only that
 * node held. So in a schedule with a wipe, a plain write (no `replicas`) acknowledged by the
 * wiped node before the wipe is judged as unknown: it may have spread, or died with the disk.
 * A write acknowledged with `replicas` ≥ 2 was on two nodes' disks when it was acknowledged,
 * and one wipe cannot take both: it is judged as acknowledged, in every schedule.
 */
import type { Op } from './history.js'
import type { Snapshot } from './snapshot.js'

export const VIOLATION_KINDS = ['lost', 'undone', 'phantom', 'failedApplied', 'counter', 'set', 'divergent', 'batch', 'ryw', 'crash', 'session'] as const
export type ViolationKind = typeof VIOLATION_KINDS[number]

/** op: the operation the violation is about (lost put, undone delete, …), for explain.ts. */
export interface Violation { kind: ViolationKind, key?: string, nodes?: number[], op?: number, detail: string }

/** How much each rule actually judged, so that a pass is not a vacuous one. */
export interface CheckStats {
  putsChecked: number, deletesChecked: number, batchesChecked: number, counterBounds: number, membersMustHave: number, membersMustLack: number
  sessionReads?: number
  /** Of putsChecked, puts acknowledged with `replicas` ≥ 2. */
  durablePutsChecked?: number
  /** Plain writes acknowledged by a wiped node before its wipe, judged as unknown. */
  excusedByWipe?: number
}

/** A wipe: which node, and when its data directory was gone (the end of the fault's begin). */
export interface Wipe { node: number, at: number }

const WRITE_METHODS = new Set(['kv.put', 'kv.delete', 'kv.batch', 'counter.incr', 'set.add', 'set.remove'])
const durableOp = (op: Op): boolean => (op.params?.replicas === 'majority' || (typeof op.params?.replicas === 'number' && op.params.replicas >= 2))

/** The history as the rules judge it: a wiped node's plain acknowledged writes from before its wipe become unknown. */
function judgedOps (ops: readonly Op[], wipes: readonly Wipe[], stats: CheckStats): readonly Op[] {
  if (wipes.length === 0) return ops
  return ops.map(op => {
    if (op.outcome !== 'ok' || !WRITE_METHODS.has(op.method) || durableOp(op)) return op
    if (!wipes.some(w => w.node === op.node && op.end <= w.at)) return op
    stats.excusedByWipe = (stats.excusedByWipe ?? 0) + 1
    return { ...op, outcome: 'unknown', reason: 'wiped' }
  })
}

export interface CheckResult {
  stats: CheckStats
  counts: Record<ViolationKind, number>
  violations: Violation[]
  digestsEqual: boolean
}

const json = (v: unknown): string => JSON.stringify(v)
const iso = (t: number): string => new Date(t).toISOString()
/** The latest moment an operation can have taken effect: its answer if it got one, never bounded if unknown. */
const effectEnd = (op: Op): number => op.outcome === 'unknown' ? Infinity : op.end
const isUniqueKey = (k: string): boolean => /^[ubrd]\//.test(k)

interface Writes { ok: Map<string, string>, okOp: Map<string, Op>, unknown: Map<string, Set<string>>, failed: Map<string, Set<string>> }

/** What each register key was written with, by outcome (u/ b/ r/ keys are written once; h/ keys many times). */
function collectWrites (ops: readonly Op[]): Writes {
  const w: Writes = { ok: new Map(), okOp: new Map(), unknown: new Map(), failed: new Map() }
  const add = (m: Map<string, Set<string>>, k: string, v: string): void => { m.set(k, (m.get(k) ?? new Set()).add(v)) }
  for (const op of ops) {
    const puts: Array<{ key: string, value: unknown }> =
      op.method === 'kv.put' ? [op.params] : op.method === 'kv.batch' ? op.params.ops : []
    for (const p of puts) {
      // A hot key's acknowledged write goes with the unknown ones: it may or may not still show.
      if (op.outcome === 'ok' && isUniqueKey(p.key)) { w.ok.set(p.key, json(p.value)); w.okOp.set(p.key, op) } else add(op.outcome === 'failed' ? w.failed : w.unknown, p.key, json(p.value))
    }
  }
  return w
}

export function check (history: readonly Op[], snaps: readonly Snapshot[], crashDetail: readonly string[], wipes: readonly Wipe[] = []): CheckResult {
  const violations: Violation[] = []
  const v = (x: Violation): void => { violations.push(x) }
  const stats: CheckStats = { putsChecked: 0, deletesChecked: 0, batchesChecked: 0, counterBounds: 0, membersMustHave: 0, membersMustLack: 0, durablePutsChecked: 0, excusedByWipe: 0 }
  const ops = judgedOps(history, wipes, stats)
  const writes = collectWrites(ops)
  checkLostAndUndone(ops, snaps, writes, v, stats)
  checkPhantoms(snaps, writes, v)
  checkBatches(ops, snaps, v, stats)
  checkCounters(ops, snaps, v, stats)
  checkSets(ops, snaps, v, stats)
  checkDivergence(snaps, v)
  checkReadYourWrites(ops, v)
  stats.sessionReads = checkSessions(ops, v)
  for (const c of crashDetail) v({ kind: 'crash', detail: c })
  const counts = Object.fromEntries(VIOLATION_KINDS.map(k => [k, 0])) as Record<ViolationKind, number>
  for (const x of violations) counts[x.kind]++
  const digests = new Set(snaps.map(s => s.digest))
  return { stats, counts, violations, digestsEqual: digests.size === 1 }
}

/**
 * lost: an acknowledged unique put (kv.put or inside kv.batch) whose key is absent, or holds
 *   another value, on some node — unless a delete of the key was acknowledged or unknown
 *   (only the worker that put a key deletes it, after the put was acknowledged).
 * undone: an acknowledged delete whose key still shows a value on some node (unique keys are
 *   never written again after their delete).
 */
function checkLostAndUndone (ops: readonly Op[], snaps: readonly Snapshot[], writes: Writes, v: (x: Violation) => void, stats: CheckStats): void {
  const deleted = new Map<string, Op>()
  const mayBeDeleted = new Set<string>()
  for (const op of ops) {
    if (op.method !== 'kv.delete' || op.outcome === 'failed') continue
    mayBeDeleted.add(op.params.key)
    if (op.outcome === 'ok') deleted.set(op.params.key, op)
  }
  for (const [key, value] of writes.ok) {
    if (mayBeDeleted.has(key)) continue
    stats.putsChecked++
    if (durableOp(writes.okOp.get(key) as Op)) stats.durablePutsChecked = (stats.durablePutsChecked ?? 0) + 1
    const bad = snaps.filter(s => json(s.kv.get(key)) !== value)
    if (bad.length > 0) {
      const have = bad.map(s => `node ${s.node}: ${s.kv.has(key) ? json(s.kv.get(key)) : 'absent'}`).join(', ')
      const op = writes.okOp.get(key) as Op
      v({ kind: 'lost', key, nodes: bad.map(s => s.node), op: op.id, detail: `${op.method} op ${op.id} acknowledged ${value} on node ${op.node} at ${iso(op.end)}; ${have}` })
    }
  }
  for (const [key, op] of deleted) {
    stats.deletesChecked++
    const bad = snaps.filter(s => s.kv.has(key))
    if (bad.length > 0) v({ kind: 'undone', key, nodes: bad.map(s => s.node), op: op.id, detail: `delete op ${op.id} acknowledged by node ${op.node} at ${iso(op.end)}; still present on ${bad.map(s => s.node).join(',')}` })
  }
}

/**
 * phantom: a value that no put attempted (ok or unknown) — neither the winner shown by
 *   kv.scan nor any live sibling of a hot key. failedApplied: a value that only a put answered
 *   with a JSON-RPC error wrote (the node said "not applied", yet it is there).
 */
function checkPhantoms (snaps: readonly Snapshot[], writes: Writes, v: (x: Violation) => void): void {
  const classify = (key: string, value: string): 'ok' | 'phantom' | 'failedApplied' => {
    if (writes.ok.get(key) === value || writes.unknown.get(key)?.has(value) === true) return 'ok'
    return writes.failed.get(key)?.has(value) === true ? 'failedApplied' : 'phantom'
  }
  const seen = new Set<string>()
  const report = (node: number, key: string, value: string): void => {
    const c = classify(key, value)
    if (c === 'ok' || seen.has(`${key}\u0000${value}`)) return
    seen.add(`${key}\u0000${value}`)
    v({ kind: c, key, nodes: [node], detail: `node ${node} holds ${value}` })
  }
  for (const s of snaps) {
    for (const [key, value] of s.kv) report(s.node, key, json(value))
    for (const [key, sibs] of s.hot) for (const sib of sibs) if (sib.deleted !== true) report(s.node, key, json(sib.value))
  }
}

/** batch: on any node, some but not all of one kv.batch's puts (batch keys are never deleted). */
function checkBatches (ops: readonly Op[], snaps: readonly Snapshot[], v: (x: Violation) => void, stats: CheckStats): void {
  for (const op of ops) {
    if (op.method !== 'kv.batch') continue
    const puts = op.params.ops as Array<{ key: string, value: unknown }>
    stats.batchesChecked++
    for (const s of snaps) {
      const present = puts.filter(p => json(s.kv.get(p.key)) === json(p.value)).length
      if (present > 0 && present < puts.length) v({ kind: 'batch', key: puts[0]?.key, nodes: [s.node], op: op.id, detail: `batch op ${op.id} (${op.outcome}) on node ${op.node}: node ${s.node} holds ${present} of ${puts.length}` })
    }
  }
}

/**
 * counter: each node's value within [ok + negative unknown, ok + positive unknown], where ok
 * is the sum of acknowledged increments; failed ones count for nothing.
 */
function checkCounters (ops: readonly Op[], snaps: readonly Snapshot[], v: (x: Violation) => void, stats: CheckStats): void {
  const bounds = new Map<string, { ok: number, up: number, down: number }>()
  for (const op of ops) {
    if (op.method !== 'counter.incr' || op.outcome === 'failed') continue
    const b = bounds.get(op.params.key) ?? { ok: 0, up: 0, down: 0 }
    const by = op.params.by as number
    if (op.outcome === 'ok') b.ok += by
    else if (by > 0) b.up += by
    else b.down += by
    bounds.set(op.params.key, b)
  }
  for (const s of snaps) {
    for (const [key, value] of s.counters) {
      const b = bounds.get(key) ?? { ok: 0, up: 0, down: 0 }
      const lo = b.ok + b.down
      const hi = b.ok + b.up
      stats.counterBounds++
      if (value < lo || value > hi) v({ kind: 'counter', key, nodes: [s.node], detail: `node ${s.node}: ${value}, allowed [${lo}, ${hi}]` })
    }
  }
}

/**
 * set (add-wins observed-remove): a remove only removes the adds its node has seen.
 *   Must be present: some acknowledged add A such that no remove (ok or unknown) can have
 *     taken effect after A began — every remove (ok, unknown or failed) had answered before A
 *     started.
 *   Must be absent: some acknowledged remove R on node X such that every add of the member
 *     (ok, unknown or failed) was made on X and answered before R started: X had applied all of
 *     them, so R observed and removed them all. (A remove on another node may not have seen
 *     an add made during a partition; then the add rightly survives, so that case passes.)
 */
function checkSets (ops: readonly Op[], snaps: readonly Snapshot[], v: (x: Violation) => void, stats: CheckStats): void {
  const byMember = new Map<string, { adds: Op[], removes: Op[] }>()
  for (const op of ops) {
    // Failed ones are kept too, as "maybe applied within [start, end]": a node that applied an
    // operation and then answered with an error must not make this rule cry wolf.
    if (op.method !== 'set.add' && op.method !== 'set.remove') continue
    for (const m of op.params.members as string[]) {
      const k = `${op.params.key}\u0000${m}`
      const e = byMember.get(k) ?? { adds: [], removes: [] }
      ;(op.method === 'set.add' ? e.adds : e.removes).push(op)
      byMember.set(k, e)
    }
  }
  for (const [k, { adds, removes }] of byMember) {
    const [key, member] = k.split('\u0000') as [string, string]
    const keeper = adds.find(a => a.outcome === 'ok' && removes.every(r => effectEnd(r) <= a.start))
    const remover = keeper !== undefined
      ? undefined
      : removes.find(r => r.outcome === 'ok' && adds.every(a => a.node === r.node && effectEnd(a) <= r.start))
    if (keeper !== undefined) stats.membersMustHave++
    if (remover !== undefined) stats.membersMustLack++
    for (const s of snaps) {
      const has = (s.sets.get(key) ?? []).includes(member)
      if (keeper !== undefined && !has) v({ kind: 'set', key, nodes: [s.node], detail: `member ${member} missing on node ${s.node}; add op ${keeper.id} (node ${keeper.node}) acknowledged, no remove after it` })
      if (remover !== undefined && has) v({ kind: 'set', key, nodes: [s.node], detail: `member ${member} present on node ${s.node}; remove op ${remover.id} (node ${remover.node}) came after every add of it, all on that node` })
    }
  }
}

/** divergent: any key of any space whose value (hot keys: whole sibling list) differs between nodes. */
function checkDivergence (snaps: readonly Snapshot[], v: (x: Violation) => void): void {
  const spaces: Array<[string, (s: Snapshot) => Map<string, unknown>]> = [
    ['kv', s => s.kv], ['hot', s => s.hot], ['counter', s => s.counters], ['set', s => s.sets]
  ]
  for (const [space, get] of spaces) {
    const keys = new Set(snaps.flatMap(s => [...get(s).keys()]))
    for (const key of keys) {
      const views = new Map<string, number[]>()
      for (const s of snaps) {
        const m = get(s)
        const view = m.has(key) ? json(m.get(key)) : 'absent'
        views.set(view, [...(views.get(view) ?? []), s.node])
      }
      if (views.size > 1) {
        const detail = [...views].map(([view, nodes]) => `{${nodes.join(',')}}: ${view.length > 200 ? view.slice(0, 200) + '…' : view}`).join(' vs ')
        v({ kind: 'divergent', key: `${space}:${key}`, detail })
      }
    }
  }
}

/**
 * ryw: a kv.get {after: context} on another node that succeeded but did not return the value
 * the put wrote (r/ keys are written once, by that put only). A failure (ERR_AFTER_TIMEOUT
 * while cut off) or an unknown outcome is allowed.
 */
function checkReadYourWrites (ops: readonly Op[], v: (x: Violation) => void): void {
  const byId = new Map(ops.map(op => [op.id, op]))
  for (const get of ops) {
    if (get.kind !== 'ryw-get' || get.outcome !== 'ok' || get.ref === undefined) continue
    const put = byId.get(get.ref)
    if (put === undefined) continue
    const r = get.result as { found: boolean, value: unknown }
    if (r.found && json(r.value) === json(put.params.value)) continue
    v({ kind: 'ryw', key: put.params.key, nodes: [put.node, get.node], op: put.id, detail: `put op ${put.id} on node ${put.node}, then get op ${get.id} on node ${get.node} with its context returned ${r.found ? json(r.value) : 'not found'}` })
  }
}

/** The number a session client's value carries ("q:<client>:<n>"), or undefined for anything else. */
function sessionNumber (value: unknown): number | undefined {
  const m = typeof value === 'string' ? /^q:\d+:(\d+)$/.exec(value) : null
  return m === null ? undefined : Number(m[1])
}

/**
 * session: a session client (workload.ts sessionStep) read an older value of one of its keys
 *   than it had already seen or written — absent, or a smaller number. Each client's calls are
 *   sequential, so its history order is its order. Only acknowledged calls count (an unknown
 *   put may land any time and a later read may show it, which is newer, never older); a read
 *   that says conflict (siblings left by an unknown put) is not judged.
 */
export function checkSessions (ops: readonly Op[], v: (x: Violation) => void): number {
  const highest = new Map<string, { n: number, op: number }>()
  let judged = 0
  for (const op of ops) {
    if (op.session === undefined || op.outcome !== 'ok') continue
    const key = `${op.session}\u0000${String(op.params.key)}`
    const before = highest.get(key)
    if (op.kind === 'sess-put') {
      const n = sessionNumber(op.params.value) ?? 0
      if (before === undefined || n > before.n) highest.set(key, { n, op: op.id })
      continue
    }
    if (op.kind !== 'sess-get') continue
    const r = op.result as { found: boolean, value: unknown, conflict: boolean }
    if (r.conflict) continue
    judged++
    const n = r.found ? sessionNumber(r.value) ?? 0 : 0
    if (before !== undefined && n < before.n) {
      v({ kind: 'session', key: op.params.key, nodes: [op.node], op: op.id, detail: `session client ${op.session}: get op ${op.id} on node ${op.node} returned ${r.found ? json(r.value) : 'not found'} after op ${before.op} had seen or written number ${before.n}` })
    }
    if (before === undefined || n > before.n) highest.set(key, { n, op: op.id })
  }
  return judged
}
