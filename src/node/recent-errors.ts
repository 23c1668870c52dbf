/**
 * The node's latest warnings and errors, for the console (`node.errors`): a pino destination
 * that keeps the last few records at level warn or above, bounded in count and size.
 */
const LEVELS: Record<string, ErrorRecord['level']> = { warn: 'warn', error: 'error', fatal: 'fatal' }

export interface ErrorRecord {
  /** ISO time. */
  time: string
  level: 'warn' | 'error' | 'fatal'
  msg: string
  /** The part of the node that logged it (anti-entropy, gossip, …), when it says. */
  component?: string
}

/** Records kept, and the longest message kept of each. */
export const RECENT_ERRORS_KEPT = 100
const MAX_MESSAGE_CHARS = 2000

export class RecentErrors {
  private readonly records: ErrorRecord[] = []

  /** pino's destination interface: one JSON line per call. */
  write (line: string): void {
    let rec: { level?: unknown, time?: unknown, msg?: unknown, component?: unknown, err?: { message?: unknown } }
    try {
      rec = JSON.parse(line)
    } catch {
      return
    }
    const level = typeof rec.level === 'string' ? LEVELS[rec.level] : typeof rec.level === 'number' && rec.level >= 40 ? (rec.level >= 60 ? 'fatal' : rec.level >= 50 ? 'error' : 'warn') : undefined
    if (level === undefined) return
    const detail = typeof rec.err?.message === 'string' ? `: ${rec.err.message}` : ''
    this.records.push({
      time: typeof rec.time === 'number' ? new Date(rec.time).toISOString() : String(rec.time ?? new Date().toISOString()),
      level,
      msg: `${String(rec.msg ?? '')}${detail}`.slice(0, MAX_MESSAGE_CHARS),
      ...(typeof rec.component === 'string' ? { component: rec.component } : {})
    })
    if (this.records.length > RECENT_ERRORS_KEPT) this.records.shift()
  }

  /** Oldest first. */
  list (): ErrorRecord[] {
    return [...this.records]
  }
}
