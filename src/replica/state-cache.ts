/**
 * Committed states of recently touched keys (encoded and decoded), so a hot key's next write
 * needs neither a LevelDB read nor a decode. Write-through: only the write path fills it, after
 * each commit, and every write goes through the write path, so it can never be stale. States
 * are immutable values, so sharing the decoded object is safe. `null` caches "absent".
 *
 * Two generations instead of an LRU list: new entries go to `young`; when it is full it becomes
 * `old` and the previous `old` is dropped whole. A hit in `old` is promoted. O(1) everywhere —
 * evicting from the front of a Map one by one made V8 skip ever more deleted slots.
 */
export interface CachedState {
  bytes: Uint8Array | null
  state: unknown
}

export class StateCache {
  private young = new Map<string, CachedState>()
  private old = new Map<string, CachedState>()
  private readonly generationSize: number

  /** Holds between `maxEntries / 2` and `maxEntries` entries. */
  constructor (maxEntries: number) {
    this.generationSize = Math.max(1, Math.floor(maxEntries / 2))
  }

  get (storeKey: string): CachedState | undefined {
    const hit = this.young.get(storeKey)
    if (hit !== undefined) return hit
    const aging = this.old.get(storeKey)
    if (aging !== undefined) this.set(storeKey, aging)
    return aging
  }

  set (storeKey: string, value: CachedState): void {
    this.old.delete(storeKey)
    this.young.set(storeKey, value)
    if (this.young.size >= this.generationSize) {
      this.old = this.young
      this.young = new Map()
    }
  }
}
