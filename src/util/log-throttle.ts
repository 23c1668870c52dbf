/**
 * At most one log line per key and interval: a peer that flaps, or floods us with states we
 * refuse, must not flood the log. What was held back is counted and told with the next line.
 * Pure: the clock is injected.
 */
export class LogThrottle {
  private readonly last = new Map<string, { atMs: number, held: number }>()

  constructor (private readonly intervalMs: number, private readonly maxKeys = 1000, private readonly now: () => number = Date.now) {}

  /**
   * Whether to log for `key` now; when yes, how many lines for it were held back since the last
   * one (0 the first time).
   */
  take (key: string, now = this.now()): { log: true, held: number } | { log: false } {
    const entry = this.last.get(key)
    if (entry !== undefined && now - entry.atMs < this.intervalMs) {
      entry.held++
      return { log: false }
    }
    const held = entry?.held ?? 0
    this.last.delete(key)
    this.last.set(key, { atMs: now, held: 0 })
    // The oldest keys go first; forgetting one only means its next line is not held back.
    if (this.last.size > this.maxKeys) this.last.delete(this.last.keys().next().value as string)
    return { log: true, held }
  }
}
