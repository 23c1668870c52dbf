/**
 * The history: every operation the workload made, with its node, params, start and end
 * (the orchestrator's wall clock, which no fault skews) and outcome. The interval
 * [start, end] contains the moment the node really executed it, which is what the checker's
 * real-time reasoning relies on. Written as JSON Lines as it happens, so a history survives
 * even a harness that dies mid-run.
 */
import { createWriteStream, readFileSync, type WriteStream } from 'node:fs'
import type { Outcome } from './agent-client.js'

export type OpKind = 'put' | 'delete' | 'hot' | 'incr' | 'sadd' | 'srem' | 'batch' | 'ryw-put' | 'ryw-get' | 'sess-put' | 'sess-get' | 'dput'

export interface Op {
  id: number
  node: number
  worker: number
  kind: OpKind
  method: string
  params: any
  start: number
  end: number
  outcome: 'ok' | 'failed' | 'unknown'
  result?: any
  error?: any
  reason?: string
  /** ryw-get: the id of the ryw-put it reads. */
  ref?: number
  /** sess-put / sess-get: the session client that made it (workload.ts sessionClient). */
  session?: number
}

export class History {
  readonly ops: Op[] = []
  private readonly out: WriteStream | undefined
  private nextId = 1

  constructor (file?: string) {
    this.out = file === undefined ? undefined : createWriteStream(file)
  }

  record (base: Omit<Op, 'id' | 'outcome' | 'result' | 'error' | 'reason'>, o: Outcome): Op {
    const op: Op = { id: this.nextId++, ...base, outcome: o.kind }
    if (o.kind === 'ok') op.result = o.result
    else if (o.kind === 'failed') op.error = o.error
    else op.reason = o.reason
    this.ops.push(op)
    this.out?.write(JSON.stringify(op) + '\n')
    return op
  }

  async close (): Promise<void> {
    if (this.out === undefined) return
    await new Promise<void>(resolve => { this.out?.end(resolve) })
  }

  counts (): { ok: number, failed: number, unknown: number } {
    const c = { ok: 0, failed: 0, unknown: 0 }
    for (const op of this.ops) c[op.outcome]++
    return c
  }

  /** Why operations did not succeed: "failed ERR_…" / "unknown timeout" → count, for the result file. */
  reasons (): Record<string, number> {
    const out: Record<string, number> = {}
    for (const op of this.ops) {
      if (op.outcome === 'ok') continue
      const why = op.outcome === 'failed' ? String(op.error?.data?.code ?? op.error?.code ?? '?') : String(op.reason)
      const k = `${op.outcome} ${why}`
      out[k] = (out[k] ?? 0) + 1
    }
    return out
  }

  static load (file: string): Op[] {
    return readFileSync(file, 'utf8').split('\n').filter(l => l !== '').map(l => JSON.parse(l) as Op)
  }
}
