/**
 * Which faults were acting on an operation's node while it ran: appended to each violation
 * that names an operation, so a report can say "acknowledged during a +300 s clock jump of
 * that node" without anyone reading the event log by hand. A fault counts if it had begun
 * (its action started) before the operation answered and had not healed before it started;
 * network faults count when the node is one of the nodes they cut.
 */
import type { CheckResult } from './checker.js'
import type { Op } from './history.js'
import type { InjectEvent } from './inject.js'
import type { Fault } from './schedule.js'

export function activeFaults (op: Op, schedule: readonly Fault[], events: readonly InjectEvent[]): string[] {
  const out: string[] = []
  for (const f of schedule) {
    const begin = events.find(e => e.fault === f.id && e.phase === 'begin')
    if (begin === undefined || begin.t > op.end) continue
    const heal = events.find(e => e.fault === f.id && e.phase === 'heal')
    if (heal !== undefined && (heal.done ?? heal.t) < op.start) continue
    const touches = f.drops !== undefined ? f.drops.some(d => d.from === op.node || d.to === op.node) : f.nodes[0] === op.node
    if (touches) out.push(`${f.kind} #${f.id} (${f.what})`)
  }
  return out
}

export function annotate (result: CheckResult, ops: readonly Op[], schedule: readonly Fault[], events: readonly InjectEvent[]): void {
  const byId = new Map(ops.map(op => [op.id, op]))
  for (const v of result.violations) {
    const op = v.op === undefined ? undefined : byId.get(v.op)
    if (op === undefined) continue
    const active = activeFaults(op, schedule, events)
    v.detail += active.length > 0 ? ` [node ${op.node} was under: ${active.join('; ')}]` : ` [no fault on node ${op.node} then]`
  }
}
