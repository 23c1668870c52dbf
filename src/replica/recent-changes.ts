/**
 * Keys that changed lately by a path gossip carries to every node (a local write, a change
 * received by gossip), for anti-entropy to leave to gossip (docs/protocol.md, "Fresh changes").
 * Under a constant write load two trees always differ by the writes in flight, and without this
 * every scheduled exchange would send again the states gossip is delivering.
 *
 * A key's *run* of changes starts with a change that follows a quiet spell of at least
 * `runGapMs` and goes on while changes come closer together than that. Anti-entropy may skip a
 * key only while its run is younger than the fresh window, so:
 * - a key written without pause (closer than the gap) is fresh only in its run's first window,
 *   then sent by every exchange;
 * - a key written now and then (further apart than the gap) is fresh for a window after each
 *   write and then not, for longer than one anti-entropy interval (the gap is two windows plus
 *   the longest interval, see freshRunGapMs), so an exchange falls in every quiet spell.
 *
 * Pure and bounded in count and in key bytes: past either bound the oldest runs are forgotten,
 * which only means those keys are sent (never skipped), the safe side.
 */

interface Run {
  /** When the run began. */
  first: number
  /** The run's latest change. */
  last: number
}

/**
 * The quiet spell that ends a run: two fresh windows and the longest wait between two
 * scheduled exchanges (the interval plus its 20 % jitter).
 */
export function freshRunGapMs (freshMs: number, aeIntervalMs: number): number {
  return 2 * freshMs + Math.ceil(1.2 * aeIntervalMs)
}

export interface RecentChangesInit {
  /** How long a run counts as fresh; 0 records nothing. */
  windowMs: number
  /** A quiet spell this long ends a run (≥ windowMs). */
  runGapMs: number
  /** Most runs remembered. */
  maxKeys: number
  /** Most bytes of store keys remembered (UTF-16 code units, about bytes). */
  maxKeyBytes: number
}

export class RecentChanges {
  /** In the order of each run's latest change, oldest first (a touch moves a key to the end). */
  private readonly runs = new Map<string, Run>()
  private keyBytes = 0

  constructor (private readonly init: RecentChangesInit) {
    const { windowMs, runGapMs, maxKeys, maxKeyBytes } = init
    if (!(Number.isSafeInteger(windowMs) && windowMs >= 0)) throw new RangeError(`windowMs must be an integer ≥ 0, not ${windowMs}`)
    if (!(Number.isSafeInteger(runGapMs) && runGapMs >= windowMs)) throw new RangeError(`runGapMs must be an integer ≥ windowMs, not ${runGapMs}`)
    if (!(Number.isSafeInteger(maxKeys) && maxKeys >= 1)) throw new RangeError(`maxKeys must be a positive integer, not ${maxKeys}`)
    if (!(Number.isSafeInteger(maxKeyBytes) && maxKeyBytes >= 1)) throw new RangeError(`maxKeyBytes must be a positive integer, not ${maxKeyBytes}`)
  }

  /** Number of runs remembered (at most maxKeys). */
  get size (): number {
    return this.runs.size
  }

  /** Records a change of `storeKey` at `now`. */
  touch (storeKey: string, now: number): void {
    if (this.init.windowMs === 0) return
    const run = this.runs.get(storeKey)
    if (run !== undefined) {
      this.runs.delete(storeKey)
      // A clock that went back is no evidence of a quiet spell: the run goes on.
      if (now - run.last < this.init.runGapMs) {
        run.last = Math.max(run.last, now)
        this.runs.set(storeKey, run)
        return
      }
      this.keyBytes -= storeKey.length
    }
    this.runs.set(storeKey, { first: now, last: now })
    this.keyBytes += storeKey.length
    this.prune(now)
  }

  /** When the key's current run began, or undefined if it has none (changed longer ago than the gap). */
  runStart (storeKey: string, now: number): number | undefined {
    const run = this.runs.get(storeKey)
    if (run === undefined || now - run.last >= this.init.runGapMs) return undefined
    return run.first
  }

  /** Forgets runs that ended, and the oldest past either bound. */
  private prune (now: number): void {
    for (const [storeKey, run] of this.runs) {
      const over = this.runs.size > this.init.maxKeys || this.keyBytes > this.init.maxKeyBytes
      if (!over && now - run.last < this.init.runGapMs) return
      this.runs.delete(storeKey)
      this.keyBytes -= storeKey.length
    }
  }
}
