/**
 * Keys that changed lately, for anti-entropy to leave to gossip (docs/protocol.md, "Fresh
 * changes"). Under a constant write load two trees always differ by the writes in flight, and
 * without this every scheduled exchange would send again the states gossip is delivering.
 *
 * A key's *run* of changes starts with a change that follows a quiet spell of at least the
 * window and goes on while changes come less than the window apart. Anti-entropy may skip a key
 * only while its run is younger than the window, so a key written without pause is not skipped
 * for ever: once its run is older than the window, every exchange sends it again.
 *
 * Pure and bounded: at most `maxKeys` runs are remembered; past that the oldest are forgotten,
 * which only means they are sent (never skipped), the safe side.
 */

interface Run {
  /** When the run began. */
  first: number
  /** The run's latest change. */
  last: number
}

export class RecentChanges {
  /** In the order of each run's latest change, oldest first (a touch moves a key to the end). */
  private readonly runs = new Map<string, Run>()

  constructor (readonly windowMs: number, readonly maxKeys: number) {
    if (!(Number.isSafeInteger(windowMs) && windowMs >= 0)) throw new RangeError(`windowMs must be an integer ≥ 0, not ${windowMs}`)
    if (!(Number.isSafeInteger(maxKeys) && maxKeys >= 1)) throw new RangeError(`maxKeys must be a positive integer, not ${maxKeys}`)
  }

  /** Number of runs remembered (at most maxKeys). */
  get size (): number {
    return this.runs.size
  }

  /** Records a change of `storeKey` at `now`. */
  touch (storeKey: string, now: number): void {
    if (this.windowMs === 0) return
    const run = this.runs.get(storeKey)
    if (run !== undefined) {
      this.runs.delete(storeKey)
      // A clock that went back is no evidence of a quiet spell: the run goes on.
      if (now - run.last < this.windowMs) {
        run.last = Math.max(run.last, now)
        this.runs.set(storeKey, run)
        return
      }
    }
    this.runs.set(storeKey, { first: now, last: now })
    this.prune(now)
  }

  /** When the key's current run began, or undefined if it has not changed within the window. */
  runStart (storeKey: string, now: number): number | undefined {
    const run = this.runs.get(storeKey)
    if (run === undefined || now - run.last >= this.windowMs) return undefined
    return run.first
  }

  /** Forgets runs that ended a window ago, and the oldest past maxKeys. */
  private prune (now: number): void {
    for (const [storeKey, run] of this.runs) {
      if (this.runs.size <= this.maxKeys && now - run.last < this.windowMs) return
      this.runs.delete(storeKey)
    }
  }
}
